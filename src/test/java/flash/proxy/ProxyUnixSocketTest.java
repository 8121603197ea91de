package flash.proxy;

import flash.config.Architecture;
import flash.config.ProxyRoute;
import flash.testing.AllArchs;
import flash.testing.ArchServers;
import flash.testing.Backend;
import flash.testing.Fixtures;
import flash.testing.RawClient;
import flash.testing.TestServer;
import flash.testing.WebSocketClient;
import org.junit.jupiter.api.AfterAll;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code --proxy PREFIX=unix:/path.sock}: the same forwarding, framing and pooling over a Unix domain socket. A unix
 * URL has no path, so the target goes upstream unchanged and the prefixes are the backend's own routes.
 */
class ProxyUnixSocketTest {
    private static final Path DIR = tempDir();
    private static final Backend BACKEND = Backend.startUnix(DIR.resolve("b.sock"));
    private static final ArchServers SERVERS = new ArchServers(arch -> TestServer.start(Fixtures.root(), arch,
            c -> c.withProxies(List.of(
                    ProxyRoute.parse("/echo=unix:" + BACKEND.socketFile()),
                    ProxyRoute.parse("/bytes=unix:" + BACKEND.socketFile()),
                    ProxyRoute.parse("/chunked=unix:" + BACKEND.socketFile()),
                    ProxyRoute.parse("/ws=unix:" + BACKEND.socketFile())))));

    private static Path tempDir() {
        try {
            return Files.createTempDirectory(Path.of("/tmp"), "flash-pux-"); // short: sun_path holds 108 bytes
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @AfterAll
    static void stop() {
        SERVERS.close();
        BACKEND.close();
        Fixtures.deleteTree(DIR);
    }

    private static RawClient client(Architecture arch) throws IOException { return new RawClient(SERVERS.get(arch).port()); }

    @AllArchs
    void echoOverAUnixSocket(Architecture arch) throws Exception {
        try (RawClient c = client(arch)) {
            c.send("GET /echo/x?q=1 HTTP/1.1\r\nHost: site.test\r\nX-Kept: yes\r\n\r\n");
            RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("Via")).isEqualTo("1.1 flash");
            Backend.Echo e = Backend.Echo.parse(r.body());
            assertThat(e.method()).isEqualTo("GET");
            assertThat(e.target()).isEqualTo("/echo/x?q=1");
            assertThat(e.header("Host")).isEqualTo("site.test");
            assertThat(e.header("X-Kept")).isEqualTo("yes");
            assertThat(e.header("X-Forwarded-For")).isEqualTo("127.0.0.1");
        }
        // HTTP/1.0 without Host: the upstream, which needs one, is told "localhost".
        try (RawClient c = client(arch)) {
            c.send("GET /echo HTTP/1.0\r\n\r\n");
            RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(Backend.Echo.parse(r.body()).header("Host")).isEqualTo("localhost");
        }
    }

    @AllArchs
    void requestBodiesGoUpTheUnixSocketWhole(Architecture arch) throws Exception {
        byte[] body = Fixtures.random(300_000, 11);
        try (RawClient c = client(arch)) {
            c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/octet-stream\r\nContent-Length: "
                    + body.length + "\r\n\r\n");
            c.send(body);
            RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            Backend.Echo e = Backend.Echo.parse(r.body());
            assertThat(e.bodyLength()).isEqualTo(body.length);
            assertThat(e.bodySha256()).isEqualTo(ProxyTest.sha256(body));

            // chunked from the client, re-chunked upstream
            c.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
            RawClient.Response r2 = c.read();
            assertThat(r2.status()).isEqualTo(200);
            assertThat(Backend.Echo.parse(r2.body()).bodyText()).isEqualTo("hello world");
        }
    }

    @AllArchs
    void largeResponsesComeDownTheUnixSocketWhole(Architecture arch) throws Exception {
        try (RawClient c = client(arch)) {
            c.send("GET /bytes?size=5000000 HTTP/1.1\r\nHost: t\r\n\r\n");
            RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("Content-Length")).isEqualTo("5000000");
            assertThat(Backend.verifyPattern(new ByteArrayInputStream(r.body()))).isEqualTo(5_000_000);

            c.send("GET /chunked?n=30&size=7000 HTTP/1.1\r\nHost: t\r\n\r\n");
            RawClient.Response ch = c.read();
            assertThat(ch.status()).isEqualTo(200);
            assertThat(ch.body()).hasSize(30 * 7000);
            Backend.assertPattern(ch.body(), 0);
        }
    }

    @AllArchs
    void aWebSocketTunnelsOverAUnixSocket(Architecture arch) throws Exception {
        try (WebSocketClient ws = WebSocketClient.connect(SERVERS.get(arch).port(), "/ws")) {
            ws.sendText("over unix");
            assertThat(ws.receive().text()).isEqualTo("over unix");
            byte[] big = Fixtures.random(300_000, 12);
            ws.sendBinary(big);
            assertThat(ws.receive().payload()).isEqualTo(big);
            ws.sendClose(1000, "");
            assertThat(ws.receive().opcode()).isEqualTo(WebSocketClient.CLOSE);
        }
    }

    @AllArchs
    void unixSocketConnectionsArePooled(Architecture arch) throws Exception {
        int before = BACKEND.connectionsAccepted();
        Set<Integer> used = new TreeSet<>();
        try (RawClient c = client(arch)) {
            for (int i = 0; i < 30; i++) {
                c.send(i % 3 == 0 ? "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc"
                        : "GET /echo HTTP/1.1\r\nHost: t\r\n\r\n");
                RawClient.Response r = c.read();
                assertThat(r.status()).isEqualTo(200);
                used.add(Backend.Echo.parse(r.body()).connection());
            }
        }
        assertThat(used).as("backend connections used by 30 requests on one client connection").hasSize(1);
        assertThat(BACKEND.connectionsAccepted() - before).isLessThanOrEqualTo(1);
        assertThat(BACKEND.protocolErrors()).isEmpty();
    }
}
