package flash.hardening;

import flash.config.Architecture;
import flash.config.ProxyRoute;
import flash.testing.Http;
import flash.testing.RawClient;
import flash.testing.TestServer;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A 5xx that Flash generates is never silent (issue #11: 500s under load, logged nowhere). Against a real loopback
 * server: the error log gets one WARNING line naming the cause, the request and what failed, at most one per cause per
 * second with a count of the ones left out, and the status page counts every 5xx by cause. The translation fault is
 * injected through {@code PipelineContext.translationFault}, a test-only hook that throws where the translation runs
 * (on a helper under amped), as the path cache's TimSort exception did. A real EIO is {@link FaultTest}'s.
 */
class ServerErrorTest {
    private static final String MESSAGE = "Comparison method violates its general contract!";
    private static final Pattern SUPPRESSED = Pattern.compile("\\[(\\d+) more of this cause since its last line]");

    @TempDir Path root;

    @ParameterizedTest
    @MethodSource("flash.hardening.Archs#inProcess")
    void aTranslationThatThrowsIs500AndLeavesOneRateLimitedLogLineAndACount(Architecture arch) throws Exception {
        Files.writeString(root.resolve("ok.txt"), "ok");
        Files.writeString(root.resolve("boom.txt"), "never served");
        try (TestServer s = TestServer.start(root, arch, c -> c.withStatusPath("/status"));
             LogCapture log = new LogCapture();
             RawClient c = new RawClient(s.port())) {
            s.server().context().translationFault(t -> {
                if (t.path().startsWith("/boom")) throw new IllegalArgumentException(MESSAGE);
            });
            assertThat(get(c, "/boom.txt").status()).isEqualTo(500);
            assertThat(get(c, "/ok.txt").status()).as("same connection, next request").isEqualTo(200);

            List<String> lines = errorLines(log);
            assertThat(lines).as("one line for the first failure").hasSize(1);
            assertThat(lines.getFirst()).startsWith("WARNING flash.dispatch.ErrorLog: 500 translation: GET /boom.txt from 127.0.0.1: ")
                    .contains("java.lang.IllegalArgumentException: " + MESSAGE)
                    .containsPattern(" at \\S*ServerErrorTest"); // where it was thrown
            // Same connection: its completions ran before the status request was read.
            String status = get(c, "/status").bodyText();
            assertThat(metric(status, "flash_errors_total{cause=\"translation\"}")).isEqualTo(1);
            assertThat(metric(status, "flash_exchanges_total{class=\"5xx\"}")).isEqualTo(1);

            // A burst: counted one by one, logged at most once a second.
            int burst = 40;
            long t0 = System.nanoTime();
            for (int i = 0; i < burst; i++) assertThat(get(c, "/boom" + i + ".txt").status()).isEqualTo(500);
            double seconds = (System.nanoTime() - t0) / 1e9;
            Thread.sleep(1100); // past the rate limit: the next failure is logged, with the count left out before it
            assertThat(get(c, "/boom-last.txt").status()).isEqualTo(500);
            int failures = 1 + burst + 1;
            status = get(c, "/status").bodyText(); // on the same connection: after the last 500's completion

            lines = errorLines(log);
            assertThat(lines.size()).as("lines for %d failures, the burst taking %.2f s", failures, seconds)
                    .isBetween(2, 2 + (int) Math.ceil(seconds) + 1);
            assertThat(lines.getLast()).contains("GET /boom-last.txt").matches(".*" + SUPPRESSED.pattern());
            long accounted = lines.stream().mapToLong(l -> 1 + suppressed(l)).sum();
            assertThat(accounted).as("every failure logged or counted as left out").isEqualTo(failures);
            assertThat(metric(status, "flash_errors_total{cause=\"translation\"}")).isEqualTo(failures);
            assertThat(metric(status, "flash_exchanges_total{class=\"5xx\"}")).isEqualTo(failures);
            assertThat(log.problems()).as("nothing else logged").hasSameSizeAs(lines);
        }
    }

    @ParameterizedTest
    @MethodSource("flash.hardening.Archs#inProcess")
    void flashsOwn502IsLoggedAndCountedAndA501IsCountedButNotLogged(Architecture arch) throws Exception {
        int dead;
        try (ServerSocket ss = new ServerSocket(0)) {
            dead = ss.getLocalPort(); // closed again: connecting to it is refused
        }
        try (TestServer s = TestServer.start(root, arch, c -> c.withStatusPath("/status")
                .withProxies(List.of(ProxyRoute.parse("/api/=http://127.0.0.1:" + dead + "/"))));
             LogCapture log = new LogCapture();
             RawClient c = new RawClient(s.port())) {
            assertThat(get(c, "/api/x").status()).isEqualTo(502);
            c.send("FROB / HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(501);
            List<String> lines = errorLines(log);
            assertThat(lines).hasSize(1);
            assertThat(lines.getFirst()).startsWith("WARNING flash.dispatch.ErrorLog: 502 upstream: GET /api/x from 127.0.0.1: ")
                    .contains("no upstream available").contains("127.0.0.1:" + dead).contains("Connection refused");
            String status = get(c, "/status").bodyText();
            assertThat(metric(status, "flash_errors_total{cause=\"upstream\"}")).isEqualTo(1);
            assertThat(metric(status, "flash_errors_total{cause=\"unsupported\"}")).isEqualTo(1);
            assertThat(metric(status, "flash_errors_total{cause=\"translation\"}")).isZero();
            long byCause = Pattern.compile("(?m)^flash_errors_total\\{cause=\"[a-z_]+\"} (\\d+)$").matcher(status).results()
                    .mapToLong(r -> Long.parseLong(r.group(1))).sum();
            assertThat(byCause).as("the causes sum to the 5xx class").isEqualTo(metric(status, "flash_exchanges_total{class=\"5xx\"}"))
                    .isEqualTo(2);
        }
    }

    private static RawClient.Response get(RawClient c, String path) throws Exception {
        return c.send("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n").read();
    }

    /** The error log's lines so far; waits briefly for the first (a loop task may log just after the response left). */
    private static List<String> errorLines(LogCapture log) throws Exception {
        Http.await(() -> log.problems().stream().anyMatch(l -> l.contains("ErrorLog")), 5000);
        return log.problems().stream().filter(l -> l.contains("flash.dispatch.ErrorLog")).toList();
    }

    private static long suppressed(String line) {
        Matcher m = SUPPRESSED.matcher(line);
        return m.find() ? Long.parseLong(m.group(1)) : 0;
    }

    private static long metric(String page, String sample) {
        for (String l : page.split("\n")) {
            if (l.startsWith(sample + " ")) return Long.parseLong(l.substring(sample.length() + 1).trim());
        }
        throw new AssertionError("no sample " + sample + " in\n" + new String(page.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8));
    }
}
