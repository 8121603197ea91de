package flash.embed;

import flash.config.Architecture;
import flash.testing.Fixtures;
import flash.testing.Http;
import flash.testing.RawClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The embedding API in this JVM, under every in-process architecture (mp is refused by design): routes in front of
 * static files, request data and body in, buffered and streamed responses out, failures, HEAD, and a graceful close.
 */
class EmbedTest {
    private static final String ARCHS = "flash.testing.TestServer#archs";

    private static Flash start(Architecture arch, Flash.Builder b) throws IOException {
        return b.root(Fixtures.root()).port(0).arch(arch.cliName()).drainTimeout(Duration.ofSeconds(10)).build().start();
    }

    private static URI uri(Flash f, String path) { return URI.create("http://127.0.0.1:" + f.port() + path); }

    /** Echoes what the handler saw, then the request body. */
    private static void echo(Exchange ex) throws IOException {
        byte[] body = ex.requestBody().readAllBytes();
        String seen = ex.method() + " " + ex.path() + " ?" + ex.query() + " x-test=" + ex.header("X-Test")
                + " len=" + body.length + "\n";
        ex.status(201);
        ex.header("X-Echo", "yes");
        ex.header("X-Virtual", String.valueOf(Thread.currentThread().isVirtual())); // never a loop, never a pool
        try (OutputStream out = ex.responseBody()) {
            out.write(seen.getBytes(StandardCharsets.UTF_8));
            out.write(body);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource(ARCHS)
    void aRouteSeesMethodPathQueryHeadersAndBody(Architecture arch) throws Exception {
        byte[] sent = Fixtures.random(300_000, 7); // many of the connection's read buffers, and several pieces
        try (Flash f = start(arch, Flash.builder().route("/api", EmbedTest::echo)); HttpClient c = Http.client()) {
            HttpResponse<byte[]> r = c.send(HttpRequest.newBuilder(uri(f, "/api/echo%20me?a=1&b=%20"))
                    .header("X-Test", "xyz").POST(HttpRequest.BodyPublishers.ofByteArray(sent)).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertThat(r.statusCode()).isEqualTo(201);
            assertThat(r.headers().firstValue("X-Echo")).hasValue("yes");
            assertThat(r.headers().firstValue("X-Virtual")).hasValue("true");
            String line = "POST /api/echo me ?a=1&b=%20 x-test=xyz len=300000\n";
            byte[] lineBytes = line.getBytes(StandardCharsets.UTF_8);
            assertThat(new String(Arrays.copyOf(r.body(), lineBytes.length), StandardCharsets.UTF_8)).isEqualTo(line);
            assertThat(Arrays.copyOfRange(r.body(), lineBytes.length, r.body().length)).isEqualTo(sent);
            // Expect: 100-continue: the client sends its body once the handler reads it.
            HttpResponse<byte[]> cont = c.send(HttpRequest.newBuilder(uri(f, "/api/c")).expectContinue(true)
                    .PUT(HttpRequest.BodyPublishers.ofByteArray(sent)).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertThat(cont.statusCode()).isEqualTo(201);
            assertThat(new String(cont.body(), 0, 40, StandardCharsets.UTF_8)).startsWith("PUT /api/c ?null x-test=null len=300000");
            // A small answer written whole before the handler returned goes out with its length, not chunked.
            HttpResponse<byte[]> g = Http.get(c, uri(f, "/api"));
            assertThat(new String(g.body(), StandardCharsets.UTF_8)).isEqualTo("GET /api ?null x-test=null len=0\n");
            assertThat(g.headers().firstValue("Content-Length")).hasValue(Integer.toString(g.body().length));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource(ARCHS)
    void aResponseWithoutLengthIsStreamedChunked(Architecture arch) throws Exception {
        CountDownLatch firstSeen = new CountDownLatch(1);
        byte[] piece = Fixtures.random(100_000, 9);
        Handler h = ex -> {
            ex.header("Content-Type", "application/octet-stream");
            OutputStream out = ex.responseBody();
            out.write(piece);
            out.flush();
            // The rest is written only once the client has the first piece: it must have been sent already.
            if (!firstSeen.await(30, TimeUnit.SECONDS)) throw new IllegalStateException("first piece not received");
            for (int i = 0; i < 20; i++) out.write(piece); // 2 MB more: past the window, so writes wait for the client
        };
        try (Flash f = start(arch, Flash.builder().route("/stream", h)); RawClient raw = new RawClient(f.port())) {
            raw.send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
            InputStream in = raw.input();
            String head = readHead(in);
            assertThat(head).startsWith("HTTP/1.1 200 OK").containsIgnoringCase("Transfer-Encoding: chunked")
                    .doesNotContainIgnoringCase("Content-Length");
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            while (body.size() < piece.length) readChunk(in, body);
            firstSeen.countDown();
            while (readChunk(in, body) > 0) { }
            byte[] all = body.toByteArray();
            assertThat(all).hasSize(21 * piece.length);
            for (int i = 0; i < 21; i++) assertThat(Arrays.copyOfRange(all, i * piece.length, (i + 1) * piece.length)).isEqualTo(piece);
            // The connection stays usable: a static file next.
            raw.send("GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(raw.read().bodyText()).isEqualTo(Fixtures.HELLO);
        }
    }

    static String readHead(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        while (!sb.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) throw new IOException("closed in the head: " + sb);
            sb.append((char) b);
        }
        return sb.toString();
    }

    /** Reads one chunk into {@code body}; returns its size (0: the last chunk, trailers read). */
    static int readChunk(InputStream in, ByteArrayOutputStream body) throws IOException {
        String size = line(in);
        int n = Integer.parseInt(size.trim(), 16);
        if (n == 0) {
            while (!line(in).isEmpty()) { }
            return 0;
        }
        body.write(in.readNBytes(n));
        assertThat(line(in)).isEmpty();
        return n;
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        int b;
        while ((b = in.read()) != '\n') {
            if (b < 0) throw new IOException("closed mid-line");
            if (b != '\r') sb.append((char) b);
        }
        return sb.toString();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource(ARCHS)
    void staticFilesSitBehindTheRoutes(Architecture arch) throws Exception {
        Flash.Builder b = Flash.builder()
                .route("/api", ex -> ex.send(200, "text/plain", "api".getBytes(StandardCharsets.UTF_8)))
                .route("/api/v2", ex -> ex.send(200, "text/plain", "v2".getBytes(StandardCharsets.UTF_8)));
        try (Flash f = start(arch, b); HttpClient c = Http.client()) {
            HttpResponse<byte[]> file = Http.get(c, uri(f, "/hello.txt"));
            assertThat(file.statusCode()).isEqualTo(200);
            assertThat(new String(file.body(), StandardCharsets.UTF_8)).isEqualTo(Fixtures.HELLO);
            assertThat(Http.get(c, uri(f, "/large.bin")).body()).isEqualTo(Fixtures.LARGE);
            assertThat(new String(Http.get(c, uri(f, "/api/x")).body(), StandardCharsets.UTF_8)).isEqualTo("api");
            assertThat(new String(Http.get(c, uri(f, "/api/v2/y")).body(), StandardCharsets.UTF_8)).isEqualTo("v2");
            HttpResponse<byte[]> typed = Http.get(c, uri(f, "/api"));
            assertThat(typed.headers().firstValue("Content-Type")).hasValue("text/plain");
            assertThat(typed.headers().firstValue("Content-Length")).hasValue("3");
            assertThat(Http.get(c, uri(f, "/apix")).statusCode()).isEqualTo(404); // a prefix is a path segment
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource(ARCHS)
    void aHandlerThatThrowsGives500AndTheServerGoesOn(Architecture arch) throws Exception {
        Flash.Builder b = Flash.builder()
                .route("/boom", ex -> { throw new IllegalStateException("boom"); })
                .route("/late", ex -> {
                    // More than the bridge queues: part of it has left for the client when the handler throws.
                    ex.responseBody().write(new byte[4 * Bridge.WINDOW]);
                    throw new IllegalStateException("late boom");
                });
        try (Flash f = start(arch, b); HttpClient c = Http.client()) {
            assertThat(Http.get(c, uri(f, "/boom")).statusCode()).isEqualTo(500);
            // After the head left, all that is left is to close: the client sees a truncated response.
            assertThatThrownBy(() -> Http.get(c, uri(f, "/late"))).isInstanceOf(IOException.class);
            assertThat(Http.get(c, uri(f, "/hello.txt")).statusCode()).isEqualTo(200);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource(ARCHS)
    void headRunsTheHandlerAndSendsNoBody(Architecture arch) throws Exception {
        AtomicReference<Throwable> failed = new AtomicReference<>();
        CountDownLatch ran = new CountDownLatch(1);
        Handler h = ex -> {
            try {
                ex.header("X-Ran", "1");
                ex.responseBody().write(new byte[200_000]); // past the window: must not block or fail
                ex.responseBody().close();
            } catch (Throwable t) {
                failed.set(t);
            } finally {
                ran.countDown();
            }
        };
        try (Flash f = start(arch, Flash.builder().route("/h", h)); RawClient raw = new RawClient(f.port())) {
            raw.send("HEAD /h HTTP/1.1\r\nHost: x\r\n\r\n");
            RawClient.Response r = raw.read(true);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("X-Ran")).isEqualTo("1");
            assertThat(ran.await(30, TimeUnit.SECONDS)).isTrue();
            assertThat(failed.get()).isNull();
            raw.send("GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(raw.read().bodyText()).isEqualTo(Fixtures.HELLO);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource(ARCHS)
    void closeLetsTheRequestInFlightFinish(Architecture arch) throws Exception {
        CountDownLatch entered = new CountDownLatch(1), release = new CountDownLatch(1);
        Handler slow = ex -> {
            entered.countDown();
            release.await();
            ex.send(200, "text/plain", "finished".getBytes(StandardCharsets.UTF_8));
        };
        Flash f = start(arch, Flash.builder().route("/slow", slow));
        int port = f.port();
        try (HttpClient c = Http.client()) {
            CompletableFuture<HttpResponse<byte[]>> inFlight = c.sendAsync(HttpRequest.newBuilder(uri(f, "/slow"))
                    .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertThat(entered.await(30, TimeUnit.SECONDS)).isTrue();
            CompletableFuture<Void> closing = CompletableFuture.runAsync(f::close);
            // New connections are refused once closing has begun.
            assertThat(Http.await(() -> {
                try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
                    return false;
                } catch (IOException e) {
                    return true;
                }
            }, 10_000)).isTrue();
            assertThat(closing).isNotDone();
            release.countDown();
            HttpResponse<byte[]> r = inFlight.get(30, TimeUnit.SECONDS);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo("finished");
            closing.get(30, TimeUnit.SECONDS);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource(ARCHS)
    void closeCutsAHandlerThatOutlivesTheDrainTimeout(Architecture arch) throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CompletableFuture<Throwable> interrupted = new CompletableFuture<>();
        Handler hung = ex -> {
            entered.countDown();
            try {
                new CountDownLatch(1).await(); // never released
            } catch (InterruptedException e) {
                interrupted.complete(e);
            }
        };
        Flash f = Flash.builder().root(Fixtures.root()).port(0).arch(arch.cliName()).drainTimeout(Duration.ofMillis(500))
                .route("/hung", hung).build().start();
        try (RawClient raw = new RawClient(f.port())) {
            raw.send("GET /hung HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(entered.await(30, TimeUnit.SECONDS)).isTrue();
            CompletableFuture<Void> closing = CompletableFuture.runAsync(f::close);
            closing.get(60, TimeUnit.SECONDS); // bounded by the drain timeout, not by the handler
            assertThat(interrupted.get(30, TimeUnit.SECONDS)).isInstanceOf(InterruptedException.class);
            // The client is not left hanging: a 503 (mt, vt) or a close.
            raw.timeout(30_000);
            byte[] rest;
            try {
                rest = raw.readToEnd();
            } catch (IOException reset) { // closed with unread input: a reset is a close too
                rest = new byte[0];
            }
            assertThat(rest.length == 0 || new String(rest, StandardCharsets.ISO_8859_1).startsWith("HTTP/1.1 503")).isTrue();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource(ARCHS)
    void aDeclaredLengthIsSentAsIsAndAShortBodyIsCut(Architecture arch) throws Exception {
        Flash.Builder b = Flash.builder()
                .route("/len", ex -> {
                    ex.header("Content-Length", "40000");
                    OutputStream out = ex.responseBody();
                    for (int i = 0; i < 4; i++) {
                        out.write(new byte[10_000]);
                        out.flush();
                    }
                })
                .route("/short", ex -> {
                    ex.header("Content-Length", Integer.toString(8 * Bridge.WINDOW));
                    ex.responseBody().write(new byte[4 * Bridge.WINDOW]); // part of it has left when it returns
                });
        try (Flash f = start(arch, b); HttpClient c = Http.client()) {
            HttpResponse<byte[]> r = Http.get(c, uri(f, "/len"));
            assertThat(r.headers().firstValue("Content-Length")).hasValue("40000");
            assertThat(r.body()).hasSize(40_000);
            assertThatThrownBy(() -> Http.get(c, uri(f, "/short"))).isInstanceOf(IOException.class);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource(ARCHS)
    void aClientThatLeavesMidStreamFailsTheHandlersWrites(Architecture arch) throws Exception {
        CompletableFuture<Throwable> writeFailed = new CompletableFuture<>();
        Handler endless = ex -> {
            OutputStream out = ex.responseBody();
            byte[] piece = new byte[8192];
            try {
                while (true) out.write(piece);
            } catch (IOException e) {
                writeFailed.complete(e);
                throw e;
            }
        };
        try (Flash f = start(arch, Flash.builder().route("/endless", endless))) {
            try (RawClient raw = new RawClient(f.port())) {
                raw.send("GET /endless HTTP/1.1\r\nHost: x\r\n\r\n");
                assertThat(readHead(raw.input())).startsWith("HTTP/1.1 200");
                raw.discard(100_000);
            } // the client goes away mid-body
            assertThat(writeFailed.get(30, TimeUnit.SECONDS)).isInstanceOf(IOException.class);
            try (HttpClient c = Http.client()) {
                assertThat(Http.get(c, uri(f, "/hello.txt")).statusCode()).isEqualTo(200);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource(ARCHS)
    void pipelinedRequestsToRoutesAreAnsweredInOrder(Architecture arch) throws Exception {
        Handler h = ex -> {
            byte[] body = ex.requestBody().readAllBytes();
            ex.send(200, "text/plain", (ex.path() + ":" + new String(body, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8));
        };
        try (Flash f = start(arch, Flash.builder().route("/p", h)); RawClient raw = new RawClient(f.port())) {
            raw.send("POST /p/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\none"
                    + "GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "POST /p/2 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\n"
                    + "GET /p/3 HTTP/1.0\r\n\r\n");
            assertThat(raw.read().bodyText()).isEqualTo("/p/1:one");
            assertThat(raw.read().bodyText()).isEqualTo(Fixtures.HELLO);
            assertThat(raw.read().bodyText()).isEqualTo("/p/2:two");
            assertThat(raw.read().bodyText()).isEqualTo("/p/3:");
        }
    }

    @Test
    void mpIsRefusedWithAReason() {
        assertThatThrownBy(() -> Flash.builder().arch("mp")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("mp").hasMessageContaining("JVM");
        assertThatThrownBy(() -> Flash.builder().arch("nope")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("amped, sped, mt or vt");
        assertThatThrownBy(() -> Flash.builder().build()).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> Flash.builder().route("api", ex -> { })).isInstanceOf(IllegalArgumentException.class);
    }
}
