package flash.integration;

import flash.config.AccessLogFormat;
import flash.config.Architecture;
import flash.config.CgiRoute;
import flash.config.FastCgiRoute;
import flash.config.ProxyRoute;
import flash.net.ProxyProtocolTest;
import flash.testing.AllArchs;
import flash.testing.Backend;
import flash.testing.Http;
import flash.testing.PhpFpm;
import flash.testing.RawClient;
import flash.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * --proxy-protocol against a live server under every architecture, over raw sockets: the header's client address
 * reaches the access log, X-Forwarded-For and Forwarded, and CGI's REMOTE_ADDR/REMOTE_PORT; a header split at every
 * byte works; FastCGI (php-fpm) gets it as REMOTE_ADDR/REMOTE_PORT; LOCAL keeps the real peer; a connection without a valid header, or whose header does not come within
 * --header-timeout, is closed without a single byte of answer and without an access-log line.
 */
class ProxyProtocolLiveTest {
    @TempDir
    static Path root;
    static Backend backend;

    @BeforeAll
    static void files() throws IOException {
        Files.writeString(root.resolve("hello.txt"), "hello\n");
        Path cgi = Files.createDirectory(root.resolve("cgi"));
        Path env = cgi.resolve("remote.cgi");
        Files.writeString(env, "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n%s %s' \"$REMOTE_ADDR\" \"$REMOTE_PORT\"\n");
        Files.setPosixFilePermissions(env, PosixFilePermissions.fromString("rwxr-xr-x"));
        backend = Backend.start();
    }

    @AfterAll
    static void stop() { backend.close(); }

    private static TestServer start(Architecture arch, Path log) {
        return TestServer.start(root, arch, c -> c.withProxyProtocol(true)
                .withTimeouts(Duration.ofSeconds(1), Duration.ofSeconds(30), Duration.ofSeconds(30))
                .withAccessLog(log.toString(), AccessLogFormat.COMBINED)
                .withCgis(List.of(CgiRoute.parse("/cgi-bin=" + root.resolve("cgi"))))
                .withProxies(List.of(ProxyRoute.parse("/echo=" + backend.url()))));
    }

    private static byte[] ascii(String s) { return s.getBytes(StandardCharsets.US_ASCII); }

    private static byte[] get(String path) { return ascii("GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n"); }

