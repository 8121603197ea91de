package flash.proxy;

import flash.config.Architecture;
import flash.config.ProxyRoute;
import flash.testing.AllArchs;
import flash.testing.ArchServers;
import flash.testing.Backend;
import flash.testing.Fixtures;
import flash.testing.Http;
import flash.testing.RawClient;
import flash.testing.TestServer;
import flash.testing.WebSocketClient;
import org.junit.jupiter.api.AfterAll;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Upgrades through the proxy (RFC 9110 7.8, RFC 6455): a 101 from the upstream turns the client connection and the
 * upstream connection into a two-way byte tunnel, with backpressure both ways, an idle timeout (here
 * {@code --tunnel-timeout 1}), and the upstream connection closed when the tunnel ends. The backend never closes a
 * connection on its own initiative, so every drop in its open connections is the proxy's doing.
 */
class ProxyUpgradeTest {
    private static final Backend BACKEND = Backend.start(Backend.Options::holdConnectionsOpen);
    private static final ArchServers SERVERS = new ArchServers(arch -> TestServer.start(Fixtures.root(), arch,
            c -> c.withProxies(List.of(
                    ProxyRoute.parse("/ws=" + BACKEND.url()),
                    ProxyRoute.parse("/upgrade-raw=" + BACKEND.url()),
                    ProxyRoute.parse("/echo=" + BACKEND.url())))
                    .withTunnelTimeout(Duration.ofSeconds(1))));
    /** How long a test waits for an event that should come within about a second. */
    private static final long BOUND_MS = 15_000;

    @AfterAll
    static void stop() {
        SERVERS.close();
        BACKEND.close();
    }

    private static int port(Architecture arch) { return SERVERS.get(arch).port(); }

    @AllArchs
    void webSocketHandshakeAndEchoThroughTheProxy(Architecture arch) throws Exception {
        int during;
        try (WebSocketClient ws = WebSocketClient.connect(port(arch), "/ws", "Sec-WebSocket-Protocol: chat, superchat",
                "Connection: keep-alive, Upgrade")) { // Firefox's form: upgrade is one token of several
            // connect() already checked the 101 and that Sec-WebSocket-Accept matches our key: it passed through.
            during = BACKEND.openConnections();
            assertThat(ws.header("Upgrade")).isEqualToIgnoringCase("websocket");
            assertThat(ws.header("Connection")).containsIgnoringCase("upgrade");
            assertThat(ws.header("Sec-WebSocket-Protocol")).isEqualTo("chat");
            assertThat(ws.header("Via")).isEqualTo("1.1 flash");
            Backend.Received r = BACKEND.lastReceived();
            assertThat(r.path()).isEqualTo("/ws");
            assertThat(r.header("Upgrade")).isEqualTo("websocket");
            assertThat(r.header("Connection")).isEqualToIgnoringCase("upgrade");
            assertThat(r.header("Sec-WebSocket-Key")).isNotNull();
            assertThat(r.header("Sec-WebSocket-Version")).isEqualTo("13");

            ws.sendText("hello, tunnel");
            WebSocketClient.Frame text = ws.receive();
            assertThat(text.opcode()).isEqualTo(WebSocketClient.TEXT);
            assertThat(text.masked()).isFalse();
            assertThat(text.text()).isEqualTo("hello, tunnel");

            byte[] small = Fixtures.random(1000, 7);
            ws.sendBinary(small);
            WebSocketClient.Frame bin = ws.receive();
            assertThat(bin.opcode()).isEqualTo(WebSocketClient.BINARY);
            assertThat(bin.payload()).isEqualTo(small);

            ws.ping("are you there".getBytes(StandardCharsets.US_ASCII));
            WebSocketClient.Frame pong = ws.receive();
            assertThat(pong.opcode()).isEqualTo(WebSocketClient.PONG);
            assertThat(pong.text()).isEqualTo("are you there");

            // A fragmented message: each fragment is echoed as it comes.
            ws.send(false, WebSocketClient.TEXT, "frag".getBytes(StandardCharsets.US_ASCII));
            ws.send(true, WebSocketClient.CONTINUATION, "ment".getBytes(StandardCharsets.US_ASCII));
            WebSocketClient.Frame f1 = ws.receive(), f2 = ws.receive();
            assertThat(f1.fin()).isFalse();
            assertThat(f1.text()).isEqualTo("frag");
            assertThat(f2.opcode()).isEqualTo(WebSocketClient.CONTINUATION);
            assertThat(f2.fin()).isTrue();
            assertThat(f2.text()).isEqualTo("ment");

            // 1 MiB one way, then 1 MiB back, read only after a pause: the tunnel's buffers fill and it must wait
            // for the client socket to drain (WRITE interest / a blocked write) without losing or reordering a byte.
            byte[] big = Fixtures.random(1 << 20, 8);
            ws.sendBinary(big);
            Thread.sleep(200);
            WebSocketClient.Frame echoed = ws.receive();
            assertThat(echoed.opcode()).isEqualTo(WebSocketClient.BINARY);
            assertThat(echoed.payload()).isEqualTo(big);

            // Close handshake: the backend answers our close with its own, then ends the connection.
            ws.sendClose(1000, "bye");
            WebSocketClient.Frame close = ws.receive();
            assertThat(close.opcode()).isEqualTo(WebSocketClient.CLOSE);
            assertThat(close.closeCode()).isEqualTo(1000);
            assertThat(close.closeReason()).isEqualTo("bye");
            assertThat(ws.input().read()).as("the tunnel ends after the close handshake").isEqualTo(-1);
        }
        awaitBackendOpenAtMost(during - 1);
    }

