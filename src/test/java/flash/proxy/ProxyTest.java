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

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The reverse proxy's forwarding rules (RFC 9110, 9112, 7239), under every architecture, against a real backend. */
class ProxyTest {
    private static final Backend BACKEND = Backend.start(o -> o.extraResponseHeaders(List.of(
            "Connection: X-Resp-Secret", "X-Resp-Secret: 1", "Keep-Alive: timeout=5", "Proxy-Connection: keep-alive")));
    private static final ArchServers SERVERS = new ArchServers(arch -> TestServer.start(Fixtures.root(), arch,
            c -> c.withProxies(List.of(
                    ProxyRoute.parse("/echo=" + BACKEND.url()),
                    ProxyRoute.parse("/p/=" + BACKEND.url() + "/"),
                    ProxyRoute.parse("/chunked=" + BACKEND.url()),
                    ProxyRoute.parse("/close-delimited=" + BACKEND.url()),
                    ProxyRoute.parse("/continue=" + BACKEND.url())))
                    .withLimits(new flash.http.HttpLimits(8192, 16384, 100, 64L << 20))));

    @AfterAll
    static void stop() {
        SERVERS.close();
        BACKEND.close();
    }

    private static RawClient client(Architecture arch) throws Exception { return new RawClient(SERVERS.get(arch).port()); }

    @AllArchs
    void methodTargetAndBodyPassUnchanged(Architecture arch) throws Exception {
        byte[] body = "x=1&y=2".repeat(1000).getBytes(StandardCharsets.US_ASCII);
        try (RawClient c = client(arch)) {
            c.send("POST /echo/a%20b?q=1&r HTTP/1.1\r\nHost: example.test\r\nContent-Type: text/plain\r\nContent-Length: "
                    + body.length + "\r\n\r\n");
            c.send(body);
            RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            Backend.Echo e = Backend.Echo.parse(r.body());
            assertThat(e.method()).isEqualTo("POST");
            assertThat(e.target()).isEqualTo("/echo/a%20b?q=1&r");
            assertThat(e.bodyLength()).isEqualTo(body.length);
            assertThat(e.bodySha256()).isEqualTo(sha256(body));
            assertThat(e.header("Host")).isEqualTo("example.test");
            assertThat(e.header("Content-Type")).isEqualTo("text/plain");
            assertThat(e.header("Content-Length")).isEqualTo(String.valueOf(body.length));
        }
    }

    @AllArchs
    void aPathInTheUrlReplacesThePrefix(Architecture arch) throws Exception {
        try (RawClient c = client(arch)) {
            c.send("GET /p/echo/x?q=1 HTTP/1.1\r\nHost: t\r\n\r\n");
            RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(Backend.Echo.parse(r.body()).target()).isEqualTo("/echo/x?q=1");
        }
    }

    @AllArchs
    void everyMethodIsPassed(Architecture arch) throws Exception {
        for (String m : List.of("PUT", "DELETE", "PATCH", "OPTIONS", "PROPFIND")) {
            try (RawClient c = client(arch)) {
                c.send(m + " /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi");
                RawClient.Response r = c.read();
                assertThat(r.status()).as(m).isEqualTo(200);
                assertThat(Backend.Echo.parse(r.body()).method()).isEqualTo(m);
            }
        }
    }

    @AllArchs
    void hopByHopAndConnectionNamedFieldsStopAtTheProxy(Architecture arch) throws Exception {
        try (RawClient c = client(arch)) {
            c.send("GET /echo HTTP/1.1\r\nHost: site.test:8080\r\nConnection: keep-alive, X-Secret\r\nX-Secret: 1\r\n"
                    + "Keep-Alive: timeout=5\r\nTE: trailers\r\nProxy-Connection: keep-alive\r\nUpgrade: h2c\r\n"
                    + "X-Forwarded-For: 10.1.2.3\r\nForwarded: for=10.1.2.3\r\nVia: 1.1 edge\r\nX-Kept: yes\r\n\r\n");
            RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            Backend.Echo e = Backend.Echo.parse(r.body());
            for (String gone : List.of("X-Secret", "Keep-Alive", "TE", "Proxy-Connection", "Upgrade", "Transfer-Encoding")) {
                assertThat(e.header(gone)).as(gone).isNull();
            }
            assertThat(e.header("Connection")).isNull();
            assertThat(e.header("X-Kept")).isEqualTo("yes");
            assertThat(e.header("Host")).isEqualTo("site.test:8080");
            assertThat(e.header("Via")).isEqualTo("1.1 edge, 1.1 flash");
            assertThat(e.header("X-Forwarded-For")).isEqualTo("10.1.2.3, 127.0.0.1");
            assertThat(e.header("X-Forwarded-Proto")).isEqualTo("http");
            assertThat(e.header("X-Forwarded-Host")).isEqualTo("site.test:8080");
            assertThat(e.header("Forwarded")).isEqualTo("for=10.1.2.3, for=127.0.0.1;host=\"site.test:8080\";proto=http");
            // and on the way back
            assertThat(r.header("X-Resp-Secret")).isNull();
            assertThat(r.header("Keep-Alive")).isNull();
            assertThat(r.header("Proxy-Connection")).isNull();
            assertThat(r.header("Connection")).isNull();
            assertThat(r.header("Via")).isEqualTo("1.1 flash");
            assertThat(r.header("Server")).isEqualTo("flash");
        }
    }

