package flash.fastcgi;

import flash.config.Architecture;
import flash.config.FastCgiRoute;
import flash.testing.AllArchs;
import flash.testing.Fixtures;
import flash.testing.Http;
import flash.testing.PhpFpm;
import flash.testing.RawClient;
import flash.testing.TestServer;
import org.junit.jupiter.api.Assumptions;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The backend's side of FastCGI: php-fpm going away and coming back, the bound on connections and the queue in
 * front of it, STDERR, request framing we refuse, and a second responder, fcgiwrap, running a shell CGI script.
 * Each test starts its own php-fpm and server, since each changes the backend's state.
 */
class FastCgiBackendTest {

    private static String text(HttpResponse<byte[]> r) { return new String(r.body(), StandardCharsets.UTF_8); }

    private static TestServer server(PhpFpm fpm, Architecture arch, java.util.function.UnaryOperator<flash.config.ServerConfig> more) {
        return TestServer.start(fpm.root(), arch, c -> more.apply(c.withFastcgi(List.of(FastCgiRoute.parse(".php=" + fpm.address())))));
    }

    @AllArchs
    void phpFpmStoppedGives502AndItsReturnIsNoticed(Architecture arch) throws Exception {
        try (PhpFpm fpm = PhpFpm.start(2, "")) {
            fpm.write("hi.php", "<?php header('Content-Type: text/plain'); echo 'hi';\n");
            try (TestServer s = server(fpm, arch, c -> c)) {
                assertThat(text(Http.get(s.uri("/hi.php")))).isEqualTo("hi");
                fpm.stop();
                assertThat(Http.get(s.uri("/hi.php")).statusCode()).isEqualTo(502);
                assertThat(Http.get(s.uri("/hi.php")).statusCode()).isEqualTo(502);
                fpm.restart();
                HttpResponse<byte[]> r = Http.get(s.uri("/hi.php"));
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(text(r)).isEqualTo("hi");
            }
        }
    }

    @AllArchs
    void requestsBeyondThePoolWaitInOrderAndPastTheQueueGet503(Architecture arch) throws Exception {
        Assumptions.assumeTrue(arch != Architecture.MP, "an mp worker serves one connection at a time: nothing queues");
        try (PhpFpm fpm = PhpFpm.start(4, "")) {
            fpm.write("slow.php", "<?php sleep(2); header('Content-Type: text/plain'); echo 'slow';\n");
            fpm.write("hi.php", "<?php header('Content-Type: text/plain'); echo 'hi';\n");
            try (TestServer s = server(fpm, arch, c -> c.withLoops(1).withFastcgiConnections(1).withFastcgiQueue(1)
                    .withFastcgiTimeout(Duration.ofSeconds(10)));
                 HttpClient client = Http.client()) {
                CompletableFuture<HttpResponse<byte[]>> first = client.sendAsync(
                        HttpRequest.newBuilder(s.uri("/slow.php")).build(), HttpResponse.BodyHandlers.ofByteArray());
                Thread.sleep(500); // it holds the one connection
                CompletableFuture<HttpResponse<byte[]>> second = client.sendAsync(
                        HttpRequest.newBuilder(s.uri("/hi.php")).build(), HttpResponse.BodyHandlers.ofByteArray());
                Thread.sleep(500); // it waits in the queue, which is now full
                HttpResponse<byte[]> third = Http.get(s.uri("/hi.php"));
                assertThat(third.statusCode()).isEqualTo(503);
                assertThat(third.headers().firstValue("retry-after")).hasValue("1");
                assertThat(second.isDone()).isFalse();
                HttpResponse<byte[]> r1 = first.get(20, TimeUnit.SECONDS);
                HttpResponse<byte[]> r2 = second.get(20, TimeUnit.SECONDS);
                assertThat(r1.statusCode()).isEqualTo(200);
                assertThat(text(r1)).isEqualTo("slow");
                assertThat(r2.statusCode()).isEqualTo(200);
                assertThat(text(r2)).isEqualTo("hi");
                // Everything was given back: the queue and the connection serve again.
                assertThat(text(Http.get(s.uri("/hi.php")))).isEqualTo("hi");
            }
        }
    }

