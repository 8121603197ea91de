package flash.proxy;

import flash.config.Architecture;
import flash.config.ProxyRoute;
import flash.testing.AllArchs;
import flash.testing.ArchServers;
import flash.testing.Fixtures;
import flash.testing.NginxUpstream;
import flash.testing.RawClient;
import flash.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real nginx serving static files (with sendfile) behind {@code --proxy /n/=http://nginx/}: bodies arrive
 * byte-identical, and Range, HEAD and conditional requests work end to end. Skipped where nginx is not installed.
 */
class ProxyNginxTest {
    private static final byte[] ONE_K = Fixtures.random(1024, 21);
    private static final byte[] ONE_M = Fixtures.random(1 << 20, 22);
    private static final byte[] EIGHT_M = Fixtures.random(8 << 20, 23);
    private static NginxUpstream nginx;
    private static ArchServers servers;

    @BeforeAll
    static void start() throws Exception {
        nginx = NginxUpstream.start(); // an assumption: the class is skipped without nginx
        Files.write(nginx.root().resolve("1k.bin"), ONE_K);
        Files.write(nginx.root().resolve("1m.bin"), ONE_M);
        Files.write(nginx.root().resolve("8m.bin"), EIGHT_M);
        Files.writeString(nginx.root().resolve("hello.txt"), Fixtures.HELLO);
        String url = nginx.url();
        servers = new ArchServers(arch -> TestServer.start(Fixtures.root(), arch,
                c -> c.withProxies(List.of(ProxyRoute.parse("/n/=" + url + "/")))));
    }

    @AfterAll
    static void stop() {
        if (servers != null) servers.close();
        if (nginx != null) nginx.close();
    }

    private static RawClient client(Architecture arch) throws Exception { return new RawClient(servers.get(arch).port()); }

    private static RawClient.Response get(RawClient c, String path, String... headers) throws Exception {
        StringBuilder req = new StringBuilder("GET " + path + " HTTP/1.1\r\nHost: t\r\n");
        for (String h : headers) req.append(h).append("\r\n");
        c.send(req.append("\r\n").toString());
        return c.read();
    }

    @AllArchs
    void filesArriveByteIdenticalOnOneKeepAliveConnection(Architecture arch) throws Exception {
        try (RawClient c = client(arch)) {
            for (int round = 0; round < 2; round++) { // the second round over pooled nginx connections
                for (var f : List.of(new Object[] {"1k.bin", ONE_K}, new Object[] {"1m.bin", ONE_M},
                        new Object[] {"8m.bin", EIGHT_M})) {
                    RawClient.Response r = get(c, "/n/" + f[0]);
                    byte[] want = (byte[]) f[1];
                    assertThat(r.status()).as("%s", f[0]).isEqualTo(200);
                    assertThat(r.header("Content-Length")).isEqualTo(Integer.toString(want.length));
                    assertThat(r.header("Content-Type")).isEqualTo("application/octet-stream");
                    assertThat(r.header("ETag")).isNotNull();
                    assertThat(r.header("Last-Modified")).isNotNull();
                    assertThat(r.header("Via")).isEqualTo("1.1 flash");
                    assertThat(r.header("Server")).as("Server is the proxy's own").isEqualTo("flash");
                    assertThat(Arrays.equals(r.body(), want)).as("%s byte-identical", f[0]).isTrue();
                }
            }
            RawClient.Response txt = get(c, "/n/hello.txt");
            assertThat(txt.header("Content-Type")).isEqualTo("text/plain");
            assertThat(txt.bodyText()).isEqualTo(Fixtures.HELLO);
            assertThat(get(c, "/n/missing").status()).isEqualTo(404);
        }
    }

    @AllArchs
    void rangeRequestsPassThrough(Architecture arch) throws Exception {
        try (RawClient c = client(arch)) {
            RawClient.Response mid = get(c, "/n/1m.bin", "Range: bytes=100-199");
            assertThat(mid.status()).isEqualTo(206);
            assertThat(mid.header("Content-Range")).isEqualTo("bytes 100-199/" + ONE_M.length);
            assertThat(mid.body()).isEqualTo(Arrays.copyOfRange(ONE_M, 100, 200));

            RawClient.Response suffix = get(c, "/n/8m.bin", "Range: bytes=-70000");
            assertThat(suffix.status()).isEqualTo(206);
            assertThat(suffix.header("Content-Range"))
                    .isEqualTo("bytes " + (EIGHT_M.length - 70000) + "-" + (EIGHT_M.length - 1) + "/" + EIGHT_M.length);
            assertThat(suffix.body()).isEqualTo(Arrays.copyOfRange(EIGHT_M, EIGHT_M.length - 70000, EIGHT_M.length));

            RawClient.Response open = get(c, "/n/8m.bin", "Range: bytes=5000000-");
            assertThat(open.status()).isEqualTo(206);
            assertThat(open.body()).isEqualTo(Arrays.copyOfRange(EIGHT_M, 5_000_000, EIGHT_M.length));

            // Several ranges: nginx's multipart/byteranges body passes through as it is.
            RawClient.Response multi = get(c, "/n/1k.bin", "Range: bytes=0-9,20-29");
            assertThat(multi.status()).isEqualTo(206);
            assertThat(multi.header("Content-Type")).startsWith("multipart/byteranges; boundary=");
            String body = new String(multi.body(), StandardCharsets.ISO_8859_1);
            assertThat(body).contains("Content-Range: bytes 0-9/1024", "Content-Range: bytes 20-29/1024",
                    new String(ONE_K, 0, 10, StandardCharsets.ISO_8859_1), new String(ONE_K, 20, 10, StandardCharsets.ISO_8859_1));

            RawClient.Response beyond = get(c, "/n/1k.bin", "Range: bytes=5000-6000");
            assertThat(beyond.status()).isEqualTo(416);
            assertThat(get(c, "/n/1k.bin").body()).as("framing intact").isEqualTo(ONE_K);
        }
    }

    @AllArchs
    void headHasTheLengthAndNoBody(Architecture arch) throws Exception {
        try (RawClient c = client(arch)) {
            c.send("HEAD /n/8m.bin HTTP/1.1\r\nHost: t\r\n\r\n");
            RawClient.Response h = c.read(true);
            assertThat(h.status()).isEqualTo(200);
            assertThat(h.header("Content-Length")).isEqualTo(Integer.toString(EIGHT_M.length));
            assertThat(h.header("Transfer-Encoding")).isNull();
            // No body bytes followed the head: the next response starts right after it.
            RawClient.Response next = get(c, "/n/1k.bin");
            assertThat(next.status()).isEqualTo(200);
            assertThat(next.body()).isEqualTo(ONE_K);
        }
    }

    @AllArchs
    void conditionalRequestsGet304(Architecture arch) throws Exception {
        try (RawClient c = client(arch)) {
            RawClient.Response full = get(c, "/n/1m.bin");
            String etag = full.header("ETag");
            String lastModified = full.header("Last-Modified");
            RawClient.Response inm = get(c, "/n/1m.bin", "If-None-Match: " + etag);
            assertThat(inm.status()).isEqualTo(304);
            assertThat(inm.header("ETag")).isEqualTo(etag);
            assertThat(inm.header("Transfer-Encoding")).isNull();
            assertThat(inm.body()).isEmpty();
            RawClient.Response ims = get(c, "/n/1m.bin", "If-Modified-Since: " + lastModified);
            assertThat(ims.status()).isEqualTo(304);
            RawClient.Response changed = get(c, "/n/1m.bin", "If-None-Match: \"something-else\"");
            assertThat(changed.status()).isEqualTo(200);
            assertThat(changed.body()).isEqualTo(ONE_M);
            // A conditional range: If-Range with the current validator gives the range.
            RawClient.Response ifRange = get(c, "/n/1m.bin", "Range: bytes=0-3", "If-Range: " + etag);
            assertThat(ifRange.status()).isEqualTo(206);
            assertThat(ifRange.body()).isEqualTo(Arrays.copyOfRange(ONE_M, 0, 4));
        }
    }
}
