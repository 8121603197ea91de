package flash.proxy;

import flash.config.Architecture;
import flash.config.ProxyRoute;
import flash.testing.AllArchs;
import flash.testing.ArchServers;
import flash.testing.Backend;
import flash.testing.Fixtures;
import flash.testing.RawClient;
import flash.testing.TestServer;
import org.junit.jupiter.api.AfterAll;

import java.io.InputStream;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A proxied response to a client that stops reading for a while: the client socket fills, the proxy's write blocks,
 * and it must stop reading the origin without losing, reordering or overwriting a byte, and without blaming the
 * origin for the pause. The client's receive buffer is fixed small, so its side fills within a few KiB.
 */
class ProxySlowClientTest {
    private static final int RCVBUF = 32 * 1024;
    private static final Backend BACKEND = Backend.start();
    private static final ArchServers SERVERS = new ArchServers(arch -> TestServer.start(Fixtures.root(), arch,
            c -> c.withProxies(List.of(ProxyRoute.parse("/chunked=" + BACKEND.url())))));
    /** --upstream-timeout 1: the origin must answer, and keep answering, within a second of being read. */
    private static final ArchServers SHORT_UPSTREAM_TIMEOUT = new ArchServers(arch -> TestServer.start(Fixtures.root(), arch,
            c -> c.withProxies(List.of(ProxyRoute.parse("/bytes=" + BACKEND.url()),
                            ProxyRoute.parse("/chunked=" + BACKEND.url()), ProxyRoute.parse("/slow=" + BACKEND.url()),
                            ProxyRoute.parse("/echo=" + BACKEND.url()),
                            ProxyRoute.parse("/slow-read=" + BACKEND.url())))
                    .withUpstreamTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(1))
                    .withLimits(new flash.http.HttpLimits(8192, 16384, 100, 1L << 30))));

    @AfterAll
    static void stop() {
        SERVERS.close();
        SHORT_UPSTREAM_TIMEOUT.close();
        BACKEND.close();
    }

    @AllArchs
    void aStalledClientOfATricklingOriginGetsEveryByteInOrder(Architecture arch) throws Exception {
        int n = 2500, size = 8000; // 20 MB in 8000-byte chunks, one per millisecond: each read of the origin is partial
        try (RawClient c = new RawClient(SERVERS.get(arch).port(), RCVBUF)) {
            c.send("GET /chunked?n=" + n + "&size=" + size + "&delay=1 HTTP/1.1\r\nHost: t\r\n\r\n");
            // Not reading: the proxy's writes to us block part-way through a piece while the origin keeps sending.
            Thread.sleep(1500);
            RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.body()).hasSize(n * size);
            Backend.assertPattern(r.body(), 0);
        }
    }

    @AllArchs
    void aClientPausingLongerThanTheUpstreamTimeoutIsNotCutOff(Architecture arch) throws Exception {
        long size = 30_000_000;
        try (RawClient c = new RawClient(SHORT_UPSTREAM_TIMEOUT.get(arch).port(), RCVBUF)) {
            c.send("GET /bytes?size=" + size + " HTTP/1.1\r\nHost: t\r\n\r\n");
            RawClient.Response head = c.read(true);
            assertThat(head.status()).isEqualTo(200);
            InputStream in = c.input();
            byte[] first = in.readNBytes(1 << 20);
            Backend.assertPattern(first, 0);
            // The pause is ours, not the origin's: the proxy is not reading it because we are not reading the proxy.
            // Its upstream timeout (1 s) is for an origin that does not answer, not for a client that is slow.
            Thread.sleep(2000);
            long got = first.length;
            byte[] buf = new byte[1 << 16];
            while (got < size) {
                int k = in.read(buf, 0, (int) Math.min(buf.length, size - got));
                if (k < 0) break;
                Backend.assertPattern(k == buf.length ? buf : java.util.Arrays.copyOf(buf, k), got);
                got += k;
            }
            assertThat(got).as("body bytes received").isEqualTo(size);
        }
    }

    /** The same for an upload: a client pausing mid-body is not the origin timing out. */
    @AllArchs
    void aClientPausingMidUploadLongerThanTheUpstreamTimeoutIsNotCutOff(Architecture arch) throws Exception {
        byte[] body = Fixtures.random(200_000, 31);
        try (RawClient c = new RawClient(SHORT_UPSTREAM_TIMEOUT.get(arch).port())) {
            c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: " + body.length + "\r\n\r\n");
            c.send(java.util.Arrays.copyOfRange(body, 0, 100_000));
            Thread.sleep(2000); // the origin has taken everything so far and waits for more, as the proxy does
            c.send(java.util.Arrays.copyOfRange(body, 100_000, body.length));
            RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            Backend.Echo e = Backend.Echo.parse(r.body());
            assertThat(e.bodyLength()).isEqualTo(body.length);
            assertThat(e.bodySha256()).isEqualTo(ProxyTest.sha256(body));
        }
    }

    /** The other side of the same rule: an origin that goes silent while the proxy waits on it still times out. */
    @AllArchs
    void anOriginSilentLongerThanTheUpstreamTimeoutStillTimesOut(Architecture arch) throws Exception {
        try (RawClient c = new RawClient(SHORT_UPSTREAM_TIMEOUT.get(arch).port())) {
            c.send("GET /slow?ms=2500 HTTP/1.1\r\nHost: t\r\n\r\n");
            assertThat(c.read().status()).as("no head within the upstream timeout").isEqualTo(504);
        }
        try (RawClient c = new RawClient(SHORT_UPSTREAM_TIMEOUT.get(arch).port())) {
            // One chunk, then 2.5 s of silence mid-body: the client gets a truncated body, never a complete-looking one.
            c.send("GET /chunked?n=2&size=1000&delay=2500 HTTP/1.1\r\nHost: t\r\n\r\n");
            RawClient.Response head = c.read(true);
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.header("Transfer-Encoding")).isEqualTo("chunked");
            byte[] rest = c.readToEnd(); // bounded by the socket timeout (15 s)
            String wire = new String(rest, java.nio.charset.StandardCharsets.ISO_8859_1);
            assertThat(wire).startsWith("3e8\r\n");
            assertThat(wire).as("no last chunk").doesNotContain("\r\n0\r\n\r\n");
            assertThat(rest.length).as("only the first chunk").isLessThan(1100);
        }
        // An origin that stops reading an upload (5 s per 64 KiB): once every buffer between is full, the proxy's
        // write makes no progress for the upstream timeout, and the client is answered 504.
        try (RawClient c = new RawClient(SHORT_UPSTREAM_TIMEOUT.get(arch).port())) {
            long size = 512L << 20;
            c.send("POST /slow-read?ms=5000 HTTP/1.1\r\nHost: t\r\nContent-Length: " + size + "\r\n\r\n");
            Thread writer = Thread.ofPlatform().daemon().start(() -> {
                byte[] piece = new byte[1 << 16];
                try {
                    for (long sent = 0; sent < size; sent += piece.length) c.socket().getOutputStream().write(piece);
                } catch (java.io.IOException expected) {
                    // the proxy answered and closed while we were still sending
                }
            });
            assertThat(c.read().status()).isEqualTo(504);
            c.close();
            writer.join(15_000);
        }
    }
}
