package flash.integration;

import flash.testing.Fixtures;
import flash.testing.FlashProcess;
import flash.testing.Http;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code flash serve} as a user runs it: the announcement, help and version, one-line errors, SIGTERM. */
class CliTest {
    private static final String ROOT = Fixtures.root().toString();

    @Test
    void serveAnnouncesExactlyOneLineAndStopsCleanlyOnSigterm() throws Exception {
        try (FlashProcess p = FlashProcess.start("serve", ROOT, "--port", "0")) {
            String line = p.readLine();
            Matcher m = FlashProcess.LISTENING.matcher(line);
            assertThat(m.matches()).as(line).isTrue();
            assertThat(m.group(2)).isEqualTo("amped");
            assertThat(m.group(3)).isEqualTo(Path.of(ROOT).toAbsolutePath().toString());
            assertThat(Http.get(URI.create("http://127.0.0.1:" + m.group(1) + "/hello.txt")).body())
                    .isEqualTo(Fixtures.ascii(Fixtures.HELLO));
            p.process().destroy(); // SIGTERM
            assertThat(p.remainingStdout()).isEmpty();
            assertThat(p.exitCode()).isZero();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"amped", "sped", "mt", "vt", "mp"})
    void everyArchitectureStarts(String arch) throws Exception {
        try (FlashProcess p = FlashProcess.start("serve", ROOT, "--port", "0", "--arch", arch, "--processes", "2")) {
            String line = p.readLine();
            Matcher m = FlashProcess.LISTENING.matcher(line == null ? "" : line);
            assertThat(m.matches()).as(line).isTrue();
            assertThat(m.group(2)).isEqualTo(arch);
            HttpResponse<byte[]> r = Http.get(URI.create("http://127.0.0.1:" + m.group(1) + "/small.bin"));
            assertThat(r.body()).isEqualTo(Fixtures.SMALL);
            assertThat(p.terminate()).isZero();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"--help", "--version"})
    void helpAndVersionExitZero(String flag) throws Exception {
        try (FlashProcess p = FlashProcess.start(flag)) {
            List<String> out = p.remainingStdout();
            assertThat(p.exitCode()).isZero();
            assertThat(String.join("\n", out)).containsIgnoringCase("flash");
        }
    }

    @Test
    void badFlagIsOneLineAndStatus2() throws Exception {
        assertUsageError(List.of("serve", ROOT, "--no-such-flag"), "--no-such-flag");
    }

    @Test
    void missingDirectoryIsOneLineAndStatus2() throws Exception {
        assertUsageError(List.of("serve", ROOT + "/does-not-exist", "--port", "0"), "does not exist");
    }

    @Test
    void fileAsDirectoryIsOneLineAndStatus2() throws Exception {
        assertUsageError(List.of("serve", ROOT + "/hello.txt", "--port", "0"), "not a directory");
    }

