package flash.tls;

import flash.config.Architecture;
import flash.config.ProxyRoute;
import flash.testing.AllArchs;
import flash.testing.ArchServers;
import flash.testing.Backend;
import flash.testing.Fixtures;
import flash.testing.Http;
import flash.testing.RawClient;
import flash.testing.TestServer;
import flash.config.TlsEngine;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * HTTPS under every architecture, with certificates made by openssl for the test (an ECDSA P-256 default for
 * localhost, and an RSA one for other.test chosen by SNI), against real clients: java.net.http, curl and
 * openssl s_client, plus raw TLS sockets for pipelining, and hostile clients (plain HTTP, garbage, stalled and
 * half-open handshakes, renegotiation).
 *
 * <p>With the default engine (auto: OpenSSL where libssl.so.3 loads; -Dflash.test.tlsEngine=jdk|openssl to force
 * one); {@link TlsJdkEngineTest} runs the same tests on the JDK's engine, so both stay tested.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TlsTest {
    static final TestCerts CERTS = TestCerts.get();
    static final byte[] BIG = Fixtures.random(8 << 20, 14);
    static final Path ROOT = root();
    private final Backend BACKEND = Backend.start();
    private final ArchServers SERVERS = new ArchServers(arch -> startServer(arch,
            c -> c.withTls(CERTS.pairs()).withTlsEngine(engine()).withStatusPath("/status")
                    .withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(60), Duration.ofSeconds(60))
                    .withProxies(List.of(ProxyRoute.parse("/echo=" + BACKEND.url())))));

    /** The engine the servers of this class run. */
    TlsEngine engine() { return defaultEngine(); }

    /** The architectures this class tests its engine under (of those under test): all. */
    boolean covers(Architecture arch) { return true; }

    private TestServer startServer(Architecture arch, java.util.function.UnaryOperator<flash.config.ServerConfig> config) {
        org.junit.jupiter.api.Assumptions.assumeTrue(covers(arch), engine().cliName() + " engine not tested under " + arch.cliName());
        return TestServer.start(ROOT, arch, config);
    }

    /** -Dflash.test.tlsEngine, else auto (what a server runs by default). */
    static TlsEngine defaultEngine() { return TlsEngine.parse(System.getProperty("flash.test.tlsEngine", "auto")); }

    @AfterAll
    void stop() {
        SERVERS.close();
        BACKEND.close();
    }

    @Test
    void theServersRunTheEngineOfThisClass() throws Exception {
        try (HttpClient c = client()) { // the status gauge names the engine that runs
            String page = new String(get(c, uri(SERVERS.get(Architecture.AMPED), "/status")).body(), StandardCharsets.UTF_8);
            assertThat(page).contains("flash_tls_engine{engine=\"" + TlsEngineFactory.resolve(engine()) + "\"");
        }
    }

    private static Path root() {
        try {
            Path r = Files.createTempDirectory("flash-tls-root-").toRealPath();
            Files.writeString(r.resolve("index.html"), "hello over tls\n");
            Files.write(r.resolve("small.bin"), Fixtures.SMALL);
            Files.write(r.resolve("big.bin"), BIG);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> Fixtures.deleteTree(r)));
            return r;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static URI uri(TestServer s, String path) { return URI.create("https://127.0.0.1:" + s.port() + path); }

    static HttpClient client() {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).sslContext(CERTS.clientContext())
                .connectTimeout(Duration.ofSeconds(5)).build();
    }

    static HttpResponse<byte[]> get(HttpClient c, URI u, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(u).timeout(Duration.ofSeconds(60));
        if (headers.length > 0) b.headers(headers);
        return c.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    /** A TLS socket trusting the test CA, asking for {@code sni} (null: none). */
    static SSLSocket tlsSocket(int port, String sni, String... protocols) throws IOException {
        SSLSocket s = (SSLSocket) CERTS.clientContext().getSocketFactory().createSocket();
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        SSLParameters p = s.getSSLParameters();
        if (sni != null) p.setServerNames(List.of(new SNIHostName(sni)));
        if (protocols.length > 0) p.setProtocols(protocols);
        s.setSSLParameters(p);
        s.setSoTimeout(15_000);
        s.startHandshake();
        return s;
    }

    // ------------------------------------------------------------------ real clients

    @AllArchs
    void httpClientGetsSmallLargeRangesAndConditionalsOnOneConnection(Architecture arch) throws Exception {
        TestServer s = SERVERS.get(arch);
        try (HttpClient c = client()) {
            HttpResponse<byte[]> r = get(c, uri(s, "/"));
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(new String(r.body(), StandardCharsets.US_ASCII)).isEqualTo("hello over tls\n");
            assertThat(r.sslSession()).hasValueSatisfying(ss -> assertThat(ss.getProtocol()).isEqualTo("TLSv1.3"));

            assertThat(get(c, uri(s, "/small.bin")).body()).isEqualTo(Fixtures.SMALL);
            HttpResponse<byte[]> big = get(c, uri(s, "/big.bin"));
            assertThat(big.statusCode()).isEqualTo(200);
            assertThat(big.body()).isEqualTo(BIG);

            HttpResponse<byte[]> range = get(c, uri(s, "/big.bin"), "Range", "bytes=1000000-3100000");
            assertThat(range.statusCode()).isEqualTo(206);
            assertThat(range.body()).isEqualTo(java.util.Arrays.copyOfRange(BIG, 1_000_000, 3_100_001));

            String etag = big.headers().firstValue("ETag").orElseThrow();
            HttpResponse<byte[]> notModified = get(c, uri(s, "/big.bin"), "If-None-Match", etag);
            assertThat(notModified.statusCode()).isEqualTo(304);
            assertThat(notModified.body()).isEmpty();
            // And once more after the 304: the connection is still good.
            assertThat(get(c, uri(s, "/small.bin")).body()).isEqualTo(Fixtures.SMALL);
        }
    }

    /** mt's idle shedding (IdleShedTest) through TLS: an idle connection past its handshake gives its thread way. */
    @AllArchs
    void anIdleTlsClientHoldingMtsOnlyThreadIsClosedForAWaitingOne(Architecture arch) throws Exception {
        String get = "GET /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n";
        try (TestServer s = startServer(arch, c -> c.withTls(CERTS.pairs()).withTlsEngine(engine()).withThreads(1)
                .withTimeouts(Duration.ofSeconds(60), Duration.ofSeconds(120), Duration.ofSeconds(60)));
             RawClient idle = new RawClient(tlsSocket(s.port(), "localhost"))) {
            idle.timeout(30_000);
            assertThat(idle.send(get).read().bodyText()).isEqualTo("hello over tls\n");
            try (RawClient waiting = new RawClient(tlsSocket(s.port(), "localhost"))) {
                waiting.timeout(30_000);
                assertThat(waiting.send(get).read().bodyText()).isEqualTo("hello over tls\n");
            }
            if (arch == Architecture.MT) assertThat(idle.closedByServer()).as("the idle client gave way").isTrue();
            else assertThat(idle.send(get).read().status()).isEqualTo(200);
        }
    }

    @AllArchs
    void pipelinedRequestsOnARawTlsSocketAreAnsweredInOrder(Architecture arch) throws Exception {
        TestServer s = SERVERS.get(arch);
        try (RawClient c = new RawClient(tlsSocket(s.port(), "localhost"))) {
            c.send("GET /index.html HTTP/1.1\r\nHost: localhost\r\n\r\nGET /small.bin HTTP/1.1\r\nHost: localhost\r\n\r\n"
                    + "GET /missing HTTP/1.1\r\nHost: localhost\r\n\r\nGET /index.html HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
            assertThat(c.read().bodyText()).isEqualTo("hello over tls\n");
            assertThat(c.read().body()).isEqualTo(Fixtures.SMALL);
            assertThat(c.read().status()).isEqualTo(404);
            RawClient.Response last = c.read();
            assertThat(last.status()).isEqualTo(200);
            assertThat(c.closedByServer()).isTrue();
        }
    }

    @AllArchs
    void curlVerifiesTheDefaultCertificateAndTheOneChosenBySni(Architecture arch) throws Exception {
        TestServer s = SERVERS.get(arch);
        String port = Integer.toString(s.port());
        Proc local = run(List.of("curl", "-sS", "--max-time", "30", "--cacert", CERTS.ca.toString(), "--resolve",
                "localhost:" + port + ":127.0.0.1", "https://localhost:" + port + "/"), "");
        assertThat(local.exit).as(local.out).isZero();
        assertThat(local.out).isEqualTo("hello over tls\n");
        // other.test is only on the RSA certificate: curl verifies the name, so this passes only if SNI chose it.
        Proc other = run(List.of("curl", "-sS", "--max-time", "30", "--cacert", CERTS.ca.toString(), "--resolve",
                "other.test:" + port + ":127.0.0.1", "-o", "/dev/null", "-w", "%{http_code}", "https://other.test:" + port + "/big.bin"), "");
        assertThat(other.exit).as(other.out).isZero();
        assertThat(other.out).isEqualTo("200");
        // a wildcard name of the default certificate
        Proc wild = run(List.of("curl", "-sS", "--max-time", "30", "--cacert", CERTS.ca.toString(), "--resolve",
                "a.example.test:" + port + ":127.0.0.1", "https://a.example.test:" + port + "/"), "");
        assertThat(wild.out).isEqualTo("hello over tls\n");
    }

    @AllArchs
    void opensslSeesTls12And13AlpnAndSniAndRefusesTls11(Architecture arch) throws Exception {
        TestServer s = SERVERS.get(arch);
        Proc t13 = sClient(s, "-tls1_3", "-alpn", "http/1.1,h2");
        assertThat(t13.out).contains("New, TLSv1.3").contains("ALPN protocol: http/1.1").contains("HTTP/1.1 200")
                .contains("Verify return code: 0 (ok)").contains("CN = localhost");
        Proc t12 = sClient(s, "-tls1_2");
        assertThat(t12.out).contains("New, TLSv1.2, Cipher is ECDHE-ECDSA-").contains("HTTP/1.1 200");
        Proc sni = sClient(s, "-servername", "other.test");
        assertThat(sni.out).contains("CN = other.test").contains("Verify return code: 0 (ok)");
        Proc t11 = sClient(s, "-tls1_1");
        assertThat(t11.out).doesNotContain("HTTP/1.1 200").doesNotContain("New, TLSv1.1");
        // The server is still fine.
        try (HttpClient c = client()) {
            assertThat(get(c, uri(s, "/")).statusCode()).isEqualTo(200);
        }
    }

    @AllArchs
    void sessionsResumeWithTickets(Architecture arch) throws Exception {
        // Under mp each worker process has its own ticket keys: a ticket resumes only on the worker that issued it.
        org.junit.jupiter.api.Assumptions.assumeTrue(arch != Architecture.MP, "ticket keys are per worker process");
        TestServer s = SERVERS.get(arch);
        for (String version : List.of("-tls1_3", "-tls1_2")) {
            Path sess = Files.createTempFile("flash-sess-", ".pem");
            try {
                Proc first = sClient(s, version, "-sess_out", sess.toString());
                assertThat(first.out).contains("New, TLSv1.");
                Proc second = sClient(s, version, "-sess_in", sess.toString());
                assertThat(second.out).as(version).contains("Reused, TLSv1.").contains("HTTP/1.1 200");
            } finally {
                Files.deleteIfExists(sess);
            }
        }
    }

    @AllArchs
    void theProxyWorksBehindTls(Architecture arch) throws Exception {
        TestServer s = SERVERS.get(arch);
        try (HttpClient c = client()) {
            HttpResponse<byte[]> r = c.send(HttpRequest.newBuilder(uri(s, "/echo/x?y=1")).timeout(Duration.ofSeconds(30))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(Fixtures.SMALL)).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertThat(r.statusCode()).isEqualTo(200);
            Backend.Echo e = Backend.Echo.parse(r.body());
            assertThat(e.target()).isEqualTo("/echo/x?y=1");
            assertThat(e.body()).isEqualTo(Fixtures.SMALL);
        }
    }

    @AllArchs
    void sslscanFindsOnlyTls12And13AndStrongCiphers(Architecture arch) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/sslscan")), "sslscan is not installed");
        TestServer s = SERVERS.get(arch);
        // --no-groups: its TLS 1.2 group probe reads one handshake message per record, and the JDK's engine sends a
        // whole flight in one record, so each probe waited for the handshake timeout (16 s a run); groups are not
        // what is checked here.
        Proc p = run(List.of("sslscan", "--no-colour", "--no-heartbleed", "--no-groups", "127.0.0.1:" + s.port()), "");
        assertThat(p.out).contains("SSLv2     disabled", "SSLv3     disabled", "TLSv1.0   disabled", "TLSv1.1   disabled",
                "TLSv1.2   enabled", "TLSv1.3   enabled", "Session renegotiation not supported");
        List<String> suites = p.out.lines().filter(l -> l.startsWith("Accepted") || l.startsWith("Preferred")).toList();
        assertThat(suites).isNotEmpty();
        for (String l : suites) {
            assertThat(l).as("a weak suite").matches(".*(TLSv1\\.3 .*TLS_|TLSv1\\.2 .*ECDHE-).*")
                    .containsAnyOf("GCM", "CHACHA20").doesNotContain("CBC", "RC4", "DES", "NULL", "EXP", "MD5");
        }
    }

    @AllArchs
    void theRedirectPortAnswers301ToHttpsKeepingHostPathAndQuery(Architecture arch) throws Exception {
        int fixed = 0;
        if (arch == Architecture.MP) { // the parent binds it; the test needs its number before
            try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
                fixed = free.getLocalPort();
            }
        }
        int want = fixed;
        try (TestServer s = startServer(arch, c -> c.withTls(CERTS.pairs()).withTlsEngine(engine()).withHttpRedirectPort(want))) {
            int port = s.inProcess() ? s.server().redirectPort() : want;
            try (RawClient c = new RawClient(port)) {
                c.send("GET /a/b%20c?x=1&y HTTP/1.1\r\nHost: www.example.test:" + port + "\r\n\r\n");
                RawClient.Response r = c.read();
                assertThat(r.status()).isEqualTo(301);
                assertThat(r.header("Location")).isEqualTo("https://www.example.test:" + s.port() + "/a/b%20c?x=1&y");
                assertThat(c.closedByServer()).isTrue();
            }
            try (RawClient c = new RawClient(port)) { // HTTP/1.0 without Host: the listening address
                RawClient.Response r = c.send("GET / HTTP/1.0\r\n\r\n").read();
                assertThat(r.header("Location")).isEqualTo("https://127.0.0.1:" + s.port() + "/");
            }
            try (HttpClient c = client()) { // and the TLS port itself still serves
                assertThat(get(c, uri(s, "/")).statusCode()).isEqualTo(200);
            }
        }
    }

    // ------------------------------------------------------------------ hostile clients

    @AllArchs
    void aPlainHttpRequestOnTheTlsPortGets400(Architecture arch) throws Exception {
        TestServer s = SERVERS.get(arch);
        try (RawClient c = new RawClient(s.port())) {
            c.send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
            RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(400);
            assertThat(r.bodyText()).contains("The plain HTTP request was sent to HTTPS port");
            assertThat(c.closedByServer()).isTrue();
        }
    }

    @AllArchs
    void garbageAndStalledHandshakesAreClosedAndOthersStillServed(Architecture arch) throws Exception {
        TestServer s = SERVERS.get(arch);
        // A handshake record header followed by garbage: the engine fails, the connection closes.
        try (Socket g = new Socket("127.0.0.1", s.port())) {
            g.setSoTimeout(15_000);
            byte[] junk = TestCerts.garbageHandshakeRecord();
            g.getOutputStream().write(junk);
            assertThat(drainsToEnd(g.getInputStream())).isTrue();
        }
        // Random bytes from the first one on.
        try (Socket g = new Socket("127.0.0.1", s.port())) {
            g.setSoTimeout(15_000);
            g.getOutputStream().write(Fixtures.random(300, 6));
            assertThat(drainsToEnd(g.getInputStream())).isTrue();
        }
        // A client that sends half a ClientHello and then nothing, and one that connects and sends nothing at all:
        // both closed at the handshake timeout (2 s here; they wait for it together).
        try (Socket half = new Socket("127.0.0.1", s.port()); Socket silent = new Socket("127.0.0.1", s.port())) {
            half.setSoTimeout(20_000);
            silent.setSoTimeout(20_000);
            half.getOutputStream().write(new byte[] {0x16, 3, 1, 0x02, 0x00, 1, 0, 1});
            assertThat(drainsToEnd(half.getInputStream())).as("half a ClientHello").isTrue();
            assertThat(drainsToEnd(silent.getInputStream())).as("nothing sent").isTrue();
        }
        try (HttpClient c = client()) {
            assertThat(get(c, uri(s, "/")).statusCode()).isEqualTo(200);
        }
    }

    @AllArchs
    void manyHalfOpenHandshakesLeakNothing(Architecture arch) throws Exception {
        TestServer s = SERVERS.get(arch);
        int n = arch == Architecture.MP || arch == Architecture.MT ? 8 : 300; // mt/mp: a thread per connection
        List<Socket> open = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                Socket g = new Socket("127.0.0.1", s.port());
                g.getOutputStream().write(new byte[] {0x16, 3, 1, 0x02});
                open.add(g);
            }
            if (arch != Architecture.MP && arch != Architecture.MT) {
                try (HttpClient c = client()) { // served while the half-open ones wait
                    assertThat(get(c, uri(s, "/small.bin")).body()).isEqualTo(Fixtures.SMALL);
                }
            }
        } finally {
            for (Socket g : open) g.close();
        }
        try (HttpClient c = client()) {
            assertThat(get(c, uri(s, "/small.bin")).body()).isEqualTo(Fixtures.SMALL);
        }
        if (s.inProcess()) {
            assertThat(Http.await(() -> s.server().openConnections() == 0, 20_000))
                    .as("open connections: " + s.server().openConnections()).isTrue();
        }
    }

    @AllArchs
    void tls12RenegotiationIsRefused(Architecture arch) throws Exception {
        TestServer s = SERVERS.get(arch);
        // "R" asks s_client to renegotiate (commands work without -ign_eof, so stdin stays open a while); the request
        // after it is answered only if the renegotiation went through.
        Process p = new ProcessBuilder("openssl", "s_client", "-connect", "127.0.0.1:" + s.port(), "-tls1_2",
                "-CAfile", CERTS.ca.toString()).redirectErrorStream(true).start();
        StringBuffer out = new StringBuffer();
        Thread reader = Thread.ofPlatform().start(() -> {
            try (java.io.InputStream in = p.getInputStream()) {
                byte[] b = new byte[4096];
                for (int n; (n = in.read(b)) > 0; ) out.append(new String(b, 0, n, StandardCharsets.ISO_8859_1));
            } catch (IOException ignored) {
                // s_client ended
            }
        });
        try (OutputStream o = p.getOutputStream()) {
            assertThat(Http.await(() -> out.indexOf("New, TLSv1.2") >= 0, 15_000)).as("the handshake: %s", out).isTrue();
            o.write("R\n".getBytes(StandardCharsets.US_ASCII));
            o.flush();
            // Refused, the connection ends and s_client with it. Had it gone through, s_client would still be running.
            if (!p.waitFor(1500, TimeUnit.MILLISECONDS)) {
                o.write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                o.flush();
                Thread.sleep(1500);
            }
        } catch (IOException ignored) {
            // s_client already ended: the server closed the connection
        }
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        reader.join(10_000);
        String text = out.toString();
        assertThat(text).contains("New, TLSv1.2").contains("RENEGOTIATING").doesNotContain("HTTP/1.1 200");
        try (HttpClient c = client()) {
            assertThat(get(c, uri(s, "/")).statusCode()).isEqualTo(200);
        }
    }

    // ------------------------------------------------------------------ helpers

    private static boolean drainsToEnd(InputStream in) {
        try {
            byte[] b = new byte[4096];
            while (in.read(b) >= 0) { /* an alert, maybe */ }
            return true;
        } catch (java.net.SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset: closed as well
        }
    }

    record Proc(int exit, String out) {}

    static Proc run(List<String> cmd, String stdin) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try (OutputStream o = p.getOutputStream()) {
            o.write(stdin.getBytes(StandardCharsets.ISO_8859_1));
        } catch (IOException ignored) {
            // the process did not want its input
        }
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(cmd + " did not finish");
        }
        return new Proc(p.exitValue(), new String(out, StandardCharsets.ISO_8859_1));
    }

    /** s_client with a request, reading until the server closes (so a TLS 1.3 session ticket arrives before it exits). */
    static Proc sClient(TestServer s, String... extra) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + s.port(),
                "-CAfile", CERTS.ca.toString(), "-ign_eof"));
        cmd.addAll(List.of(extra));
        if (!List.of(extra).contains("-servername")) cmd.addAll(List.of("-servername", "localhost"));
        return run(cmd, "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    }
}