    /**
     * Forty clients through one FastCGI connection: each small answer is taken whole from the read buffer while the
     * slot passes straight on to the next queued request; every client gets its own answer, with its length (one
     * write, not chunked).
     */
    @AllArchs
    void queuedRequestsEachGetTheirOwnWholeAnswer(Architecture arch) throws Exception {
        // An mp worker serves one client connection at a time (idle keep-alive ones included): 40 clients queue in
        // the listen backlog for minutes, and nothing queues for a FastCGI slot.
        Assumptions.assumeTrue(arch != Architecture.MP, "an mp worker serves one connection at a time: nothing queues");
        try (PhpFpm fpm = PhpFpm.start(2, "")) {
            fpm.write("echo.php", "<?php header('Content-Type: text/plain'); echo 'n=', $_GET['n'];\n");
            try (TestServer s = server(fpm, arch, c -> c.withLoops(1).withFastcgiConnections(1).withFastcgiQueue(100)
                    .withFastcgiTimeout(Duration.ofSeconds(20)));
                 HttpClient client = Http.client()) {
                List<CompletableFuture<HttpResponse<byte[]>>> all = new java.util.ArrayList<>();
                for (int i = 0; i < 40; i++) {
                    all.add(client.sendAsync(HttpRequest.newBuilder(s.uri("/echo.php?n=" + i)).build(),
                            HttpResponse.BodyHandlers.ofByteArray()));
                }
                for (int i = 0; i < 40; i++) {
                    HttpResponse<byte[]> r = all.get(i).get(60, TimeUnit.SECONDS);
                    assertThat(r.statusCode()).isEqualTo(200);
                    assertThat(text(r)).isEqualTo("n=" + i);
                    assertThat(r.headers().firstValue("content-length")).hasValue(Integer.toString(("n=" + i).length()));
                    assertThat(r.headers().firstValue("transfer-encoding")).isEmpty();
                }
            }
        }
    }

