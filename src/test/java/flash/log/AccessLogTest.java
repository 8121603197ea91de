package flash.log;

import flash.config.AccessLogFormat;
import flash.config.Architecture;
import flash.testing.AllArchs;
import flash.testing.Fixtures;
import flash.testing.Http;
import flash.testing.Json;
import flash.testing.RawClient;
import flash.testing.TestServer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The access log, against a live server under every architecture: each exchange logged exactly once (200, 404,
 * 400, 408 and an aborted download), the combined format read back by the combined-format grammar, the JSON by
 * Python's json module (an independent, strict parser), and logrotate's rename-then-signal cycle.
 */
class AccessLogTest {
    /** nginx's combined format: remote - user [time] "request" status bytes "referer" "user agent". */
    static final Pattern COMBINED = Pattern.compile(
            "^(\\S+) - - \\[(\\d{2}/[A-Z][a-z]{2}/\\d{4}:\\d{2}:\\d{2}:\\d{2} [+-]\\d{4})] \"((?:[^\"\\\\]|\\\\x[0-9a-f]{2})*)\" "
                    + "(\\d{3}) (\\d+) \"((?:[^\"\\\\]|\\\\x[0-9a-f]{2})*)\" \"((?:[^\"\\\\]|\\\\x[0-9a-f]{2})*)\"$");

    @TempDir
    static Path root;

    @BeforeAll
    static void files() throws Exception {
        Files.writeString(root.resolve("hello.txt"), Fixtures.HELLO);
        try (RandomAccessFile f = new RandomAccessFile(root.resolve("large.bin").toFile(), "rw")) {
            f.setLength(64L << 20); // more than socket buffers hold: a client that resets aborts the body
        }
    }