    @AllArchs
    void rawUpgradeEchoesBothWaysIncludingBytesSentRightAfterTheRequestHead(Architecture arch) throws Exception {
        try (RawClient c = new RawClient(port(arch))) {
            // The first tunnel bytes go out in the same write as the head, before the 101 exists.
            c.send("GET /upgrade-raw HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nearly bytes");
            RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(101);
            assertThat(r.header("Upgrade")).isEqualTo("echo");
            assertThat(r.header("Connection")).containsIgnoringCase("upgrade");
            assertThat(r.header("Content-Length")).isNull();
            assertThat(r.header("Transfer-Encoding")).isNull();
            int during = BACKEND.openConnections();
            InputStream in = c.input();
            assertThat(new String(in.readNBytes(11), StandardCharsets.US_ASCII)).isEqualTo("early bytes");

            c.send("ping\r\n");
            assertThat(new String(in.readNBytes(6), StandardCharsets.US_ASCII)).isEqualTo("ping\r\n");

            // 4 MiB each way at once: both directions under backpressure, every byte in order.
            byte[] data = Fixtures.random(4 << 20, 9);
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    OutputStream out = c.socket().getOutputStream();
                    for (int off = 0; off < data.length; off += 100_000) {
                        out.write(data, off, Math.min(100_000, data.length - off));
                    }
                    out.flush();
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            byte[] back = in.readNBytes(data.length);
            writer.get(BOUND_MS, TimeUnit.MILLISECONDS);
            assertThat(back).isEqualTo(data);

            // A half-close travels through: the backend sees EOF, closes its side, and that reaches us as EOF.
            c.socket().shutdownOutput();
            assertThat(in.read()).isEqualTo(-1);
            awaitBackendOpenAtMost(during - 1);
        }
    }

    @AllArchs
    void anUpgradePipelinedBehindAnOrdinaryRequestTunnelsWhatFollowsIt(Architecture arch) throws Exception {
        try (RawClient c = new RawClient(port(arch))) {
            c.send("GET /echo HTTP/1.1\r\nHost: t\r\n\r\n"
                    + "GET /upgrade-raw HTTP/1.1\r\nHost: t\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\n"
                    + "GET /echo HTTP/1.1\r\nHost: t\r\n\r\n"); // after the 101 these are tunnel bytes, not a request
            assertThat(c.read().status()).isEqualTo(200);
            assertThat(c.read().status()).isEqualTo(101);
            int during = BACKEND.openConnections();
            String tunnelled = "GET /echo HTTP/1.1\r\nHost: t\r\n\r\n";
            assertThat(new String(c.input().readNBytes(tunnelled.length()), StandardCharsets.US_ASCII)).isEqualTo(tunnelled);
            c.socket().shutdownOutput();
            assertThat(c.input().read()).isEqualTo(-1);
            awaitBackendOpenAtMost(during - 1);
        }
    }

    @AllArchs
    void aClientThatVanishesMidTunnelReleasesTheUpstream(Architecture arch) throws Exception {
        RawClient c = openRawTunnel(arch);
        int during = BACKEND.openConnections();
        c.send("hi");
        assertThat(new String(c.input().readNBytes(2), StandardCharsets.US_ASCII)).isEqualTo("hi");
        c.socket().setSoLinger(true, 0);
        c.close(); // an RST, no half-close
        awaitBackendOpenAtMost(during - 1);
        // and the server is fine
        try (RawClient d = new RawClient(port(arch))) {
            d.send("GET /echo HTTP/1.1\r\nHost: t\r\n\r\n");
            assertThat(d.read().status()).isEqualTo(200);
        }
    }

    @AllArchs
    void anIdleTunnelIsClosedByTheProxyAndItsUpstreamWithIt(Architecture arch) throws Exception {
        try (RawClient c = openRawTunnel(arch)) {
            int during = BACKEND.openConnections();
            c.send("x");
            assertThat(c.input().read()).isEqualTo('x');
            // Nothing more moves: after --tunnel-timeout 1 the proxy ends the tunnel (bounded wait, not a timing check).
            c.timeout((int) BOUND_MS);
            assertThat(endOfStream(c.input())).as("the proxy closed the idle tunnel").isTrue();
            awaitBackendOpenAtMost(during - 1);
        }
    }

