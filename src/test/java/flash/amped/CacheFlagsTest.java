package flash.amped;

import static org.assertj.core.api.Assertions.assertThat;

import flash.config.Architecture;
import flash.dispatch.Server;
import flash.pipeline.BodyPath;
import flash.testing.RawClient;
import flash.testing.TestServer;

import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.io.TempDir;

/** The three caches, their off switches, their bounds, and the counters that prove both. */
class CacheFlagsTest {
    @TempDir Path root;

    static Stream<Architecture> archs() {
        return TestServer.archs().stream().filter(a -> a == Architecture.AMPED || a == Architecture.SPED);
    }

    private static void getN(int port, String path, int n, byte[] expected) throws Exception {
        try (RawClient c = new RawClient(port)) {
            for (int i = 0; i < n; i++) {
                RawClient.Response r = c.send("GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n").read();
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.body()).isEqualTo(expected);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("archs")
    void pathCacheOnTranslatesOnceOffTranslatesEveryTime(Architecture arch) throws Exception {
        byte[] data = Http.write(root.resolve("a.txt"), 2000, 1);
        try (TestServer on = TestServer.start(root, arch, c -> c.withRevalidateAfter(Duration.ofMinutes(5)))) {
            getN(on.port(), "/a.txt", 10, data);
            assertThat(on.server().metrics().diskTasks()).isEqualTo(1);
            assertThat(on.server().context().pathCache().hits.sum()).isEqualTo(9);
        }
        try (TestServer off = TestServer.start(root, arch, c -> c.withPathCache(0))) {
            getN(off.port(), "/a.txt", 10, data);
            assertThat(off.server().metrics().diskTasks()).isEqualTo(10);
            assertThat(off.server().context().pathCache()).isNull();
        }
    }

    @ParameterizedTest
    @MethodSource("archs")
    void headerCacheOffEncodesEveryHead(Architecture arch) throws Exception {
        byte[] data = Http.write(root.resolve("a.txt"), 2000, 1);
        try (TestServer on = TestServer.start(root, arch)) {
            getN(on.port(), "/a.txt", 10, data);
            assertThat(on.server().context().headerCache().hits.sum()).isEqualTo(9);
        }
        try (TestServer off = TestServer.start(root, arch, c -> c.withHeaderCache(false))) {
            getN(off.port(), "/a.txt", 10, data);
            assertThat(off.server().context().headerCache().hits.sum()).isZero();
            assertThat(off.server().context().headerCache().misses.sum()).isZero();
        }
    }

    @ParameterizedTest
    @MethodSource("archs")
    void fileCacheOffMapsNothingAndHoldsNoBytes(Architecture arch) throws Exception {
        byte[] small = Http.write(root.resolve("s.txt"), 2000, 1);
        byte[] medium = Http.write(root.resolve("m.bin"), 300 * 1024, 2);
        try (TestServer on = TestServer.start(root, arch)) {
            on.server().context().responder().bodyPath(BodyPath.MAPPED); // plain sockets would send m.bin by sendfile
            getN(on.port(), "/s.txt", 3, small);
            getN(on.port(), "/m.bin", 3, medium);
            assertThat(on.server().context().pathCache().bytesHeld()).isEqualTo(2000);
            assertThat(on.server().context().chunkCache().bytesMapped()).isEqualTo(300 * 1024);
            assertThat(on.server().context().chunkCache().hits.sum()).isEqualTo(2);
        }
        try (TestServer off = TestServer.start(root, arch, c -> c.withFileCache(false).withStatusPath("/status"))) {
            getN(off.port(), "/s.txt", 3, small);
            getN(off.port(), "/m.bin", 3, medium);
            assertThat(off.server().context().pathCache().bytesHeld()).isZero();
            assertThat(off.server().context().chunkCache()).isNull();
            assertThat(Http.get(off.port(), "/status").bodyText())
                    .contains("flash_cache_hits_total{cache=\"file\"} 0", "flash_mapped_cache_bytes 0");
        }
    }

    @ParameterizedTest
    @MethodSource("archs")
    void pathCacheNeverExceedsItsBound(Architecture arch) throws Exception {
        for (int i = 0; i < 20; i++) Http.write(root.resolve("f" + i), 100, i);
        try (TestServer s = TestServer.start(root, arch, c -> c.withPathCache(5))) {
            try (RawClient c = new RawClient(s.port())) {
                for (int i = 0; i < 40; i++) {
                    String path = i % 2 == 0 ? "/f" + (i / 2) : "/missing" + i; // files and negative entries
                    c.send("GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n").read();
                    assertThat(s.server().context().pathCache().size()).isLessThanOrEqualTo(5);
                }
            }
            assertThat(s.server().context().pathCache().evictions.sum()).isPositive();
        }
    }

    @ParameterizedTest
    @MethodSource("archs")
    void cachedHeadsGetTheCurrentDate(Architecture arch) throws Exception {
        byte[] data = Http.write(root.resolve("a.txt"), 2000, 1);
        try (TestServer s = TestServer.start(root, arch, c -> c.withRevalidateAfter(Duration.ofMinutes(5)));
             RawClient c = new RawClient(s.port())) {
            String first = c.send("GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n").read().header("Date");
            String[] later = new String[1];
            assertThat(Http.eventually(5000, () -> {
                RawClient.Response r = c.send("GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n").read();
                assertThat(r.body()).isEqualTo(data);
                later[0] = r.header("Date");
                return !later[0].equals(first);
            })).isTrue();
            // the new Date came from the cached head (patched), not from re-encoding it
            assertThat(s.server().context().headerCache().misses.sum()).isEqualTo(1);
            assertThat(flash.http.HttpDate.parse(later[0])).isGreaterThan(flash.http.HttpDate.parse(first));
        }
    }

    @ParameterizedTest
    @MethodSource("archs")
    void statusPageIsPrometheusText(Architecture arch) throws Exception {
        byte[] data = Http.write(root.resolve("a.txt"), 2000, 1);
        try (TestServer s = TestServer.start(root, arch, c -> c.withStatusPath("/status"))) {
            getN(s.port(), "/a.txt", 2, data);
            RawClient.Response r = Http.get(s.port(), "/status");
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("Content-Type")).startsWith("text/plain; version=0.0.4");
            String text = r.bodyText();
            assertThat(text).contains(
                    "flash_requests_total{loop=\"flash-loop-0\"}", "flash_requests_total{loop=\"flash-loop-1\"}",
                    "flash_bytes_sent_total{loop=", "# TYPE flash_requests_total counter",
                    "flash_cache_hits_total{cache=\"path\"} 1", "flash_cache_misses_total{cache=\"path\"}",
                    "flash_cache_hits_total{cache=\"header\"} 1", "flash_cache_hits_total{cache=\"file\"}",
                    "flash_cache_misses_total{cache=\"file\"}", "flash_helper_queue_depth ", "flash_helpers_busy ",
                    "flash_residency_misses_total{loop=", "flash_open_connections ");
            // every sample line is "name{labels} value" or "name value"
            for (String line : text.lines().filter(l -> !l.startsWith("#")).toList()) {
                assertThat(line).matches("[a-z_]+(\\{[^}]*\\})? -?[0-9]+");
            }
            Server srv = s.server();
            assertThat(text).contains("flash_helpers " + (arch == Architecture.AMPED ? 4 : 0));
            assertThat(srv.metrics().requests()).isGreaterThanOrEqualTo(3);
        }
    }
}