    private static List<String> logLines(Path log) {
        try {
            return Files.exists(log) ? Files.readAllLines(log) : List.of();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static List<String> awaitLines(Path log, int n) throws Exception {
        Http.await(() -> logLines(log).size() >= n, 15_000);
        Thread.sleep(300); // no more than n
        return logLines(log);
    }

    @AllArchs
    void theHeadersAddressIsTheClientEverywhere(Architecture arch, @TempDir Path dir) throws Exception {
        Path log = dir.resolve("access.log");
        try (TestServer s = start(arch, log)) {
            // v1, two requests on the connection: the address holds for its life
            try (RawClient c = new RawClient(s.port())) {
                c.send(ProxyProtocolTest.concat(ascii("PROXY TCP4 192.0.2.10 127.0.0.1 40001 80\r\n"), get("/hello.txt")));
                assertThat(c.read().bodyText()).isEqualTo("hello\n");
                c.send(get("/cgi-bin/remote.cgi"));
                assertThat(c.read().bodyText()).isEqualTo("192.0.2.10 40001");
            }
            // v2 over IPv4 with TLVs, to CGI
            byte[] v2 = ProxyProtocolTest.v2(1, 0x11, ProxyProtocolTest.v4Block(198, 51, 100, 20, 40002, 80),
                    ProxyProtocolTest.concat(ProxyProtocolTest.tlv(0x05, 16), ProxyProtocolTest.tlv(0x01, 8)));
            try (RawClient c = new RawClient(s.port())) {
                c.send(ProxyProtocolTest.concat(v2, get("/cgi-bin/remote.cgi")));
                assertThat(c.read().bodyText()).isEqualTo("198.51.100.20 40002");
            }
            // v2 over IPv6, through the reverse proxy: X-Forwarded-For and Forwarded name the client
            try (RawClient c = new RawClient(s.port())) {
                c.send(ProxyProtocolTest.concat(ProxyProtocolTest.v2(1, 0x21, ProxyProtocolTest.v6Block("2001:db8::30", 40003),
                        new byte[0]), get("/echo")));
                assertThat(c.read().status()).isEqualTo(200);
                Backend.Received r = backend.lastReceived();
                assertThat(r.header("X-Forwarded-For")).isEqualTo("2001:db8:0:0:0:0:0:30");
                assertThat(r.header("Forwarded")).contains("2001:db8:0:0:0:0:0:30");
            }
            // LOCAL (a health check): the real peer
            try (RawClient c = new RawClient(s.port())) {
                c.send(ProxyProtocolTest.concat(ProxyProtocolTest.v2(0, 0x00, new byte[0], new byte[0]), get("/cgi-bin/remote.cgi")));
                assertThat(c.read().bodyText()).startsWith("127.0.0.1 ");
            }
            List<String> lines = awaitLines(log, 5);
            assertThat(lines).hasSize(5);
            assertThat(lines.stream().map(l -> l.substring(0, l.indexOf(' '))).toList()).containsExactlyInAnyOrder(
                    "192.0.2.10", "192.0.2.10", "198.51.100.20", "2001:db8:0:0:0:0:0:30", "127.0.0.1");
        }
    }

    /** FastCGI's REMOTE_ADDR and REMOTE_PORT, from php-fpm's own view of the request (skipped without php-fpm). */
    @AllArchs
    void fastCgiSeesTheHeadersAddress(Architecture arch) throws Exception {
        try (PhpFpm fpm = PhpFpm.start(2, "")) {
            fpm.write("remote.php", "<?php header('Content-Type: text/plain'); echo $_SERVER['REMOTE_ADDR'], ' ', $_SERVER['REMOTE_PORT'];\n");
            try (TestServer s = TestServer.start(fpm.root(), arch, c -> c.withProxyProtocol(true)
                    .withFastcgi(List.of(FastCgiRoute.parse(".php=" + fpm.address()))));
                 RawClient c = new RawClient(s.port())) {
                c.send(ProxyProtocolTest.concat(ascii("PROXY TCP4 192.0.2.50 127.0.0.1 40050 80\r\n"), get("/remote.php")));
                assertThat(c.read().bodyText()).isEqualTo("192.0.2.50 40050");
            }
        }
    }

    /** Each header sent in two writes, split at every byte, with a pause so the server reads the halves apart. */
    @AllArchs
    void aHeaderSplitAtEveryByteWorks(Architecture arch, @TempDir Path dir) throws Exception {
        byte[] v1 = ascii("PROXY TCP6 2001:db8::9 ::1 40004 80\r\n");
        byte[] v2 = ProxyProtocolTest.v2(1, 0x11, ProxyProtocolTest.v4Block(203, 0, 113, 40, 40005, 80), ProxyProtocolTest.tlv(0x04, 5));
        try (TestServer s = start(arch, dir.resolve("access.log"))) {
            for (byte[] header : List.of(v1, v2)) {
                byte[] all = ProxyProtocolTest.concat(header, get("/cgi-bin/remote.cgi"));
                String expected = header == v1 ? "2001:db8:0:0:0:0:0:9 40004" : "203.0.113.40 40005";
                for (int k = 1; k <= header.length; k++) {
                    try (RawClient c = new RawClient(s.port())) {
                        c.send(Arrays.copyOfRange(all, 0, k));
                        Thread.sleep(3);
                        c.send(Arrays.copyOfRange(all, k, all.length));
                        assertThat(c.read().bodyText()).as("split at %d", k).isEqualTo(expected);
                    }
                }
            }
        }
    }

    @AllArchs
    void aConnectionWithoutAValidHeaderIsClosedUnanswered(Architecture arch, @TempDir Path dir) throws Exception {
        Path log = dir.resolve("access.log");
        byte[] badV2 = ProxyProtocolTest.v2(1, 0x11, ProxyProtocolTest.v4Block(1, 2, 3, 4, 5, 6), new byte[0]);
        badV2[12] = 0x13; // command 3: undefined
        try (TestServer s = start(arch, log)) {
            for (byte[] opening : List.of(get("/hello.txt"), ascii("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"), badV2,
                    ascii("PROXY TCP4 1.2.3.4 5.6.7.8 99999 2\r\n" + "GET / HTTP/1.1\r\n\r\n"))) {
                try (RawClient c = new RawClient(s.port())) {
                    c.send(opening);
                    assertThat(c.readToEnd()).as(new String(opening, StandardCharsets.ISO_8859_1)).isEmpty();
                }
            }
            // an incomplete header, then silence, and a proxy that connects and says nothing at all: both closed at
            // the header timeout (1 s; they wait for it together), still without an answer
            try (RawClient half = new RawClient(s.port()); RawClient silent = new RawClient(s.port())) {
                half.send("PROXY TCP4 1.2.");
                assertThat(half.readToEnd()).isEmpty();
                assertThat(silent.readToEnd()).isEmpty();
            }
            // the server still serves a proper connection, and only that one is logged
            try (RawClient c = new RawClient(s.port())) {
                c.send(ProxyProtocolTest.concat(ascii("PROXY UNKNOWN\r\n"), get("/hello.txt")));
                assertThat(c.read().status()).isEqualTo(200);
            }
            List<String> lines = awaitLines(log, 1);
            assertThat(lines).hasSize(1);
            assertThat(lines.getFirst()).startsWith("127.0.0.1 - - ").contains("\"GET /hello.txt HTTP/1.1\" 200");
        }
    }
}