    @Test
    void portInUseIsOneLineAndStatus2() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            String port = Integer.toString(taken.getLocalPort());
            assertUsageError(List.of("serve", ROOT, "--port", port), port);
        }
    }

    @Test
    void unwritableAccessLogIsOneLineAndStatus2() throws Exception {
        assertUsageError(List.of("serve", ROOT, "--port", "0", "--access-log", ROOT + "/no/such/dir/access.log"),
                "--access-log");
        assertUsageError(List.of("serve", ROOT, "--port", "0", "--access-log", ROOT), "is a directory");
        assertUsageError(List.of("serve", ROOT, "--port", "0", "--access-log", "-", "--access-log-format", "xml"),
                "'xml'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"amped", "mp"})
    void errorLogFileRecordsStartDrainAndExit(String arch, @org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path log = dir.resolve("error.log");
        try (FlashProcess p = FlashProcess.start("serve", ROOT, "--port", "0", "--arch", arch, "--processes", "2",
                "--error-log", log.toString())) {
            Matcher m = FlashProcess.LISTENING.matcher(String.valueOf(p.readLine()));
            assertThat(m.matches()).isTrue();
            assertThat(Http.get(URI.create("http://127.0.0.1:" + m.group(1) + "/hello.txt")).statusCode()).isEqualTo(200);
            assertThat(p.terminate()).isZero();
            assertThat(p.stderrLines()).isEmpty(); // everything went to the file
        }
        List<String> lines = java.nio.file.Files.readAllLines(log);
        String stamp = "^\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}\\.\\d{3} (ERROR|WARN|INFO|DEBUG) \\S+: .*";
        assertThat(lines).allMatch(l -> l.matches(stamp) || l.startsWith("    "), "time LEVEL source: message");
        assertThat(lines).anyMatch(l -> l.contains(" INFO flash.dispatch.Server: drain started: "));
        assertThat(lines.getLast()).contains(" INFO flash.serve: exit");
        if (arch.equals("amped")) assertThat(lines.getFirst()).contains(" INFO flash.serve: serving ");
    }

    @Test
    void badHealthAndDrainFlagsAreOneLineAndStatus2() throws Exception {
        assertUsageError(List.of("serve", ROOT, "--port", "0", "--health-path", "healthz"), "--health-path");
        assertUsageError(List.of("serve", ROOT, "--port", "0", "--health-path", "/s", "--status-path", "/s"), "--health-path");
        assertUsageError(List.of("serve", ROOT, "--port", "0", "--drain-delay", "-1"), "--drain-delay");
        assertUsageError(List.of("serve", ROOT, "--port", "0", "--drain-delay", "soon"), "--drain-delay");
    }

    /** SIGTERM: the health path says 503 during the drain delay; a second SIGTERM ends the delay; a line per phase. */
    @ParameterizedTest
    @ValueSource(strings = {"amped", "mp"})
    void drainDelayEndsOnASecondSigtermAndEachPhaseIsLogged(String arch, @org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path log = dir.resolve("error.log");
        try (FlashProcess p = FlashProcess.start("serve", ROOT, "--port", "0", "--arch", arch, "--processes", "2",
                "--health-path", "/healthz", "--drain-delay", "600", "--error-log", log.toString())) {
            Matcher m = FlashProcess.LISTENING.matcher(String.valueOf(p.readLine()));
            assertThat(m.matches()).isTrue();
            URI health = URI.create("http://127.0.0.1:" + m.group(1) + "/healthz");
            assertThat(Http.get(health).statusCode()).isEqualTo(200);
            p.process().destroy(); // SIGTERM
            assertThat(Http.await(() -> {
                try {
                    return Http.get(health).statusCode() == 503;
                } catch (java.io.IOException e) {
                    return false;
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }, 20_000)).as("503 during the drain delay").isTrue();
            assertThat(Http.get(URI.create("http://127.0.0.1:" + m.group(1) + "/hello.txt")).statusCode()).isEqualTo(200);
            assertThat(p.process().isAlive()).isTrue();
            new ProcessBuilder("kill", "-TERM", Long.toString(p.process().pid())).start().waitFor(); // the second one
            assertThat(p.exitCode()).isZero();
        }
        List<String> lines = java.nio.file.Files.readAllLines(log);
        assertThat(lines).anyMatch(l -> l.contains(" INFO flash.dispatch.Server: drain delay started: /healthz answers 503"));
        assertThat(lines).anyMatch(l -> l.contains(" INFO flash.dispatch.Server: drain started: "));
        assertThat(lines.getLast()).contains(" INFO flash.serve: exit");
    }

    @Test
    void badLogLevelIsOneLineAndStatus2() throws Exception {
        assertUsageError(List.of("serve", ROOT, "--port", "0", "--log-level", "loud"), "'loud'");
    }

    @Test
    void badCgiFlagsAreOneLineAndStatus2() throws Exception {
        assertUsageError(List.of("serve", ROOT, "--port", "0", "--cgi", "/cgi-bin"), "PREFIX=DIR");
        assertUsageError(List.of("serve", ROOT, "--port", "0", "--cgi", "cgi-bin=" + ROOT), "must start with '/'");
        assertUsageError(List.of("serve", ROOT, "--port", "0", "--cgi", "/cgi-bin=" + ROOT + "/does-not-exist"), "not a directory");
        assertUsageError(List.of("serve", ROOT, "--port", "0", "--cgi-timeout", "0"), "--cgi-timeout");
        assertUsageError(List.of("serve", ROOT, "--port", "0", "--cgi-timeout", "soon"), "--cgi-timeout");
    }

    @Test
    void helpDescribesCgi() throws Exception {
        try (FlashProcess p = FlashProcess.start("serve", "--help")) {
            String out = String.join("\n", p.remainingStdout());
            assertThat(p.exitCode()).isZero();
            assertThat(out).contains("--cgi=PREFIX=DIR").contains("--cgi-timeout=SEC").contains("SIGKILL");
        }
    }

    private static void assertUsageError(List<String> args, String named) throws Exception {
        try (FlashProcess p = FlashProcess.start(args.toArray(String[]::new))) {
            List<String> err = p.stderrLines();
            assertThat(p.exitCode()).as("exit status; stderr %s", err).isEqualTo(2);
            assertThat(err).as("stderr").hasSize(1);
            assertThat(err.getFirst()).startsWith("flash: ").contains(named)
                    .doesNotContain("Exception").doesNotContain("\tat ");
            assertThat(p.remainingStdout()).isEmpty();
        }
    }
}
