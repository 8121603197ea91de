package flash.integration;

import flash.config.Architecture;
import flash.testing.AllArchs;
import flash.testing.Fixtures;
import flash.testing.Http;
import flash.testing.Multipart;
import flash.testing.SharedServers;
import flash.testing.TestServer;

import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Byte ranges (RFC 9110 14) on an in-memory file and on a large file sent with sendfile. */
class RangeTest {
    private record Doc(String path, byte[] bytes) {
        int len() { return bytes.length; }
        byte[] slice(long first, long last) { return Arrays.copyOfRange(bytes, (int) first, (int) last + 1); }
    }

    private static final List<Doc> DOCS = List.of(new Doc("/small.bin", Fixtures.SMALL), new Doc("/large.bin", Fixtures.LARGE));

    @AllArchs
    void singleRange(Architecture arch) throws Exception {
        TestServer s = SharedServers.get(arch);
        try (HttpClient c = Http.client()) {
            for (Doc d : DOCS) {
                assertPartial(Http.get(c, s.uri(d.path), "Range", "bytes=10-99"), d, 10, 99);
                assertPartial(Http.get(c, s.uri(d.path), "Range", "bytes=0-"), d, 0, d.len() - 1);
                assertPartial(Http.get(c, s.uri(d.path), "Range", "bytes=-500"), d, d.len() - 500, d.len() - 1);
                assertPartial(Http.get(c, s.uri(d.path), "Range", "bytes=" + (d.len() - 10) + "-" + (d.len() + 1000)),
                        d, d.len() - 10, d.len() - 1); // past the end: clamped
                int mid = d.len() / 2;                      // spans the sendfile chunk boundary for the large file
                assertPartial(Http.get(c, s.uri(d.path), "Range", "bytes=" + (mid - 3000) + "-" + (mid + 70_000)), d,
                        mid - 3000, Math.min(d.len() - 1, mid + 70_000));
            }
        }
    }

    @AllArchs
    void severalRangesGiveMultipartByteranges(Architecture arch) throws Exception {
        TestServer s = SharedServers.get(arch);
        try (HttpClient c = Http.client()) {
            for (Doc d : DOCS) {
                long[][] want = {{0, 9}, {100, 199}, {d.len() - 5, d.len() - 1}};
                HttpResponse<byte[]> r = Http.get(c, s.uri(d.path), "Range", "bytes=0-9, 100-199,-5");
                assertThat(r.statusCode()).isEqualTo(206);
                assertThat(r.headers().firstValueAsLong("Content-Length")).hasValue(r.body().length);
                String type = r.headers().firstValue("Content-Type").orElseThrow();
                List<Multipart.Part> parts = Multipart.parse(r.body(), Multipart.boundary(type));
                assertThat(parts).hasSize(want.length);
                for (int i = 0; i < want.length; i++) {
                    Multipart.Part p = parts.get(i);
                    assertThat(p.headers().get("content-type")).isEqualTo("application/octet-stream");
                    assertThat(new long[] {p.first(), p.last(), p.total()}).containsExactly(want[i][0], want[i][1], d.len());
                    assertThat(p.data()).isEqualTo(d.slice(want[i][0], want[i][1]));
                }
            }
        }
    }

    @AllArchs
    void unsatisfiableRangeGives416(Architecture arch) throws Exception {
        TestServer s = SharedServers.get(arch);
        try (HttpClient c = Http.client()) {
            for (Doc d : DOCS) {
                HttpResponse<byte[]> r = Http.get(c, s.uri(d.path), "Range", "bytes=" + d.len() + "-");
                assertThat(r.statusCode()).isEqualTo(416);
                assertThat(r.headers().firstValue("Content-Range")).hasValue("bytes */" + d.len());
            }
        }
    }

    @AllArchs
    void ifRangeDecidesBetweenPartAndWhole(Architecture arch) throws Exception {
        TestServer s = SharedServers.get(arch);
        try (HttpClient c = Http.client()) {
            for (Doc d : DOCS) {
                String etag = Http.get(c, s.uri(d.path)).headers().firstValue("ETag").orElseThrow();
                assertPartial(Http.get(c, s.uri(d.path), "Range", "bytes=5-15", "If-Range", etag), d, 5, 15);
                HttpResponse<byte[]> stale = Http.get(c, s.uri(d.path), "Range", "bytes=5-15", "If-Range", "\"stale\"");
                assertThat(stale.statusCode()).isEqualTo(200);
                assertThat(stale.body()).isEqualTo(d.bytes);
            }
        }
    }

    private static void assertPartial(HttpResponse<byte[]> r, Doc d, long first, long last) {
        assertThat(r.statusCode()).as("%s %s", d.path, r.request().headers().map()).isEqualTo(206);
        assertThat(r.headers().firstValue("Content-Range")).hasValue("bytes " + first + "-" + last + "/" + d.len());
        assertThat(r.headers().firstValueAsLong("Content-Length")).hasValue(last - first + 1);
        assertThat(r.body()).isEqualTo(d.slice(first, last));
    }
}
