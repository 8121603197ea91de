package flash.fastcgi;

import flash.config.Architecture;
import flash.config.FastCgiRoute;
import flash.testing.AllArchs;
import flash.testing.ArchServers;
import flash.testing.Http;
import flash.testing.PhpFpm;
import flash.testing.RawClient;
import flash.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * FastCGI against a real php-fpm (Debian's php8.2-fpm, started by {@link PhpFpm} in the foreground): params,
 * forms and uploads, response headers, streaming, timeouts, the backend going away, the script-path rules.
 */
class FastCgiPhpTest {
    /**
     * Enough workers for every architecture's server at once: each keeps up to --fastcgi-connections (4) open, and
     * each open connection holds a worker, plus the workers still sleeping in scripts whose requests timed out.
     */
    private static final PhpFpm FPM = PhpFpm.start(24, "");
    private static final ArchServers SERVERS = new ArchServers(arch -> TestServer.start(FPM.root(), arch,
            c -> c.withFastcgi(List.of(FastCgiRoute.parse(".php=" + FPM.address()),
                            FastCgiRoute.parse(".kphp=unix:" + FPM.killSocket())))
                    .withIndexNames(List.of("index.php", "index.html"))
                    .withFastcgiTimeout(Duration.ofMillis(2500))
                    // --max-body 64 MiB: a 10 MB upload goes through (the default, 1 MiB, answers 413)
                    .withLimits(new flash.http.HttpLimits(8 * 1024, 16 * 1024, 100, 64L << 20))));


    static {
        FPM.write("env.php", """
                <?php
                header('Content-Type: text/plain');
                foreach (['SCRIPT_FILENAME', 'SCRIPT_NAME', 'PATH_INFO', 'REQUEST_URI', 'DOCUMENT_URI', 'DOCUMENT_ROOT',
                          'QUERY_STRING', 'REQUEST_METHOD', 'SERVER_PROTOCOL', 'REQUEST_SCHEME', 'GATEWAY_INTERFACE',
                          'SERVER_SOFTWARE', 'REMOTE_ADDR', 'SERVER_ADDR', 'SERVER_PORT', 'SERVER_NAME', 'REDIRECT_STATUS',
                          'CONTENT_TYPE', 'CONTENT_LENGTH', 'HTTP_X_TEST', 'HTTP_PROXY', 'HTTP_COOKIE', 'HTTP_X_UNDER_SCORE']
                         as $k) {
                    echo $k, '=', array_key_exists($k, $_SERVER) ? $_SERVER[$k] : '(unset)', "\\n";
                }
                """);
        FPM.write("form.php", """
                <?php
                header('Content-Type: text/plain');
                echo $_SERVER['REQUEST_METHOD'], ' a=', $_POST['a'] ?? '', ' b=', $_POST['b'] ?? '', "\\n";
                """);
        FPM.write("upload.php", """
                <?php
                header('Content-Type: text/plain');
                $f = $_FILES['file'] ?? null;
                if (!$f || $f['error'] !== UPLOAD_ERR_OK) { http_response_code(400); echo 'upload error ', $f['error'] ?? 'none'; exit; }
                $sha = hash_file('sha256', $f['tmp_name']);
                echo ($sha === $_POST['sha'] ? 'ok' : 'mismatch'), ' ', $f['size'], ' ', $f['name'], ' ', $sha;
                """);
        FPM.write("cookies.php", """
                <?php
                setcookie('a', '1');
                setcookie('b', '2', ['path' => '/x']);
                setcookie('c', '3');
                header('Content-Type: text/plain');
                echo 'cookies';
                """);
        FPM.write("redirect.php", """
                <?php
                header('Location: https://example.com/moved');
                """);
        FPM.write("teapot.php", """
                <?php
                http_response_code(418);
                header('Content-Type: text/plain');
                header('X-Extra: yes');
                echo 'short and stout';
                """);
        FPM.write("big.php", """
                <?php
                header('Content-Type: application/octet-stream');
                $n = intval($_GET['mb'] ?? 50);
                $block = str_repeat('0123456789abcdef', 4096); // 64 KiB
                for ($i = 0; $i < $n * 16; $i++) { echo $block; flush(); }
                """);
        // The script's own Content-Length: exact (streamed in flushed 64 KiB blocks), more output than it declared
        // (whole, and streamed past the first read), and less than it declared (whole, and streamed).
        FPM.write("sized.php", """
                <?php
                $blocks = intval($_GET['blocks'] ?? 40);
                $extra = intval($_GET['extra'] ?? 0);
                header('Content-Type: application/octet-stream');
                header('Content-Length: ' . ($blocks * 65536 + $extra));
                $block = str_repeat('0123456789abcdef', 4096);
                for ($i = 0; $i < $blocks; $i++) { echo $block; flush(); }
                """);
        FPM.write("overlong.php", "<?php header('Content-Type: text/plain'); header('Content-Length: 5'); echo 'hello world';\n");
        FPM.write("short.php", "<?php header('Content-Type: text/plain'); header('Content-Length: 10'); echo 'hello';\n");
        FPM.write("slow.php", """
                <?php
                sleep(intval($_GET['s'] ?? 5));
                header('Content-Type: text/plain');
                echo 'late';
                """);
        FPM.write("term.kphp", """
                <?php
                sleep(5);
                echo 'never';
                """);
        FPM.write("stderr.php", """
                <?php
                error_log('flash-stderr-marker');
                header('Content-Type: text/plain');
                echo 'logged';
                """);
        FPM.write("dir/index.php", "<?php header('Content-Type: text/plain'); echo 'index ', $_SERVER['SCRIPT_NAME'];\n");
        FPM.write("static/index.html", "static index\n");
        FPM.write("uploads/x.jpg", "<?php echo 'pwned';\n");
    }

    @AfterAll
    static void stop() {
        SERVERS.close();
        FPM.close();
    }

    private static URI uri(Architecture arch, String path) { return SERVERS.get(arch).uri(path); }

    private static String text(HttpResponse<byte[]> r) { return new String(r.body(), StandardCharsets.UTF_8); }

    @AllArchs
    void getPassesNginxsParams(Architecture arch) throws Exception {
        HttpResponse<byte[]> r = Http.get(uri(arch, "/env.php/extra/path?x=1&y=%20"), "X-Test", "hello", "Proxy",
                "http://evil.example:1/", "Cookie", "a=1", "X-Under_Score", "no");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).hasValue("text/plain;charset=UTF-8");
        String b = text(r);
        String root = FPM.root().toString();
        assertThat(b).contains("SCRIPT_FILENAME=" + root + "/env.php\n", "SCRIPT_NAME=/env.php\n",
                "PATH_INFO=/extra/path\n", "REQUEST_URI=/env.php/extra/path?x=1&y=%20\n",
                "DOCUMENT_URI=/env.php/extra/path\n", "DOCUMENT_ROOT=" + root + "\n", "QUERY_STRING=x=1&y=%20\n",
                "REQUEST_METHOD=GET\n", "SERVER_PROTOCOL=HTTP/1.1\n", "REQUEST_SCHEME=http\n",
                "GATEWAY_INTERFACE=CGI/1.1\n", "SERVER_SOFTWARE=flash\n", "REMOTE_ADDR=127.0.0.1\n",
                "SERVER_ADDR=127.0.0.1\n", "SERVER_PORT=" + SERVERS.get(arch).port() + "\n", "SERVER_NAME=127.0.0.1\n",
                "REDIRECT_STATUS=200\n", "HTTP_X_TEST=hello\n", "HTTP_COOKIE=a=1\n",
                "HTTP_PROXY=(unset)\n", "HTTP_X_UNDER_SCORE=(unset)\n", "CONTENT_LENGTH=\n");
    }

    @AllArchs
    void postsAnUrlencodedForm(Architecture arch) throws Exception {
        try (HttpClient c = Http.client()) {
            HttpResponse<byte[]> r = c.send(HttpRequest.newBuilder(uri(arch, "/form.php"))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString("a=hello+world&b=%C3%A9")).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(text(r)).isEqualTo("POST a=hello world b=é\n");
        }
    }

    @AllArchs
    void uploadsTenMegabytesInAMultipartForm(Architecture arch) throws Exception {
        byte[] file = new byte[10 * 1024 * 1024];
        new Random(7).nextBytes(file);
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(file));
        String boundary = "----flashboundary7d1";
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"sha\"\r\n\r\n" + sha + "\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        body.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"blob.bin\"\r\n"
                + "Content-Type: application/octet-stream\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        body.writeBytes(file);
        body.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII));
        try (HttpClient c = Http.client()) {
            HttpResponse<byte[]> r = c.send(HttpRequest.newBuilder(uri(arch, "/upload.php"))
                    .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                    .timeout(Duration.ofSeconds(60))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertThat(text(r)).isEqualTo("ok " + file.length + " blob.bin " + sha);
            assertThat(r.statusCode()).isEqualTo(200);
        }
    }

    @AllArchs
    void keepsSetCookieFieldsApart(Architecture arch) throws Exception {
        HttpResponse<byte[]> r = Http.get(uri(arch, "/cookies.php"));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().allValues("set-cookie")).containsExactly("a=1", "b=2; path=/x", "c=3");
        assertThat(text(r)).isEqualTo("cookies");
    }

    @AllArchs
    void headerRedirectsAndResponseCodes(Architecture arch) throws Exception {
        HttpResponse<byte[]> r = Http.get(uri(arch, "/redirect.php"));
        assertThat(r.statusCode()).isEqualTo(302);
        assertThat(r.headers().firstValue("location")).hasValue("https://example.com/moved");
        HttpResponse<byte[]> t = Http.get(uri(arch, "/teapot.php"));
        assertThat(t.statusCode()).isEqualTo(418);
        assertThat(t.headers().firstValue("x-extra")).hasValue("yes");
        assertThat(text(t)).isEqualTo("short and stout");
    }

    @AllArchs
    void streamsFiftyMegabytesFlushedAsTheyCome(Architecture arch) throws Exception {
        try (HttpClient c = Http.client()) {
            HttpResponse<InputStream> r = c.send(HttpRequest.newBuilder(uri(arch, "/big.php?mb=50"))
                    .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofInputStream());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("transfer-encoding")).hasValue("chunked");
            assertThat(countPattern(r.body(), 0)).isEqualTo(50L << 20);
        }
    }

    @AllArchs
    void aScriptsOwnContentLengthFramesItsResponseInsteadOfChunks(Architecture arch) throws Exception {
        try (RawClient c = new RawClient(SERVERS.get(arch).port())) {
            c.send("GET /sized.php?blocks=40 HTTP/1.1\r\nHost: x\r\n\r\n");
            RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("transfer-encoding")).isNull();
            assertThat(r.header("content-length")).isEqualTo(Long.toString(40L * 65536));
            assertThat(countPattern(new java.io.ByteArrayInputStream(r.body()), 0)).isEqualTo(40L * 65536);
            // Output past the declared length is dropped, whole or streamed, and the connection goes on.
            c.send("GET /overlong.php HTTP/1.1\r\nHost: x\r\n\r\n");
            r = c.read();
            assertThat(r.header("content-length")).isEqualTo("5");
            assertThat(r.bodyText()).isEqualTo("hello");
            c.send("GET /sized.php?blocks=8&extra=-1000 HTTP/1.1\r\nHost: x\r\n\r\n");
            r = c.read();
            assertThat(r.header("content-length")).isEqualTo(Long.toString(8L * 65536 - 1000));
            assertThat(countPattern(new java.io.ByteArrayInputStream(r.body()), 0)).isEqualTo(8L * 65536 - 1000);
            c.send("GET /teapot.php HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(418);
        }
    }

    @AllArchs
    void aScriptThatWritesLessThanItsContentLengthIsNeverPassedOffAsComplete(Architecture arch) throws Exception {
        // Whole in one read: nothing was sent yet, so 502.
        assertThat(Http.get(uri(arch, "/short.php")).statusCode()).isEqualTo(502);
        // Streamed: the head with the promised length is out, so the connection closes short of it.
        try (RawClient c = new RawClient(SERVERS.get(arch).port())) {
            c.send("GET /sized.php?blocks=8&extra=1000 HTTP/1.1\r\nHost: x\r\n\r\n");
            byte[] all = c.readToEnd();
            String text = new String(all, StandardCharsets.ISO_8859_1);
            assertThat(text).startsWith("HTTP/1.1 200").contains("Content-Length: " + (8L * 65536 + 1000));
            assertThat(all.length - (text.indexOf("\r\n\r\n") + 4)).isEqualTo(8 * 65536);
        }
    }

    @AllArchs
    void aSlowClientGetsTheWholeStream(Architecture arch) throws Exception {
        // A small receive buffer and a pause: the server's writes block, so it must stop reading php-fpm meanwhile
        // (and not time php-fpm out for the client's slowness), then finish.
        try (RawClient c = new RawClient(SERVERS.get(arch).port(), 16 * 1024)) {
            c.send("GET /big.php?mb=8 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            Thread.sleep(3000); // longer than --fastcgi-timeout
            InputStream in = c.socket().getInputStream();
            byte[] all = in.readAllBytes();
            String s = new String(all, StandardCharsets.ISO_8859_1);
            assertThat(s).startsWith("HTTP/1.1 200");
            int bodyAt = s.indexOf("\r\n\r\n") + 4;
            byte[] body = dechunk(all, bodyAt);
            assertThat(countPattern(new java.io.ByteArrayInputStream(body), 0)).isEqualTo(8L << 20);
        }
    }

    @AllArchs
    void aSlowScriptGets504(Architecture arch) throws Exception {
        long t0 = System.nanoTime();
        HttpResponse<byte[]> r = Http.get(uri(arch, "/slow.php?s=5"));
        assertThat(r.statusCode()).isEqualTo(504);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofMillis(4500));
        // The slot and the connection were given back: the next request runs.
        assertThat(Http.get(uri(arch, "/teapot.php")).statusCode()).isEqualTo(418);
    }

    @AllArchs
    void aRequestPhpFpmTerminatesGets502(Architecture arch) throws Exception {
        HttpResponse<byte[]> r = Http.get(uri(arch, "/term.kphp"));
        assertThat(r.statusCode()).isEqualTo(502);
    }

    /**
     * A script found is remembered for --revalidate-ms (default 1 s), so a hot script costs no disk check per
     * request; a deleted one is 404 again, never sent to the backend, once that bound has passed.
     */
    @AllArchs
    void aDeletedScriptIsMissingAgainWithinTheRevalidationBound(Architecture arch) throws Exception {
        String name = "gone-" + arch.name().toLowerCase(java.util.Locale.ROOT) + ".php";
        Path script = FPM.write(name, "<?php header('Content-Type: text/plain'); echo 'here';");
        assertThat(Http.get(uri(arch, "/" + name)).statusCode()).isEqualTo(200);
        TestServer s = SERVERS.get(arch);
        if (s.inProcess()) { // the second request is answered from the cache: no disk task for it
            long before = s.server().dispatcher().stats().stream().mapToLong(l -> l.diskTasks.sum()).sum();
            assertThat(Http.get(uri(arch, "/" + name)).statusCode()).isEqualTo(200);
            long after = s.server().dispatcher().stats().stream().mapToLong(l -> l.diskTasks.sum()).sum();
            assertThat(after).as("disk tasks for a cached script").isEqualTo(before);
        }
        Files.delete(script);
        assertThat(Http.await(() -> {
            try {
                return Http.get(uri(arch, "/" + name)).statusCode() == 404;
            } catch (Exception e) {
                return false;
            }
        }, 10_000)).as("404 once the entry is older than --revalidate-ms").isTrue();
    }

    @AllArchs
    void aMissingScriptIs404AndNeverReachesTheBackend(Architecture arch) throws Exception {
        assertThat(Http.get(uri(arch, "/missing.php")).statusCode()).isEqualTo(404);
        assertThat(Http.get(uri(arch, "/uploads/x.jpg/y.php")).statusCode()).isEqualTo(404);
        assertThat(Http.get(uri(arch, "/uploads/x.jpg/")).statusCode()).isEqualTo(404);
        assertThat(Http.get(uri(arch, "/env.php.bak")).statusCode()).isEqualTo(404);
        assertThat(Http.get(uri(arch, "/dir.php/")).statusCode()).isEqualTo(404);
        // A request that does reach php-fpm, logged after the ones above: they would be in the log before it.
        assertThat(Http.get(uri(arch, "/teapot.php?marker-" + arch)).statusCode()).isEqualTo(418);
        assertThat(Http.await(() -> FPM.accessLog().contains("marker-" + arch), 5000)).isTrue();
        assertThat(FPM.accessLog()).doesNotContain("missing.php", "x.jpg", "env.php.bak", "dir.php");
    }

    @AllArchs
    void aDirectoryRunsItsIndexScript(Architecture arch) throws Exception {
        HttpResponse<byte[]> r = Http.get(uri(arch, "/dir/"));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(text(r)).isEqualTo("index /dir/index.php");
        HttpResponse<byte[]> s = Http.get(uri(arch, "/static/"));
        assertThat(s.statusCode()).isEqualTo(200);
        assertThat(text(s)).isEqualTo("static index\n");
        assertThat(Http.get(uri(arch, "/dir")).statusCode()).isEqualTo(301);
    }

    @AllArchs
    void theSourceOfAScriptIsNeverServed(Architecture arch) throws Exception {
        HttpResponse<byte[]> r = Http.get(uri(arch, "/form.php"));
        assertThat(text(r)).doesNotContain("<?php");
    }

    @AllArchs
    void keepsConnectionsAliveAcrossRequests(Architecture arch) throws Exception {
        try (HttpClient c = Http.client()) {
            for (int i = 0; i < 20; i++) {
                HttpResponse<byte[]> r = Http.get(c, uri(arch, "/teapot.php?i=" + i));
                assertThat(r.statusCode()).isEqualTo(418);
            }
        }
    }

    // ------------------------------------------------------------------ helpers

    /** Checks the body is big.php's repeating pattern from offset {@code from}; returns its length. */
    static long countPattern(InputStream in, long from) throws java.io.IOException {
        byte[] pattern = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
        byte[] buf = new byte[65536];
        long n = from;
        for (int r; (r = in.read(buf)) > 0; ) {
            for (int i = 0; i < r; i++) {
                if (buf[i] != pattern[(int) ((n + i) & 15)]) throw new AssertionError("body differs at byte " + (n + i));
            }
            n += r;
        }
        return n;
    }

    /** Decodes a chunked body starting at {@code at}. */
    static byte[] dechunk(byte[] all, int at) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int p = at;
        while (true) {
            int eol = indexOf(all, p);
            int size = Integer.parseInt(new String(all, p, eol - p, StandardCharsets.US_ASCII).trim(), 16);
            p = eol + 2;
            if (size == 0) return out.toByteArray();
            out.write(all, p, size);
            p += size + 2;
        }
    }

    private static int indexOf(byte[] a, int from) {
        for (int i = from; i + 1 < a.length; i++) if (a[i] == '\r' && a[i + 1] == '\n') return i;
        throw new AssertionError("truncated chunked body");
    }

    static void assumeNotMp(Architecture arch, String why) { Assumptions.assumeTrue(arch != Architecture.MP, why); }

    static CompletableFuture<HttpResponse<byte[]>> async(HttpClient c, URI u) {
        return c.sendAsync(HttpRequest.newBuilder(u).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }
}