    @AllArchs
    void aTunnelWithTrafficStaysOpenPastTheIdleTimeout(Architecture arch) throws Exception {
        try (RawClient c = openRawTunnel(arch)) {
            // 3 s of traffic every 300 ms: three times the idle timeout, never idle for a third of it.
            for (int i = 0; i < 11; i++) {
                c.send(new byte[] {(byte) ('a' + i)});
                assertThat(c.input().read()).as("echo %d", i).isEqualTo('a' + i);
                Thread.sleep(300);
            }
            c.send("still here");
            assertThat(new String(c.input().readNBytes(10), StandardCharsets.US_ASCII)).isEqualTo("still here");
        }
    }

    @AllArchs
    void upgradeWithoutConnectionUpgradeIsAnOrdinaryRequest(Architecture arch) throws Exception {
        try (RawClient c = new RawClient(port(arch))) {
            // Upgrade is hop-by-hop: without Connection: upgrade it is dropped, and the backend sees a plain GET.
            c.send("GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    + "Sec-WebSocket-Version: 13\r\n\r\n");
            RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(400);
            assertThat(r.bodyText()).isEqualTo("no Upgrade: websocket\n");
            Backend.Received got = BACKEND.lastReceived();
            assertThat(got.header("Upgrade")).isNull();
            assertThat(got.header("Connection")).isNull();
            assertThat(got.header("Sec-WebSocket-Key")).isEqualTo("dGhlIHNhbXBsZSBub25jZQ==");
            // The connection is still HTTP.
            c.send("GET /echo HTTP/1.1\r\nHost: t\r\nUpgrade: echo\r\n\r\n");
            RawClient.Response e = c.read();
            assertThat(e.status()).isEqualTo(200);
            assertThat(Backend.Echo.parse(e.body()).header("Upgrade")).isNull();

            // An upstream that switches protocols anyway is a bad gateway, not a tunnel the client never asked for.
            c.send("GET /upgrade-raw HTTP/1.1\r\nHost: t\r\nUpgrade: echo\r\n\r\n");
            RawClient.Response bad = c.read();
            assertThat(bad.status()).isEqualTo(502);
            c.send("GET /echo HTTP/1.1\r\nHost: t\r\n\r\n");
            assertThat(c.read().status()).as("the client connection survives the refused switch").isEqualTo(200);
        }
    }

    @AllArchs
    void anUpgradeOverAPooledConnectionClosesItAfterwards(Architecture arch) throws Exception {
        try (RawClient c = new RawClient(port(arch))) {
            // Leave an idle keep-alive connection in the pool of this client's loop or thread...
            c.send("GET /echo HTTP/1.1\r\nHost: t\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(200);
            // ...and upgrade on the same client connection: it may go out on that pooled connection.
            c.send("GET /upgrade-raw HTTP/1.1\r\nHost: t\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(101);
            int during = BACKEND.openConnections();
            c.send("abc");
            assertThat(new String(c.input().readNBytes(3), StandardCharsets.US_ASCII)).isEqualTo("abc");
            c.socket().shutdownOutput();
            assertThat(c.input().read()).isEqualTo(-1);
            awaitBackendOpenAtMost(during - 1);
        }
        // The tunnel's upstream connection never returns to the pool: the next request works on a fresh one.
        try (RawClient c = new RawClient(port(arch))) {
            for (int i = 0; i < 3; i++) {
                c.send("GET /echo HTTP/1.1\r\nHost: t\r\n\r\n");
                assertThat(c.read().status()).isEqualTo(200);
            }
        }
        assertThat(BACKEND.protocolErrors()).isEmpty();
    }

    private static RawClient openRawTunnel(Architecture arch) throws IOException {
        RawClient c = new RawClient(port(arch));
        c.send("GET /upgrade-raw HTTP/1.1\r\nHost: t\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\n");
        RawClient.Response r = c.read();
        assertThat(r.status()).isEqualTo(101);
        return c;
    }

    /** Reads until EOF or a reset: true; false if the socket timeout passed with the connection still open. */
    private static boolean endOfStream(InputStream in) throws IOException {
        try {
            while (true) {
                if (in.read() < 0) return true;
            }
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // a reset ends it too
        }
    }

    private static void awaitBackendOpenAtMost(int n) throws InterruptedException {
        assertThat(Http.await(() -> BACKEND.openConnections() <= n, BOUND_MS))
                .as("backend connections open: %d, expected at most %d", BACKEND.openConnections(), n).isTrue();
    }
}