    @AllArchs
    void aChunkedRequestBodyIsDecodedAndReframed(Architecture arch) throws Exception {
        String wire = "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n";
        try (RawClient c = client(arch)) {
            c.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + wire);
            RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            Backend.Echo e = Backend.Echo.parse(r.body());
            assertThat(e.bodyLength()).isEqualTo(11);
            assertThat(e.bodyText()).isEqualTo("hello world");
            assertThat(e.header("Content-Length")).isNull();
        }
    }

    /** The request body split at every byte reaches the upstream whole (chunked with extensions and a trailer). */
    @AllArchs
    void aRequestBodySplitAtEveryByteArrivesWhole(Architecture arch) throws Exception {
        String wire = "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "3;a=\"b\"\r\nabc\r\n4\r\ndefg\r\n0\r\nT: 1\r\n\r\n";
        byte[] bytes = wire.getBytes(StandardCharsets.US_ASCII);
        for (int cut = 1; cut < bytes.length; cut += arch == Architecture.MP ? 7 : 1) {
            try (RawClient c = client(arch)) {
                c.send(java.util.Arrays.copyOfRange(bytes, 0, cut));
                Thread.sleep(2);
                c.send(java.util.Arrays.copyOfRange(bytes, cut, bytes.length));
                RawClient.Response r = c.read();
                assertThat(r.status()).as("split at %d", cut).isEqualTo(200);
                assertThat(Backend.Echo.parse(r.body()).bodyText()).as("split at %d", cut).isEqualTo("abcdefg");
            }
        }
    }

    @AllArchs
    void expectContinueIsAnsweredBeforeTheBodyIsRead(Architecture arch) throws Exception {
        try (RawClient c = client(arch)) {
            c.send("PUT /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
            RawClient.Response interim = c.read();
            assertThat(interim.status()).isEqualTo(100);
            // The backend answers the forwarded Expect with its own 100 Continue; let that reach the proxy first, so
            // the body must still be sent after an upstream interim response (it once ended the sending phase).
            Thread.sleep(200);
            c.send("hello");
            RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(Backend.Echo.parse(r.body()).bodyText()).isEqualTo("hello");
        }
    }

    @AllArchs
    void aChunkedUpstreamBodyIsStreamedChunkedTo11AndCloseDelimitedTo10(Architecture arch) throws Exception {
        int n = 40, size = 5000;
        try (RawClient c = client(arch)) {
            c.send("GET /chunked?n=" + n + "&size=" + size + "&trailer=1 HTTP/1.1\r\nHost: t\r\n\r\n");
            RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("Transfer-Encoding")).isEqualTo("chunked");
            assertThat(r.body()).hasSize(n * size);
            Backend.assertPattern(r.body(), 0);
        }
        try (RawClient c = client(arch)) {
            c.send("GET /chunked?n=" + n + "&size=" + size + " HTTP/1.0\r\n\r\n");
            RawClient.Response r = c.read(true);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("Transfer-Encoding")).isNull();
            assertThat(r.header("Content-Length")).isNull();
            byte[] body = c.readToEnd();
            assertThat(body).hasSize(n * size);
            Backend.assertPattern(body, 0);
        }
    }

    @AllArchs
    void aCloseDelimitedUpstreamBodyGoesOutChunked(Architecture arch) throws Exception {
        try (RawClient c = client(arch)) {
            c.send("GET /close-delimited?size=100000 HTTP/1.1\r\nHost: t\r\n\r\nGET /echo HTTP/1.1\r\nHost: t\r\n\r\n");
            RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("Transfer-Encoding")).isEqualTo("chunked");
            assertThat(r.body()).hasSize(100000);
            Backend.assertPattern(r.body(), 0);
            // the client connection stays usable: the next pipelined request is answered
            assertThat(c.read().status()).isEqualTo(200);
        }
    }

    @AllArchs
    void headAnd204And304HaveNoBody(Architecture arch) throws Exception {
        try (RawClient c = client(arch)) {
            c.send("HEAD /echo HTTP/1.1\r\nHost: t\r\n\r\n");
            RawClient.Response h = c.read(true);
            assertThat(h.status()).isEqualTo(200);
            c.send("GET /echo?status=204 HTTP/1.1\r\nHost: t\r\n\r\n");
            RawClient.Response r204 = c.read();
            assertThat(r204.status()).isEqualTo(204);
            assertThat(r204.header("Content-Length")).isNull();
            assertThat(r204.header("Transfer-Encoding")).isNull();
            c.send("GET /echo?status=304 HTTP/1.1\r\nHost: t\r\n\r\n");
            RawClient.Response r304 = c.read();
            assertThat(r304.status()).isEqualTo(304);
            assertThat(r304.header("Transfer-Encoding")).isNull();
            c.send("GET /echo HTTP/1.1\r\nHost: t\r\n\r\n");
            assertThat(c.read().status()).as("framing intact after bodiless responses").isEqualTo(200);
        }
    }

    @AllArchs
    void interimResponsesAreForwarded(Architecture arch) throws Exception {
        try (RawClient c = client(arch)) {
            c.send("GET /continue HTTP/1.1\r\nHost: t\r\n\r\n");
            RawClient.Response early = c.read();
            assertThat(early.status()).isEqualTo(103);
            assertThat(early.header("Link")).isNotNull();
            RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
        }
    }

    @AllArchs
    void staticFilesStillServedBesideTheProxy(Architecture arch) throws Exception {
        try (RawClient c = client(arch)) {
            c.send("GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\nPOST /hello.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
            RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyText()).isEqualTo(Fixtures.HELLO);
            assertThat(c.read().status()).as("static files stay GET/HEAD").isEqualTo(405);
        }
    }

    static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }
}
