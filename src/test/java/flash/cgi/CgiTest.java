package flash.cgi;

import flash.config.Architecture;
import flash.config.CgiRoute;
import flash.http.HttpLimits;
import flash.testing.AllArchs;
import flash.testing.ArchServers;
import flash.testing.RawClient;
import flash.testing.TestServer;
import org.junit.jupiter.api.AfterAll;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** CGI/1.1 (RFC 3875) under every architecture, against shell programs in a real CGI directory. */
class CgiTest {
    static final ArchServers SERVERS = new ArchServers(arch -> TestServer.start(CgiScripts.ROOT, arch,
            c -> c.withCgis(List.of(CgiRoute.parse("/cgi-bin=" + CgiScripts.DIR)))
                    .withCgiTimeout(Duration.ofSeconds(10)) // timeouts are CgiLifecycleTest's: none here, even on a loaded machine
                    .withLimits(new HttpLimits(8192, 16384, 100, 4L << 20))));

    @AfterAll
    static void stop() { SERVERS.close(); }

    static RawClient client(Architecture arch) throws Exception { return new RawClient(SERVERS.get(arch).port()); }

    static RawClient.Response get(Architecture arch, String target, String... headers) throws Exception {
        try (RawClient c = client(arch)) {
            c.timeout(20_000);
            StringBuilder b = new StringBuilder("GET ").append(target).append(" HTTP/1.1\r\nHost: cgi.test:8080\r\n");
            for (String h : headers) b.append(h).append("\r\n");
            c.send(b.append("Connection: close\r\n\r\n").toString());
            return c.read();
        }
    }

