package flash.testing;

import flash.testing.Backend.Echo;
import flash.testing.Backend.Header;
import flash.testing.Backend.Received;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The proxy's upstream fixtures tested on their own, so a proxy test failure is never the fixture's. */
class BackendTest {
    private static Backend backend;

    @BeforeAll
    static void start() { backend = Backend.start(); }

    @AfterAll
    static void stop() { backend.close(); }

    // ---- /echo ------------------------------------------------------------------------------------------------

    @Test
    void echoDescribesTheRequestAndRecordsIt() throws Exception {
        HttpResponse<byte[]> r = Http.get(backend.uri("/echo/a?b=1&c=%20"), "X-Test", "one", "X-Test", "two");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(r.headers().firstValue("Content-Length")).hasValue(Integer.toString(r.body().length));
        Echo e = Echo.parse(r.body());
        assertThat(e.method()).isEqualTo("GET");
        assertThat(e.target()).isEqualTo("/echo/a?b=1&c=%20");
        assertThat(e.version()).isEqualTo("HTTP/1.1");
        assertThat(e.headerValues("x-test")).containsExactly("one", "two");
        assertThat(e.bodyLength()).isZero();
        assertThat(e.bodySha256()).isEqualTo(sha256(new byte[0]));
        Received rec = backend.received().stream().filter(x -> x.target().equals("/echo/a?b=1&c=%20")).findFirst().orElseThrow();
        assertThat(rec.path()).isEqualTo("/echo/a");
        assertThat(rec.connection()).isEqualTo(e.connection());
        assertThat(rec.headerValues("X-TEST")).containsExactly("one", "two");
        assertThat(rec.rawHead()).startsWith("GET /echo/a?b=1&c=%20 HTTP/1.1\r\n").endsWith("\r\n");
    }

    @Test
    void echoReportsAContentLengthBodyExactly() throws Exception {
        byte[] body = new byte[256 * 3];
        for (int i = 0; i < body.length; i++) body[i] = (byte) i; // every byte value, controls and high bytes included
        try (HttpClient c = Http.client()) {
            HttpResponse<byte[]> r = c.send(HttpRequest.newBuilder(backend.uri("/echo")).timeout(Duration.ofSeconds(30))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofByteArray());
            Echo e = Echo.parse(r.body());
            assertThat(e.method()).isEqualTo("POST");
            assertThat(e.bodyLength()).isEqualTo(body.length);
            assertThat(e.bodySha256()).isEqualTo(sha256(body));
            assertThat(e.body()).isEqualTo(body);
            assertThat(e.header("Content-Length")).isEqualTo(Integer.toString(body.length));
        }
    }