    /**
     * The paper's point, for scripts: while every FastCGI connection is busy with a slow script and more requests
     * wait in the queue, static files are still served at once under the event-driven architectures (a waiting
     * request costs a queue entry, not a thread). mt, vt and mp hold a thread or process per waiting request.
     */
    @AllArchs
    void slowScriptsDoNotSlowStaticFiles(Architecture arch) throws Exception {
        Assumptions.assumeTrue(arch == Architecture.AMPED || arch == Architecture.SPED, "event-driven architectures only");
        try (PhpFpm fpm = PhpFpm.start(2, "")) {
            fpm.write("slow.php", "<?php sleep(1); header('Content-Type: text/plain'); echo 'slow';\n");
            fpm.write("static.txt", "static\n");
            try (TestServer s = server(fpm, arch, c -> c.withFastcgiConnections(2).withFastcgiTimeout(Duration.ofSeconds(30)));
                 HttpClient client = Http.client()) {
                List<CompletableFuture<HttpResponse<byte[]>>> slow = new java.util.ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    slow.add(client.sendAsync(HttpRequest.newBuilder(s.uri("/slow.php?i=" + i)).build(),
                            HttpResponse.BodyHandlers.ofByteArray()));
                }
                Thread.sleep(300);
                // One keep-alive client, warmed up: what is timed is the server. A script takes 1 s and 8 of them
                // share 2 connections, so static requests stuck behind them would take seconds; this machine is
                // shared and noisy, so the bound is on the median, and a generous one on the slowest.
                long[] ms = new long[20];
                try (RawClient c = new RawClient(s.port())) {
                    for (int i = -1; i < ms.length; i++) {
                        long t0 = System.nanoTime();
                        c.send("GET /static.txt HTTP/1.1\r\nHost: x\r\n\r\n");
                        assertThat(c.read().bodyText()).isEqualTo("static\n");
                        if (i >= 0) ms[i] = (System.nanoTime() - t0) / 1_000_000;
                    }
                }
                java.util.Arrays.sort(ms);
                assertThat(ms[ms.length / 2]).as("median static latency (ms) while scripts wait: %s", java.util.Arrays.toString(ms))
                        .isLessThan(250);
                assertThat(ms[ms.length - 1]).as("slowest (ms)").isLessThan(1500);
                assertThat(slow.stream().filter(f -> !f.isDone()).count()).as("scripts still queued or running").isPositive();
                for (CompletableFuture<HttpResponse<byte[]>> f : slow) assertThat(f.get(60, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
            }
        }
    }

    @AllArchs
    void aRequestQueuedLongerThanTheTimeoutGets503(Architecture arch) throws Exception {
        Assumptions.assumeTrue(arch != Architecture.MP, "an mp worker serves one connection at a time: nothing queues");
        try (PhpFpm fpm = PhpFpm.start(4, "")) {
            // Busy for 3 s, but never silent for long: its own request does not time out.
            fpm.write("drip.php", "<?php header('Content-Type: text/plain'); for ($i = 0; $i < 6; $i++) { echo $i; flush(); usleep(500000); }\n");
            fpm.write("hi.php", "<?php header('Content-Type: text/plain'); echo 'hi';\n");
            try (TestServer s = server(fpm, arch, c -> c.withLoops(1).withFastcgiConnections(1).withFastcgiQueue(4)
                    .withFastcgiTimeout(Duration.ofMillis(1500)));
                 HttpClient client = Http.client()) {
                CompletableFuture<HttpResponse<byte[]>> drip = client.sendAsync(
                        HttpRequest.newBuilder(s.uri("/drip.php")).build(), HttpResponse.BodyHandlers.ofByteArray());
                Thread.sleep(300);
                HttpResponse<byte[]> waited = Http.get(s.uri("/hi.php"));
                assertThat(waited.statusCode()).isEqualTo(503);
                assertThat(waited.headers().firstValue("retry-after")).hasValue("1");
                assertThat(text(drip.get(20, TimeUnit.SECONDS))).isEqualTo("012345");
                assertThat(text(Http.get(s.uri("/hi.php")))).isEqualTo("hi");
            }
        }
    }

    @AllArchs
    void aClientThatLeavesWhileQueuedGivesUpItsPlace(Architecture arch) throws Exception {
        Assumptions.assumeTrue(arch != Architecture.MP, "an mp worker serves one connection at a time: nothing queues");
        try (PhpFpm fpm = PhpFpm.start(4, "")) {
            fpm.write("slow.php", "<?php sleep(1); header('Content-Type: text/plain'); echo 'slow';\n");
            fpm.write("hi.php", "<?php header('Content-Type: text/plain'); echo 'hi';\n");
            try (TestServer s = server(fpm, arch, c -> c.withLoops(1).withFastcgiConnections(1).withFastcgiQueue(1)
                    .withFastcgiTimeout(Duration.ofSeconds(10)));
                 HttpClient client = Http.client()) {
                CompletableFuture<HttpResponse<byte[]>> first = client.sendAsync(
                        HttpRequest.newBuilder(s.uri("/slow.php")).build(), HttpResponse.BodyHandlers.ofByteArray());
                Thread.sleep(300);
                try (RawClient gone = new RawClient(s.port())) {
                    gone.send("GET /hi.php HTTP/1.1\r\nHost: x\r\n\r\n");
                    Thread.sleep(200);
                }
                assertThat(first.get(20, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
                for (int i = 0; i < 3; i++) assertThat(text(Http.get(s.uri("/hi.php")))).isEqualTo("hi");
            }
        }
    }

    @AllArchs
    void stderrGoesToTheErrorLog(Architecture arch) throws Exception {
        Assumptions.assumeTrue(arch != Architecture.MP, "the log of mp workers is in their own processes");
        List<String> logged = new java.util.concurrent.CopyOnWriteArrayList<>();
        Logger log = Logger.getLogger(FastCgiExchange.class.getName());
        Handler h = new Handler() {
            @Override public void publish(LogRecord r) { logged.add(r.getMessage()); }
            @Override public void flush() { }
            @Override public void close() { }
        };
        log.addHandler(h);
        try (PhpFpm fpm = PhpFpm.start(2, "php_admin_value[error_log] = /proc/self/fd/2\n");
             TestServer s = server(fpm, arch, c -> c)) {
            // Without an error_log of its own, PHP sends error_log() to the SAPI: FastCGI's STDERR.
            fpm.write("err.php", "<?php ini_set('error_log', ''); error_log('flash-stderr-marker'); header('Content-Type: text/plain'); echo 'ok';\n");
            HttpResponse<byte[]> r = Http.get(s.uri("/err.php"));
            assertThat(text(r)).isEqualTo("ok");
            assertThat(Http.await(() -> logged.stream().anyMatch(m -> m.contains("/err.php") && m.contains("flash-stderr-marker")), 5000))
                    .as("logged: %s", logged).isTrue();
        } finally {
            log.removeHandler(h);
        }
    }

    @AllArchs
    void headAndChunkedBodies(Architecture arch) throws Exception {
        try (PhpFpm fpm = PhpFpm.start(2, "")) {
            fpm.write("hi.php", "<?php header('Content-Type: text/plain'); echo 'hi';\n");
            fpm.write("len.php", "<?php header('Content-Type: text/plain'); echo $_SERVER['CONTENT_LENGTH'], ':', file_get_contents('php://input');\n");
            try (TestServer s = server(fpm, arch, c -> c); RawClient c = new RawClient(s.port())) {
                c.send("HEAD /hi.php HTTP/1.1\r\nHost: x\r\n\r\n");
                RawClient.Response head = c.read(true);
                assertThat(head.status()).isEqualTo(200);
                assertThat(head.body()).isEmpty();
                c.send("GET /hi.php HTTP/1.1\r\nHost: x\r\n\r\n");
                assertThat(c.read().bodyText()).isEqualTo("hi");
                // A chunked body is collected first: the script is told its length (FastCGI needs CONTENT_LENGTH).
                c.send("POST /len.php HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2;ext=1\r\nab\r\n3\r\ncde\r\n0\r\nX-T: 1\r\n\r\n");
                assertThat(c.read().bodyText()).isEqualTo("5:abcde");
                c.send("GET /hi.php HTTP/1.1\r\nHost: x\r\n\r\n");
                assertThat(c.read().bodyText()).as("the connection goes on after a collected body").isEqualTo("hi");
            }
        }
    }

    @AllArchs
    void fcgiwrapRunsAShellCgiScript(Architecture arch) throws Exception {
        Path fcgiwrap = Path.of("/usr/sbin/fcgiwrap");
        Assumptions.assumeTrue(Files.isExecutable(fcgiwrap), "fcgiwrap is not installed");
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "flash-fcw-");
        Process p = null;
        try {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            Path root = Files.createDirectories(dir.resolve("root"));
            Path script = root.resolve("hello.sh");
            Files.writeString(script, """
                    #!/bin/sh
                    printf 'Content-Type: text/plain\\r\\n'
                    printf 'X-Script: shell\\r\\n\\r\\n'
                    echo "hello from sh: $REQUEST_METHOD $QUERY_STRING $PATH_INFO $SCRIPT_NAME"
                    if [ -n "$CONTENT_LENGTH" ]; then printf 'body: '; head -c "$CONTENT_LENGTH"; echo; fi
                    """);
            Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
            Path local = root.resolve("local.sh");
            Files.writeString(local, "#!/bin/sh\nprintf 'Location: /target.txt\\n\\n'\n");
            Files.setPosixFilePermissions(local, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.writeString(root.resolve("target.txt"), "the target\n");
            Path sock = dir.resolve("fcgiwrap.sock");
            // More fcgiwrap children than mp workers: each worker keeps its FastCGI connection pooled (KEEP_CONN), and a
            // child serves one connection until it closes, so with two children two idle pooled connections left a
            // third worker's request waiting for the pool's idle timeout (a 30 s client timeout, seen under mp).
            p = new ProcessBuilder(fcgiwrap.toString(), "-c", String.valueOf(TestServer.MP_PROCESSES + 1), "-s", "unix:" + sock)
                    .redirectErrorStream(true).redirectOutput(dir.resolve("out.txt").toFile()).start();
            assertThat(Http.await(() -> Files.exists(sock), 10_000)).as("fcgiwrap socket").isTrue();
            Files.setPosixFilePermissions(sock, PosixFilePermissions.fromString("rwxrwxrwx"));
            try (TestServer s = TestServer.start(root, arch,
                    c -> c.withFastcgi(List.of(FastCgiRoute.parse(".sh=unix:" + sock))))) {
                HttpResponse<byte[]> r = Http.get(s.uri("/hello.sh/more?q=1"));
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.headers().firstValue("x-script")).hasValue("shell");
                assertThat(text(r)).isEqualTo("hello from sh: GET q=1 /more /hello.sh\n");
                try (HttpClient c = Http.client()) {
                    HttpResponse<byte[]> post = c.send(HttpRequest.newBuilder(s.uri("/hello.sh"))
                            .POST(HttpRequest.BodyPublishers.ofString("posted")).build(), HttpResponse.BodyHandlers.ofByteArray());
                    assertThat(text(post)).isEqualTo("hello from sh: POST   /hello.sh\nbody: posted\n");
                }
                assertThat(Http.get(s.uri("/nothere.sh")).statusCode()).isEqualTo(404);
                // A local Location without a Status is re-dispatched as a GET (RFC 3875 6.2.2): the client gets the
                // static file's 200, never a 302.
                HttpResponse<byte[]> redirected = Http.get(s.uri("/local.sh"));
                assertThat(redirected.statusCode()).isEqualTo(200);
                assertThat(text(redirected)).isEqualTo("the target\n");
                assertThat(Http.get(s.uri("/hello.sh")).statusCode()).as("the pool goes on after a redirect").isEqualTo(200);
            }
        } finally {
            if (p != null) {
                // fcgiwrap -c 2 forks its workers, which outlive a stopped parent: take them first.
                List<ProcessHandle> workers = p.descendants().toList();
                p.destroy();
                if (!p.waitFor(5, TimeUnit.SECONDS)) p.destroyForcibly();
                workers.forEach(ProcessHandle::destroy);
            }
            Fixtures.deleteTree(dir);
        }
    }
}