    static Map<String, String> env(RawClient.Response r) {
        Map<String, String> env = new LinkedHashMap<>();
        for (String line : r.bodyText().split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) env.put(line.substring(0, eq), line.substring(eq + 1));
        }
        return env;
    }

    @AllArchs
    void environmentIsExactlyTheMetaVariables(Architecture arch) throws Exception {
        RawClient.Response r = get(arch, "/cgi-bin/env.cgi", "X-Rep: a", "X-Rep: b", "Cookie: c=1", "Cookie: d=2");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("Content-Type")).isEqualTo("text/plain");
        Map<String, String> env = env(r);
        int port = SERVERS.get(arch).port();
        assertThat(env).containsOnlyKeys("PATH", "GATEWAY_INTERFACE", "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL",
                "SERVER_SOFTWARE", "REQUEST_METHOD", "QUERY_STRING", "SCRIPT_NAME", "REMOTE_ADDR", "REMOTE_PORT",
                "REQUEST_URI", "SCRIPT_FILENAME", "DOCUMENT_ROOT", "REDIRECT_STATUS", "HTTP_HOST", "HTTP_X_REP",
                "HTTP_COOKIE", "HTTP_CONNECTION", "ARGC");
        assertThat(env).containsEntry("PATH", "/usr/local/bin:/usr/bin:/bin")
                .containsEntry("GATEWAY_INTERFACE", "CGI/1.1")
                .containsEntry("SERVER_NAME", "cgi.test")
                .containsEntry("SERVER_PORT", Integer.toString(port))
                .containsEntry("SERVER_PROTOCOL", "HTTP/1.1")
                .containsEntry("SERVER_SOFTWARE", "flash")
                .containsEntry("REQUEST_METHOD", "GET")
                .containsEntry("QUERY_STRING", "")
                .containsEntry("SCRIPT_NAME", "/cgi-bin/env.cgi")
                .containsEntry("REMOTE_ADDR", "127.0.0.1")
                .containsEntry("REQUEST_URI", "/cgi-bin/env.cgi")
                .containsEntry("SCRIPT_FILENAME", CgiScripts.DIR.resolve("env.cgi").toString())
                .containsEntry("DOCUMENT_ROOT", CgiScripts.ROOT.toString())
                .containsEntry("REDIRECT_STATUS", "200")
                .containsEntry("HTTP_HOST", "cgi.test:8080")
                .containsEntry("HTTP_X_REP", "a, b")
                .containsEntry("HTTP_COOKIE", "c=1; d=2")
                .containsEntry("ARGC", "0");
        assertThat(Integer.parseInt(env.get("REMOTE_PORT"))).isPositive();
    }

    @AllArchs
    void pathInfoAndQueryString(Architecture arch) throws Exception {
        Map<String, String> env = env(get(arch, "/cgi-bin/env.cgi/extra/a%20b?x=1&y=%41+b"));
        assertThat(env).containsEntry("PATH_INFO", "/extra/a b")
                .containsEntry("PATH_TRANSLATED", CgiScripts.ROOT + "/extra/a b")
                .containsEntry("QUERY_STRING", "x=1&y=%41+b")
                .containsEntry("SCRIPT_NAME", "/cgi-bin/env.cgi")
                .containsEntry("REQUEST_URI", "/cgi-bin/env.cgi/extra/a%20b?x=1&y=%41+b")
                .containsEntry("ARGC", "0"); // never argv from the query (CVE-2012-1823): "x=1" has no '=' rule here
        Map<String, String> isindex = env(get(arch, "/cgi-bin/env.cgi?-s+-d"));
        assertThat(isindex).containsEntry("QUERY_STRING", "-s+-d").containsEntry("ARGC", "0");
    }

    @AllArchs
    void httpoxyUnderscoresAndCredentialsAreDropped(Architecture arch) throws Exception {
        Map<String, String> env = env(get(arch, "/cgi-bin/env.cgi", "Proxy: http://evil.example:1/",
                "X_Forwarded_User: admin", "X-Forwarded-User: real", "Authorization: Basic c2VjcmV0",
                "Proxy-Authorization: Basic c2VjcmV0"));
        assertThat(env).doesNotContainKeys("HTTP_PROXY", "HTTP_AUTHORIZATION", "HTTP_PROXY_AUTHORIZATION");
        assertThat(env).containsEntry("HTTP_X_FORWARDED_USER", "real"); // the '_' spelling never overrides it
    }

    @AllArchs
    void bodyVariablesOnlyWithABody(Architecture arch) throws Exception {
        try (RawClient c = client(arch)) {
            c.send("POST /cgi-bin/env.cgi HTTP/1.1\r\nHost: t\r\nContent-Type: text/x-test\r\nContent-Length: 3\r\n\r\nabc");
            Map<String, String> env = env(c.read());
            assertThat(env).containsEntry("CONTENT_LENGTH", "3").containsEntry("CONTENT_TYPE", "text/x-test")
                    .containsEntry("REQUEST_METHOD", "POST").doesNotContainKeys("HTTP_CONTENT_LENGTH", "HTTP_CONTENT_TYPE");
            // keep-alive: the next request on the same connection has no body variables
            c.send("GET /cgi-bin/env.cgi HTTP/1.0\r\n\r\n");
            RawClient.Response head = c.read(true); // HTTP/1.0: the body ends at the close
            assertThat(head.header("Transfer-Encoding")).isNull();
            Map<String, String> next = env(new RawClient.Response(200, "", Map.of(), c.readToEnd()));
            assertThat(next).doesNotContainKeys("CONTENT_LENGTH", "CONTENT_TYPE", "HTTP_HOST")
                    .containsEntry("SERVER_PROTOCOL", "HTTP/1.0");
        }
    }

    @AllArchs
    void notFoundAndForbidden(Architecture arch) throws Exception {
        assertThat(get(arch, "/cgi-bin/missing.cgi").status()).isEqualTo(404);
        assertThat(get(arch, "/cgi-bin/").status()).isEqualTo(404);
        assertThat(get(arch, "/cgi-bin/.hidden").status()).isEqualTo(404);
        assertThat(get(arch, "/cgi-bin/not-executable.cgi").status()).isEqualTo(403);
        assertThat(get(arch, "/cgi-bin/subdir").status()).isEqualTo(403);
        assertThat(get(arch, "/cgi-bin/escape.cgi").status()).isEqualTo(403); // a symlink out of DIR
        assertThat(get(arch, "/cgi-bin/alias.cgi").status()).isEqualTo(418); // a symlink inside DIR is fine
        assertThat(get(arch, "/cgi-bin/../cgi-bin/status.cgi").status()).isEqualTo(418);
    }

    @AllArchs
    void aScriptInheritsNoDescriptorButItsPipes(Architecture arch) throws Exception {
        RawClient.Response r = get(arch, "/cgi-bin/fds.cgi");
        assertThat(r.status()).isEqualTo(200);
        List<String> fds = r.bodyText().lines().toList();
        assertThat(fds).as("stdin, stdout, stderr are pipes").contains("0 " + pipeOf(fds, 0), "1 " + pipeOf(fds, 1));
        assertThat(fds).as("no socket, jar or eventfd of the server's").noneMatch(l -> l.contains("socket:")
                || l.contains(".jar") || l.contains("eventfd") || l.contains("anon_inode"));
        // Beyond 0-2, only what the shell opened for itself: its script, and the pipe of $(readlink ...).
        assertThat(fds.stream().filter(l -> !l.startsWith("0 ") && !l.startsWith("1 ") && !l.startsWith("2 ")))
                .allMatch(l -> l.contains("fds.cgi") || l.contains("pipe:"));
    }

    private static String pipeOf(List<String> fds, int fd) {
        String line = fds.stream().filter(l -> l.startsWith(fd + " ")).findFirst().orElse(fd + " none");
        assertThat(line).contains("pipe:");
        return line.substring(line.indexOf(' ') + 1);
    }

    @AllArchs
    void theCgiDirectoryIsNeverServedAsFiles(Architecture arch) throws Exception {
        RawClient.Response r = get(arch, "/cgi/env.cgi");
        assertThat(r.status()).isEqualTo(404);
        assertThat(r.bodyText()).doesNotContain("environ");
        assertThat(get(arch, "/cgi/not-executable.cgi").status()).isEqualTo(404);
        assertThat(get(arch, "/page.txt").status()).isEqualTo(200);
    }

    @AllArchs
    void statusFieldsAndCookies(Architecture arch) throws Exception {
        try (RawClient c = client(arch)) {
            c.send("GET /cgi-bin/status.cgi HTTP/1.1\r\nHost: t\r\n\r\n");
            c.timeout(10_000);
            RawClient.Response r = c.read();
            assertThat(r.statusLine()).isEqualTo("HTTP/1.1 418 Short And Stout");
            assertThat(r.header("X-Custom")).isEqualTo("yes");
            assertThat(r.bodyText()).isEqualTo("teapot");
            assertThat(r.header("Status")).isNull();
            // HEAD: same head, no body, and the connection stays usable
            c.send("HEAD /cgi-bin/status.cgi HTTP/1.1\r\nHost: t\r\n\r\n");
            RawClient.Response h = c.read(true);
            assertThat(h.status()).isEqualTo(418);
            assertThat(h.body()).isEmpty();
            c.send("GET /cgi-bin/bare-status.cgi HTTP/1.1\r\nHost: t\r\n\r\n");
            RawClient.Response b = c.read();
            assertThat(b.statusLine()).isEqualTo("HTTP/1.1 404 Not Found");
            assertThat(b.bodyText()).isEqualTo("nope");
        }
        // the two Set-Cookie fields stay apart on the wire
        try (RawClient c = client(arch)) {
            c.send("GET /cgi-bin/status.cgi HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
            String raw = new String(c.readToEnd(), StandardCharsets.ISO_8859_1);
            assertThat(raw).contains("\r\nSet-Cookie: a=1\r\n").contains("\r\nSet-Cookie: b=2\r\n");
        }
    }

    @AllArchs
    void locationHandling(Architecture arch) throws Exception {
        RawClient.Response abs = get(arch, "/cgi-bin/absolute.cgi");
        assertThat(abs.status()).isEqualTo(302);
        assertThat(abs.header("Location")).isEqualTo("http://example.com/elsewhere");
        // a local path is re-dispatched internally, as a GET
        try (RawClient c = client(arch)) {
            c.timeout(10_000);
            c.send("POST /cgi-bin/local.cgi HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nbody");
            RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            Map<String, String> env = env(r);
            assertThat(env).containsEntry("REQUEST_METHOD", "GET").containsEntry("PATH_INFO", "/redirected")
                    .containsEntry("QUERY_STRING", "r=1").doesNotContainKey("CONTENT_LENGTH");
            c.send("GET /cgi-bin/to-static.cgi HTTP/1.1\r\nHost: t\r\n\r\n");
            RawClient.Response s = c.read();
            assertThat(s.status()).isEqualTo(200);
            assertThat(s.bodyText()).isEqualTo("static page\n");
        }
        assertThat(get(arch, "/cgi-bin/loop.cgi").status()).isEqualTo(500);
    }

    @AllArchs
    void malformedOutputIs502(Architecture arch) throws Exception {
        TestServer s = SERVERS.get(arch);
        long before = s.inProcess() ? s.server().metrics().errors(flash.pipeline.ErrorCause.CGI) : 0;
        assertThat(get(arch, "/cgi-bin/malformed.cgi").status()).isEqualTo(502);
        assertThat(get(arch, "/cgi-bin/silent.cgi").status()).isEqualTo(502);
        assertThat(get(arch, "/cgi-bin/no-type.cgi").status()).isEqualTo(502);
        if (s.inProcess()) { // counted by cause on the status page, not as "other"
            assertThat(flash.testing.Http.await(() -> s.server().metrics().errors(flash.pipeline.ErrorCause.CGI) == before + 3, 5_000))
                    .as("flash_errors_total{cause=\"cgi\"}").isTrue();
        }
        RawClient.Response empty = get(arch, "/cgi-bin/no-body.cgi");
        assertThat(empty.status()).isEqualTo(204);
    }

    @AllArchs
    void outputSplitAcrossReads(Architecture arch) throws Exception {
        RawClient.Response r = get(arch, "/cgi-bin/split.cgi");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.bodyText()).isEqualTo("body");
    }

    @AllArchs
    void contentLengthFromTheScript(Architecture arch) throws Exception {
        RawClient.Response r = get(arch, "/cgi-bin/length.cgi");
        assertThat(r.header("Content-Length")).isEqualTo("5");
        assertThat(r.header("Transfer-Encoding")).isNull();
        assertThat(r.bodyText()).isEqualTo("hello");
        try (RawClient c = client(arch)) {
            c.timeout(10_000);
            c.send("GET /cgi-bin/short.cgi HTTP/1.1\r\nHost: t\r\n\r\n");
            RawClient.Response head = c.read(true);
            assertThat(head.header("Content-Length")).isEqualTo("10");
            byte[] got = c.readToEnd(); // the connection closes after the 5 bytes: never a complete-looking body
            assertThat(got).hasSizeLessThan(10);
        }
    }

    @AllArchs
    void largeOutputIsChunkedAndStreamedToASlowClient(Architecture arch) throws Exception {
        try (RawClient c = new RawClient(SERVERS.get(arch).port(), 8192)) {
            c.timeout(30_000);
            c.send("GET /cgi-bin/big.cgi HTTP/1.1\r\nHost: t\r\n\r\n");
            Thread.sleep(1000); // the script fills the pipe, we fill the socket: backpressure, not buffering
            RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("Transfer-Encoding")).isEqualTo("chunked");
            assertThat(r.body()).hasSize(20_000_000);
            // HTTP/1.0: delimited by the close instead
            c.send("GET /cgi-bin/length.cgi HTTP/1.1\r\nHost: t\r\n\r\n");
            assertThat(c.read().bodyText()).isEqualTo("hello");
        }
        try (RawClient c = client(arch)) {
            c.timeout(30_000);
            c.send("GET /cgi-bin/big.cgi HTTP/1.0\r\n\r\n");
            RawClient.Response r = c.read(true);
            assertThat(r.header("Transfer-Encoding")).isNull();
            assertThat(c.readToEnd()).hasSize(20_000_000);
        }
    }

    @AllArchs
    void postBodyGoesToStdin(Architecture arch) throws Exception {
        byte[] body = flash.testing.Fixtures.random(3_000_000, 7);
        try (RawClient c = client(arch)) {
            c.timeout(30_000);
            c.send("POST /cgi-bin/post.cgi HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-test\r\nContent-Length: "
                    + body.length + "\r\n\r\n");
            c.send(body);
            RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyText()).isEqualTo("len=" + body.length + " type=application/x-test\n" + sha256(body) + "\n");
            // chunked: buffered to learn its length
            ByteArrayOutputStream chunked = new ByteArrayOutputStream();
            chunked.writeBytes("POST /cgi-bin/post.cgi HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            for (int off = 0; off < body.length; off += 100_000) {
                int n = Math.min(100_000, body.length - off);
                chunked.writeBytes((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                chunked.write(body, off, n);
                chunked.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
            }
            chunked.writeBytes("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            c.send(chunked.toByteArray());
            RawClient.Response rc = c.read();
            assertThat(rc.status()).isEqualTo(200);
            assertThat(rc.bodyText()).isEqualTo("len=" + body.length + " type=\n" + sha256(body) + "\n");
        }
    }

    @AllArchs
    void aScriptThatAnswersBeforeReadingStillGetsItsWholeBody(Architecture arch) throws Exception {
        byte[] body = flash.testing.Fixtures.random(2_000_000, 8);
        try (RawClient c = client(arch)) {
            c.timeout(30_000);
            c.send("POST /cgi-bin/early.cgi HTTP/1.1\r\nHost: t\r\nContent-Length: " + body.length + "\r\n\r\n");
            c.send(java.util.Arrays.copyOf(body, 1000));
            Thread.sleep(300); // the script's head and first line go out while most of the body is still to come
            for (int off = 1000; off < body.length; off += 200_000) {
                c.send(java.util.Arrays.copyOfRange(body, off, Math.min(body.length, off + 200_000)));
                Thread.sleep(20);
            }
            RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyText()).isEqualTo("reading\n" + sha256(body) + "\n");
        }
    }

    @AllArchs
    void chunkedBodyPastMaxBodyIs411(Architecture arch) throws Exception {
        try (RawClient c = client(arch)) {
            c.timeout(30_000);
            c.send("POST /cgi-bin/post.cgi HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
            byte[] piece = new byte[1 << 20];
            String size = Integer.toHexString(piece.length) + "\r\n";
            try {
                for (int i = 0; i < 6; i++) {
                    c.send(size);
                    c.send(piece);
                    c.send("\r\n");
                }
            } catch (java.io.IOException e) {
                // the server may answer and close before it took everything
            }
            RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(411);
        }
    }

    @AllArchs
    void aClientThatDoesNotReadStopsTheScript(Architecture arch) throws Exception {
        String tag = arch.cliName() + "-backpressure-" + System.nanoTime();
        try (RawClient c = new RawClient(SERVERS.get(arch).port(), 8192)) {
            c.timeout(30_000);
            c.send("GET /cgi-bin/big-pid.cgi?" + tag + " HTTP/1.1\r\nHost: t\r\n\r\n");
            long pid = CgiScripts.pids(tag)[0];
            Thread.sleep(1500);
            // 20 MB cannot fit in the pipe, the socket buffers and our one 64 KiB buffer: the script must be
            // blocked writing, not finished (the server did not buffer its output)
            assertThat(CgiScripts.gone(pid)).as("script finished while the client read nothing").isFalse();
            RawClient.Response r = c.read();
            assertThat(r.body()).hasSize(20_000_000);
        }
    }

    static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }
}