    @Test
    void echoShowsOnlyTheFirst64KiBButDigestsAll() throws Exception {
        byte[] body = Fixtures.random(200_000, 7);
        try (RawClient c = new RawClient(backend.port())) {
            c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length + "\r\n\r\n").send(body);
            Echo e = Echo.parse(c.read().body());
            assertThat(e.bodyLength()).isEqualTo(body.length);
            assertThat(e.bodySha256()).isEqualTo(sha256(body));
            assertThat(e.body()).isEqualTo(java.util.Arrays.copyOf(body, 65536));
        }
    }

    @Test
    void chunkedRequestBodiesAreDecodedWithTheirTrailers() throws Exception {
        try (RawClient c = new RawClient(backend.port())) {
            c.send("POST /echo/chunked-in HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Sum: 12\r\nX-More: yes\r\n\r\n");
            RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            Echo e = Echo.parse(r.body());
            assertThat(e.bodyText()).isEqualTo("hello, world");
            assertThat(e.trailers()).containsExactly(new Header("X-Sum", "12"), new Header("X-More", "yes"));
        }
        Received rec = lastWithPath("/echo/chunked-in");
        assertThat(rec.chunked()).isTrue();
        assertThat(rec.bodyText()).isEqualTo("hello, world");
        assertThat(rec.bodyLength()).isEqualTo(12);
        assertThat(rec.trailers()).extracting(Header::name).containsExactly("X-Sum", "X-More");
    }

    @Test
    void keepAliveCountsConnectionsAndHonoursConnectionClose() throws Exception {
        try (Backend b = Backend.start(); RawClient c = new RawClient(b.port())) {
            c.send("GET /echo/1 HTTP/1.1\r\nHost: x\r\n\r\nGET /echo/2 HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(200);
            assertThat(c.read().status()).isEqualTo(200);
            c.send("GET /echo/3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            RawClient.Response last = c.read();
            assertThat(last.header("Connection")).isEqualTo("close");
            assertThat(c.closedByServer()).isTrue();
            assertThat(b.received()).extracting(Received::connection).containsExactly(1, 1, 1);
            assertThat(b.received()).extracting(Received::target).containsExactly("/echo/1", "/echo/2", "/echo/3");
            assertThat(b.connectionsAccepted()).isEqualTo(1);
            assertThat(Http.await(() -> b.openConnections() == 0, 10_000)).isTrue();
        }
    }

    @Test
    void http10IsClosedUnlessItAsksForKeepAlive() throws Exception {
        try (RawClient c = new RawClient(backend.port())) {
            c.send("GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
            assertThat(c.read().header("Connection")).isEqualTo("keep-alive");
            c.send("GET /echo HTTP/1.0\r\n\r\n");
            assertThat(c.read().header("Connection")).isEqualTo("close");
            assertThat(c.closedByServer()).isTrue();
        }
    }

    @Test
    void echoStatusParameter() throws Exception {
        try (RawClient c = new RawClient(backend.port())) {
            RawClient.Response r = c.send("GET /echo?status=418 HTTP/1.1\r\nHost: x\r\n\r\n").read();
            assertThat(r.status()).isEqualTo(418);
            assertThat(Echo.parse(r.body()).target()).isEqualTo("/echo?status=418");
            for (int status : new int[] {204, 304}) {
                r = c.send("GET /echo?status=" + status + " HTTP/1.1\r\nHost: x\r\n\r\n").read();
                assertThat(r.status()).isEqualTo(status);
                assertThat(r.headers()).doesNotContainKeys("content-length", "transfer-encoding");
            }
            // No body bytes followed the 204 and 304: the next response starts right away.
            assertThat(c.send("GET /echo?status=201 HTTP/1.1\r\nHost: x\r\n\r\n").read().status()).isEqualTo(201);
            assertThat(c.send("GET /echo?status=abc HTTP/1.1\r\nHost: x\r\n\r\n").read().status()).isEqualTo(400);
        }
    }

    @Test
    void echoCloseParameterClosesAfterTheResponse() throws Exception {
        try (RawClient c = new RawClient(backend.port())) {
            RawClient.Response r = c.send("GET /echo?close=1 HTTP/1.1\r\nHost: x\r\n\r\n").read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("Connection")).isEqualTo("close");
            assertThat(c.closedByServer()).isTrue();
        }
    }

    @Test
    void echoDropParameterClosesAKeepAliveResponseAnyway() throws Exception {
        try (RawClient c = new RawClient(backend.port())) {
            RawClient.Response r = c.send("GET /echo?drop=1 HTTP/1.1\r\nHost: x\r\n\r\n").read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("Connection")).as("framed for keep-alive").isNull();
            assertThat(c.closedByServer()).isTrue();
        }
    }

    @Test
    void headGetsTheHeadOnly() throws Exception {
        try (RawClient c = new RawClient(backend.port())) {
            RawClient.Response r = c.send("HEAD /echo HTTP/1.1\r\nHost: x\r\n\r\n").read(true);
            assertThat(Integer.parseInt(r.header("Content-Length"))).isPositive();
            assertThat(c.send("GET /bytes?size=3 HTTP/1.1\r\nHost: x\r\n\r\n").read().body()).isEqualTo(Backend.pattern(0, 3));
        }
    }

    @Test
    void headerParameterAddsResponseFields() throws Exception {
        HttpResponse<byte[]> r = Http.get(backend.uri("/echo?header=Set-Cookie:a%3D1&header=Set-Cookie:b%3D2"));
        assertThat(r.headers().allValues("Set-Cookie")).containsExactly("a=1", "b=2");
    }

    // ---- response framings ------------------------------------------------------------------------------------

    @Test
    void chunkedResponseOnTheWire() throws Exception {
        try (RawClient c = new RawClient(backend.port())) {
            // read(true): the head only, so that this test reads the chunk framing itself
            RawClient.Response r = c.send("GET /chunked?n=4&size=300&delay=10&trailer=1 HTTP/1.1\r\nHost: x\r\n\r\n").read(true);
            assertThat(r.header("Transfer-Encoding")).isEqualTo("chunked");
            assertThat(r.header("Trailer")).isEqualTo("X-Trailer");
            InputStream in = c.input();
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            List<Integer> sizes = new ArrayList<>();
            while (true) {
                int size = Integer.parseInt(line(in), 16);
                if (size == 0) break;
                sizes.add(size);
                body.write(in.readNBytes(size));
                assertThat(line(in)).isEmpty();
            }
            assertThat(line(in)).isEqualTo("X-Trailer: done");
            assertThat(line(in)).isEmpty();
            assertThat(sizes).containsExactly(300, 300, 300, 300);
            Backend.assertPattern(body.toByteArray(), 0);
            // Still usable: the chunked body was framed exactly.
            assertThat(c.send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n").read().status()).isEqualTo(200);
        }
    }

    @Test
    void chunkedResponseThroughAClient() throws Exception {
        HttpResponse<byte[]> r = Http.get(backend.uri("/chunked?n=7&size=100000"));
        assertThat(r.body()).hasSize(700_000);
        Backend.assertPattern(r.body(), 0);
    }

    @Test
    void bytesStreamsBeyond2GiB() throws Exception {
        long size = (1L << 31) + 7;
        try (RawClient c = new RawClient(backend.port())) {
            RawClient.Response r = c.send("GET /bytes?size=" + size + " HTTP/1.1\r\nHost: x\r\n\r\n").read(true);
            assertThat(r.header("Content-Length")).isEqualTo(Long.toString(size));
            assertThat(Backend.verifyPattern(new Limited(c.input(), size))).isEqualTo(size);
            assertThat(c.send("GET /bytes?size=5 HTTP/1.1\r\nHost: x\r\n\r\n").read().body()).isEqualTo(Backend.pattern(0, 5));
        }
    }

    @Test
    void closeDelimitedBodyEndsAtTheClose() throws Exception {
        for (String hint : new String[] {"", "&hint=0"}) {
            try (RawClient c = new RawClient(backend.port())) {
                RawClient.Response r = c.send("GET /close-delimited?size=100000" + hint + " HTTP/1.1\r\nHost: x\r\n\r\n").read();
                assertThat(r.headers()).doesNotContainKeys("content-length", "transfer-encoding");
                assertThat(r.header("Connection")).isEqualTo(hint.isEmpty() ? "close" : null);
                byte[] body = c.input().readAllBytes();
                assertThat(body).hasSize(100_000);
                Backend.assertPattern(body, 0);
            }
        }
    }

    @Test
    void slowAnswersEventually() throws Exception {
        HttpResponse<byte[]> r = Http.get(backend.uri("/slow?ms=100"));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(new String(r.body(), StandardCharsets.US_ASCII)).isEqualTo("slow\n");
    }

    @Test
    void slowReadTakesTheBodyInPiecesWithPausesThenEchoes() throws Exception {
        byte[] body = Fixtures.random(300_000, 5); // 5 pieces of at most 64 KiB, 20 ms apart: at least 100 ms
        try (RawClient c = new RawClient(backend.port())) {
            long t0 = System.nanoTime();
            c.send("POST /slow-read?ms=20 HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length + "\r\n\r\n").send(body);
            RawClient.Response r = c.read();
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertThat(r.status()).isEqualTo(200);
            Echo e = Echo.parse(r.body());
            assertThat(e.target()).isEqualTo("/slow-read?ms=20");
            assertThat(e.bodyLength()).isEqualTo(body.length);
            assertThat(e.bodySha256()).isEqualTo(sha256(body));
            assertThat(ms).as("paced reads").isGreaterThanOrEqualTo(100);
            // chunked too: the chunk-size lines are not paced byte by byte
            r = c.send("POST /slow-read?ms=1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n").read();
            assertThat(Echo.parse(r.body()).bodyText()).isEqualTo("hello");
        }
    }

    // ---- failures ---------------------------------------------------------------------------------------------

    @Test
    void resetSendsAnRstInsteadOfAResponse() throws Exception {
        try (RawClient c = new RawClient(backend.port())) {
            c.send("GET /reset HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThatThrownBy(() -> c.input().read()).isInstanceOf(SocketException.class).hasMessageContaining("reset");
        }
        assertThat(lastWithPath("/reset").method()).isEqualTo("GET");
    }

    @Test
    void resetMidSendsPartOfTheBodyThenAnRst() throws Exception {
        try (RawClient c = new RawClient(backend.port())) {
            RawClient.Response r = c.send("GET /reset-mid?size=100000 HTTP/1.1\r\nHost: x\r\n\r\n").read(true);
            assertThat(r.header("Content-Length")).isEqualTo("100000");
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            IOException error = null;
            try {
                for (int n; (n = c.input().read(buf)) >= 0; ) got.write(buf, 0, n);
            } catch (SocketException e) {
                error = e;
            }
            assertThat(error).as("the connection ends in a reset").isNotNull();
            assertThat(got.size()).isLessThanOrEqualTo(50_000);
            Backend.assertPattern(got.toByteArray(), 0);
        }
    }

    @Test
    void hangNeverAnswersUntilTheBackendCloses() throws Exception {
        Backend b = Backend.start();
        try (RawClient c = new RawClient(b.port())) {
            c.send("GET /hang HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(b.awaitReceived(1, 10_000)).isTrue();
            c.timeout(300);
            assertThatThrownBy(() -> c.input().read()).isInstanceOf(SocketTimeoutException.class);
            assertThat(b.openConnections()).isEqualTo(1);
            c.timeout(15_000);
            b.close();
            assertThat(c.closedByServer()).isTrue();
            assertThat(b.openConnections()).isZero();
        } finally {
            b.close();
        }
    }

    @Test
    void liesAreSentVerbatimThenClosed() throws Exception {
        Map<String, String> lies = new LinkedHashMap<>();
        lies.put("both", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
        lies.put("cl-conflict", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!");
        lies.put("short", "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000\r\n\r\n0123456789");
        lies.put("bad-chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n");
        lies.put("garbage", "SSH-2.0-OpenSSH_9.6\r\n\r\n");
        for (var lie : lies.entrySet()) {
            try (RawClient c = new RawClient(backend.port())) {
                c.send("GET /lie/" + lie.getKey() + " HTTP/1.1\r\nHost: x\r\n\r\n");
                assertThat(new String(c.input().readAllBytes(), StandardCharsets.ISO_8859_1)).as(lie.getKey()).isEqualTo(lie.getValue());
            }
        }
    }

    @Test
    void malformedRequestsAre400AndReported() throws Exception {
        try (Backend b = Backend.start(); RawClient c = new RawClient(b.port())) {
            c.send("GET /echo HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(400);
            assertThat(c.closedByServer()).isTrue();
            assertThat(b.protocolErrors()).singleElement().asString().contains("folding");
            assertThat(b.received()).isEmpty();
        }
        for (String bad : List.of("GET /echo HTTP/1.1\nHost: x\n\n", "GET /echo HTTP/1.1\r\n\r\n",
                "GET /echo HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", "GET /echo HTTP/1.1\r\nHost: x\r\nX: a\u0001b\r\n\r\n",
                "GET  /echo HTTP/1.1\r\nHost: x\r\n\r\n", "GET /echo HTTP/2.0\r\nHost: x\r\n\r\n", "GET /echo HTTP/1.1\r\nHost : x\r\n\r\n",
                "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
                "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n")) {
            try (RawClient c = new RawClient(backend.port())) {
                assertThat(c.send(bad).read().status()).as(bad).isEqualTo(400);
            }
        }
    }

    // ---- 1xx and upgrades -------------------------------------------------------------------------------------

    @Test
    void continueSends100And103ThenTheEcho() throws Exception {
        try (RawClient c = new RawClient(backend.port())) {
            c.send("POST /continue HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
            assertThat(c.read(true).status()).isEqualTo(100); // before the body was sent
            c.send("hello");
            RawClient.Response hints = c.read(true);
            assertThat(hints.status()).isEqualTo(103);
            assertThat(hints.header("Link")).isEqualTo("</style.css>; rel=preload; as=style");
            RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(Echo.parse(r.body()).bodyText()).isEqualTo("hello");
        }
    }

    @Test
    void expectContinueIsAnsweredOnAnyRoute() throws Exception {
        try (RawClient c = new RawClient(backend.port())) {
            c.send("PUT /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
            assertThat(c.read(true).status()).isEqualTo(100);
            assertThat(Echo.parse(c.send("ok").read().body()).bodyText()).isEqualTo("ok");
        }
    }

    @Test
    void webSocketEcho() throws Exception {
        try (WebSocketClient ws = WebSocketClient.connect(backend.port(), "/ws", "Sec-WebSocket-Protocol: chat, superchat")) {
            assertThat(ws.status()).isEqualTo(101);
            assertThat(ws.header("Sec-WebSocket-Protocol")).isEqualTo("chat");
            ws.sendText("héllo");
            WebSocketClient.Frame f = ws.receive();
            assertThat(f.opcode()).isEqualTo(WebSocketClient.TEXT);
            assertThat(f.masked()).isFalse();
            assertThat(f.text()).isEqualTo("héllo");
            for (int size : new int[] {0, 125, 126, 65535, 65536, 300_000}) { // every length encoding
                byte[] data = Fixtures.random(size, size);
                ws.sendBinary(data);
                WebSocketClient.Frame b = ws.receive();
                assertThat(b.opcode()).isEqualTo(WebSocketClient.BINARY);
                assertThat(b.payload()).isEqualTo(data);
            }
            ws.send(false, WebSocketClient.TEXT, "frag".getBytes(StandardCharsets.UTF_8));
            ws.send(true, WebSocketClient.CONTINUATION, "ment".getBytes(StandardCharsets.UTF_8));
            WebSocketClient.Frame first = ws.receive(), second = ws.receive(); // echoed frame for frame
            assertThat(first.fin()).isFalse();
            assertThat(first.opcode()).isEqualTo(WebSocketClient.TEXT);
            assertThat(second.fin()).isTrue();
            assertThat(second.opcode()).isEqualTo(WebSocketClient.CONTINUATION);
            assertThat(first.text() + second.text()).isEqualTo("fragment");
            ws.ping(new byte[] {1, 2, 3});
            WebSocketClient.Frame pong = ws.receive();
            assertThat(pong.opcode()).isEqualTo(WebSocketClient.PONG);
            assertThat(pong.payload()).containsExactly(1, 2, 3);
            ws.sendClose(1001, "going away");
            WebSocketClient.Frame close = ws.receive();
            assertThat(close.opcode()).isEqualTo(WebSocketClient.CLOSE);
            assertThat(close.closeCode()).isEqualTo(1001);
            assertThat(close.closeReason()).isEqualTo("going away");
            assertThat(ws.input().read()).isEqualTo(-1);
        }
        Received rec = lastWithPath("/ws");
        assertThat(rec.header("Upgrade")).isEqualTo("websocket");
    }

    @Test
    void webSocketHandshakeIsValidated() throws Exception {
        try (WebSocketClient ws = WebSocketClient.attempt("127.0.0.1", backend.port(), "/ws", "Sec-WebSocket-Version: 8")) {
            assertThat(ws.status()).isEqualTo(426);
            assertThat(ws.header("Sec-WebSocket-Version")).isEqualTo("13");
        }
        try (WebSocketClient ws = WebSocketClient.attempt("127.0.0.1", backend.port(), "/ws", "Upgrade: h2c")) {
            assertThat(ws.status()).isEqualTo(400);
        }
        try (WebSocketClient ws = WebSocketClient.attempt("127.0.0.1", backend.port(), "/ws", "Sec-WebSocket-Key: short")) {
            assertThat(ws.status()).isEqualTo(400);
        }
        assertThatThrownBy(() -> WebSocketClient.connect(backend.port(), "/ws", "Connection: keep-alive"))
                .isInstanceOf(java.net.ProtocolException.class).hasMessageContaining("400");
    }

    @Test
    void webSocketServerClosesOnAnUnmaskedFrame() throws Exception {
        try (WebSocketClient ws = WebSocketClient.connect(backend.port(), "/ws")) {
            OutputStream out = ws.socket().getOutputStream();
            WebSocketClient.writeFrame(out, true, WebSocketClient.TEXT, new byte[] {'x'}, false);
            out.flush();
            WebSocketClient.Frame f = ws.receive();
            assertThat(f.opcode()).isEqualTo(WebSocketClient.CLOSE);
            assertThat(f.closeCode()).isEqualTo(1002);
        }
    }

    @Test
    void rawUpgradeEchoesBytesAndPassesOnTheHalfClose() throws Exception {
        try (RawClient c = new RawClient(backend.port())) {
            c.send("GET /upgrade-raw HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nearly");
            RawClient.Response r = c.read(true);
            assertThat(r.status()).isEqualTo(101);
            assertThat(r.header("Upgrade")).isEqualTo("echo");
            assertThat(new String(c.input().readNBytes(5), StandardCharsets.US_ASCII)).isEqualTo("early");
            byte[] data = Fixtures.random(200_000, 9);
            Thread writer = Thread.ofPlatform().start(() -> {
                try {
                    c.send(data);
                    c.socket().shutdownOutput();
                } catch (IOException ignored) {
                    // the reader below fails then
                }
            });
            assertThat(c.input().readAllBytes()).isEqualTo(data);
            writer.join(10_000);
        }
    }

    // ---- options ----------------------------------------------------------------------------------------------

    @Test
    void extraHeadersAndHeldConnections() throws Exception {
        try (Backend b = Backend.start(o -> o.holdConnectionsOpen().extraResponseHeaders(List.of("Connection: X-Secret",
                "X-Secret: 1", "Keep-Alive: timeout=5", "Proxy-Connection: keep-alive")));
             RawClient c = new RawClient(b.port())) {
            RawClient.Response r = c.send("GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").read();
            assertThat(r.header("Connection")).isEqualTo("X-Secret"); // not "close": the backend holds on
            assertThat(r.header("X-Secret")).isEqualTo("1");
            assertThat(r.header("Keep-Alive")).isEqualTo("timeout=5");
            assertThat(r.header("Proxy-Connection")).isEqualTo("keep-alive");
            c.timeout(300);
            assertThat(c.closedByServer()).isFalse();
            assertThat(b.openConnections()).isEqualTo(1);
            c.timeout(15_000);
            assertThat(c.send("GET /bytes?size=1 HTTP/1.1\r\nHost: x\r\n\r\n").read().header("X-Secret")).isEqualTo("1");
        }
    }

    @Test
    void idleConnectionsAreClosedAfterTheIdleTimeout() throws Exception {
        try (Backend b = Backend.start(o -> o.idleTimeout(Duration.ofMillis(200))); RawClient c = new RawClient(b.port())) {
            assertThat(c.send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n").read().status()).isEqualTo(200);
            assertThat(c.closedByServer()).isTrue();
        }
    }

    @Test
    void closeEndsEveryConnection() throws Exception {
        Backend b = Backend.start();
        try (RawClient c1 = new RawClient(b.port()); RawClient c2 = new RawClient(b.port())) {
            assertThat(c1.send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n").read().status()).isEqualTo(200);
            assertThat(c2.send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n").read().status()).isEqualTo(200);
            assertThat(b.received()).extracting(Received::connection).containsExactlyInAnyOrder(1, 2);
            assertThat(b.openConnections()).isEqualTo(2);
            b.close();
            assertThat(c1.closedByServer()).isTrue();
            assertThat(c2.closedByServer()).isTrue();
            assertThat(b.openConnections()).isZero();
        } finally {
            b.close();
        }
    }

    @Test
    void unixSocketBackend(@TempDir Path dir) throws Exception {
        Path sock = dir.resolve("backend.sock");
        try (Backend b = Backend.startUnix(sock)) {
            assertThat(b.socketFile()).isEqualTo(sock);
            assertThatThrownBy(b::port).isInstanceOf(IllegalStateException.class);
            try (Wire w = Wire.connectUnix(sock)) {
                w.readTimeout(15_000);
                InputStream in = new java.io.BufferedInputStream(w.in());
                OutputStream out = w.out();
                out.write(Backend.ascii("POST /echo/unix HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"));
                Map<String, String> h = new LinkedHashMap<>();
                assertThat(head(in, h)).isEqualTo("HTTP/1.1 200 OK");
                Echo e = Echo.parse(in.readNBytes(Integer.parseInt(h.get("content-length"))));
                assertThat(e.bodyText()).isEqualTo("abc");
                out.write(Backend.ascii("GET /bytes?size=1000000 HTTP/1.1\r\nHost: x\r\n\r\n"));
                h.clear();
                assertThat(head(in, h)).isEqualTo("HTTP/1.1 200 OK");
                byte[] body = in.readNBytes(1_000_000);
                Backend.assertPattern(body, 0);
                out.write(Backend.ascii("GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
                h.clear();
                head(in, h);
                in.readNBytes(Integer.parseInt(h.get("content-length")));
                assertThat(in.read()).isEqualTo(-1);
            }
            assertThat(b.received()).extracting(Received::target).containsExactly("/echo/unix", "/bytes?size=1000000", "/echo");
            assertThat(b.connectionsAccepted()).isEqualTo(1);
        }
        assertThat(sock).doesNotExist();
    }

    // ---- nginx ------------------------------------------------------------------------------------------------

    @Test
    void nginxServesFilesAndExtraLocations() throws Exception {
        try (NginxUpstream nginx = NginxUpstream.start("location = /xff { return 200 \"$http_x_forwarded_for\"; }")) {
            Files.write(nginx.root().resolve("large.bin"), Fixtures.LARGE);
            Files.writeString(nginx.root().resolve("hello.txt"), Fixtures.HELLO);
            try (HttpClient c = Http.client()) {
                HttpResponse<byte[]> big = Http.get(c, nginx.uri("/large.bin"));
                assertThat(big.statusCode()).isEqualTo(200);
                assertThat(big.body()).isEqualTo(Fixtures.LARGE);
                HttpResponse<byte[]> hello = Http.get(c, nginx.uri("/hello.txt"));
                assertThat(hello.headers().firstValue("Content-Type")).hasValue("text/plain");
                assertThat(new String(hello.body(), StandardCharsets.US_ASCII)).isEqualTo(Fixtures.HELLO);
                HttpResponse<byte[]> xff = Http.get(c, nginx.uri("/xff"), "X-Forwarded-For", "192.0.2.1");
                assertThat(new String(xff.body(), StandardCharsets.US_ASCII)).isEqualTo("192.0.2.1");
                assertThat(Http.get(c, nginx.uri("/missing")).statusCode()).isEqualTo(404);
            }
        }
    }

    // ---- helpers ----------------------------------------------------------------------------------------------

    @Test
    void patternHelpersAgreeWithTheBodies() throws Exception {
        byte[] p = Backend.pattern(250, 3);
        assertThat(p).containsExactly(250, 0, 1);
        p[1] = 9;
        assertThatThrownBy(() -> Backend.assertPattern(p, 250)).isInstanceOf(AssertionError.class).hasMessageContaining("byte 251");
        Map<String, Object> expected = new LinkedHashMap<>();
        expected.put("a", List.of(1L, "\u00ff\n"));
        expected.put("b", null);
        expected.put("c", true);
        assertThat(Json.parse("{\"a\":[1,\"\\u00ff\\n\"],\"b\":null,\"c\":true}")).isEqualTo(expected);
        assertThat(Json.quote("\"\\\u0001\u00e9")).isEqualTo("\"\\\"\\\\\\u0001\\u00e9\"");
    }

    private static Received lastWithPath(String path) {
        return backend.received().reversed().stream().filter(r -> r.path().equals(path)).findFirst().orElseThrow();
    }

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    /** One CRLF-terminated line, without it. */
    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int c; (c = in.read()) != '\n'; ) {
            if (c < 0) throw new EOFException();
            if (c != '\r') b.write(c);
        }
        return b.toString(StandardCharsets.ISO_8859_1);
    }

    /** Reads a response head into {@code fields} (lower-case names); returns the status line. */
    private static String head(InputStream in, Map<String, String> fields) throws IOException {
        String status = line(in);
        for (String l; !(l = line(in)).isEmpty(); ) {
            int c = l.indexOf(':');
            fields.put(l.substring(0, c).trim().toLowerCase(Locale.ROOT), l.substring(c + 1).trim());
        }
        return status;
    }

    /** At most {@code n} bytes of a stream, for a Content-Length framed body on a kept-alive connection. */
    private static final class Limited extends InputStream {
        private final InputStream in;
        private long left;

        Limited(InputStream in, long n) {
            this.in = in;
            this.left = n;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (left == 0) return -1;
            int n = in.read(b, off, (int) Math.min(len, left));
            if (n < 0) throw new EOFException(left + " body bytes missing");
            left -= n;
            return n;
        }
    }
}