    /** The same five kinds of exchange for both formats; returns nothing, the log is read afterwards. */
    private static void traffic(TestServer s) throws Exception {
        try (RawClient c = new RawClient(s.port())) {
            c.send("GET /hello.txt?x=1 HTTP/1.1\r\nHost: t\r\nReferer: http://ref/\"q\"\r\nUser-Agent: test/1.0 \u00e9\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(200);
            c.send("GET /missing HTTP/1.1\r\nHost: t\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(404);
        }
        try (RawClient c = new RawClient(s.port())) {
            c.send("GET / HTTP/1.1\r\nHost: t\r\nBad Header: x\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(400);
        }
        try (RawClient c = new RawClient(s.port())) {
            c.send("GET /hello.txt HTTP/1.1\r\nHost:");
            assertThat(c.read().status()).isEqualTo(408);
        }
        try (RawClient c = new RawClient(s.port())) {
            c.socket().setReceiveBufferSize(4096);
            c.send("GET /large.bin HTTP/1.1\r\nHost: t\r\n\r\n");
            c.read(true);
            c.socket().setSoLinger(true, 0);
        } // reset after the head: the body cannot all have been written
    }

    private static List<String> awaitLines(Path log, int n) throws Exception {
        Http.await(() -> lines(log).size() >= n, 15_000);
        Thread.sleep(300); // and no more than n: a second line for one exchange would show up by now
        return lines(log);
    }

    private static List<String> lines(Path log) {
        try {
            return Files.exists(log) ? Files.readAllLines(log, StandardCharsets.ISO_8859_1) : List.of();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static TestServer start(Architecture arch, Path log, AccessLogFormat format) {
        return TestServer.start(root, arch, c -> c.withTimeouts(Duration.ofSeconds(1), Duration.ofSeconds(30),
                Duration.ofSeconds(30)).withSmallFileMax(1024).withAccessLog(log.toString(), format));
    }

    @AllArchs
    void combinedLogsEveryExchangeOnce(Architecture arch, @TempDir Path dir) throws Exception {
        Path log = dir.resolve("access.log");
        try (TestServer s = start(arch, log, AccessLogFormat.COMBINED)) {
            traffic(s);
            List<String> lines = awaitLines(log, 5);
            assertThat(lines).hasSize(5);
            List<Matcher> m = lines.stream().map(COMBINED::matcher).toList();
            for (int i = 0; i < m.size(); i++) assertThat(m.get(i).matches()).as("line %d: %s", i, lines.get(i)).isTrue();
            Map<String, Matcher> byRequest = new java.util.HashMap<>();
            for (Matcher x : m) byRequest.merge(x.group(3) + " " + x.group(4), x, (a, b) -> a);
            assertThat(byRequest).containsOnlyKeys("GET /hello.txt?x=1 HTTP/1.1 200", "GET /missing HTTP/1.1 404",
                    "- 400", "- 408", "GET /large.bin HTTP/1.1 200");
            Matcher hello = byRequest.get("GET /hello.txt?x=1 HTTP/1.1 200");
            assertThat(hello.group(1)).isEqualTo("127.0.0.1");
            assertThat(Long.parseLong(hello.group(5))).isEqualTo(Fixtures.HELLO.length());
            assertThat(hello.group(6)).isEqualTo("http://ref/\\x22q\\x22"); // nginx's escape: the quote cannot end the field
            assertThat(hello.group(7)).isEqualTo("test/1.0 \\xe9");
            assertThat(byRequest.get("GET /missing HTTP/1.1 404").group(6)).isEqualTo("-");
            // bytes: what was actually sent; the aborted 64 MiB download got less than its length
            assertThat(Long.parseLong(byRequest.get("GET /large.bin HTTP/1.1 200").group(5))).isLessThan(64L << 20);
        }
    }

    @AllArchs
    void jsonLinesParseWithAStrictParser(Architecture arch, @TempDir Path dir) throws Exception {
        Path log = dir.resolve("access.json");
        try (TestServer s = start(arch, log, AccessLogFormat.JSON)) {
            traffic(s);
            List<String> lines = awaitLines(log, 5);
            assertThat(lines).hasSize(5);
            List<Map<String, Object>> objects = strictJson(log);
            assertThat(objects).hasSize(5);
            for (Map<String, Object> o : objects) {
                assertThat(o).containsKeys("time", "remote", "method", "target", "protocol", "status", "bytes",
                        "duration_ms", "referer", "user_agent", "aborted");
                assertThat(o).doesNotContainKey("upstream_ms"); // nothing here was proxied
                assertThat((String) o.get("time")).matches("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z");
            }
            Map<String, Object> hello = objects.stream().filter(o -> "/hello.txt?x=1".equals(o.get("target"))).findFirst().orElseThrow();
            assertThat(hello).containsEntry("method", "GET").containsEntry("protocol", "HTTP/1.1").containsEntry("status", 200L)
                    .containsEntry("bytes", (long) Fixtures.HELLO.length()).containsEntry("referer", "http://ref/\"q\"")
                    .containsEntry("user_agent", "test/1.0 \u00e9").containsEntry("remote", "127.0.0.1")
                    .containsEntry("aborted", false);
            assertThat(objects).filteredOn(o -> o.get("method") == null).extracting(o -> o.get("status"))
                    .containsExactlyInAnyOrder(400L, 408L);
            assertThat(objects).filteredOn(o -> "/large.bin".equals(o.get("target"))).singleElement()
                    .satisfies(o -> assertThat(o).containsEntry("aborted", true));
        }
    }

    /**
     * Each line through Python's json.loads (which rejects what RFC 8259 does not allow), re-emitted as ASCII and
     * read back by the fixtures' reader for the assertions.
     */
    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> strictJson(Path log) throws Exception {
        Process p = new ProcessBuilder("/usr/bin/python3", "-c",
                "import json,sys\nfor l in open(sys.argv[1], encoding='ascii'):\n    print(json.dumps(json.loads(l)))",
                log.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out.lines().map(l -> (Map<String, Object>) Json.parse(l)).toList();
    }

    @AllArchs
    void aRenamedLogIsReopenedOnSignal(Architecture arch, @TempDir Path dir) throws Exception {
        Path log = dir.resolve("access.log");
        Path rotated = dir.resolve("access.log.1");
        try (TestServer s = start(arch, log, AccessLogFormat.COMBINED)) {
            Http.get(s.uri("/hello.txt"));
            assertThat(awaitLines(log, 1)).hasSize(1);
            Files.move(log, rotated); // logrotate's rename: the server still holds the old file open
            s.reopenLogs();            // then its postrotate signal
            assertThat(Http.await(() -> Files.exists(log), 10_000)).as("reopened as a new file").isTrue();
            Http.get(s.uri("/missing"));
            assertThat(awaitLines(log, 1)).singleElement().asString().contains("\"GET /missing HTTP/1.1\" 404");
            assertThat(lines(rotated)).singleElement().asString().contains("\"GET /hello.txt HTTP/1.1\" 200");
        }
    }
}
