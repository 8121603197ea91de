package flash.fastcgi;

import flash.config.FastCgiRoute;
import flash.testing.Fixtures;
import flash.testing.FlashProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code --fastcgi}, {@code --index} and the FastCGI limits on the command line: help, and one-line errors with status 2. */
class FastCgiCliTest {
    private static final String ROOT = Fixtures.root().toString();

    @Test
    void parsesUnixAndTcpAddresses() {
        FastCgiRoute u = FastCgiRoute.parse(".php=unix:/run/php/php8.2-fpm.sock");
        assertThat(u.ext()).isEqualTo(".php");
        assertThat(u.unixSocket()).isEqualTo(Path.of("/run/php/php8.2-fpm.sock"));
        FastCgiRoute t = FastCgiRoute.parse(".php=127.0.0.1:9000");
        assertThat(t.host()).isEqualTo("127.0.0.1");
        assertThat(t.port()).isEqualTo(9000);
        assertThat(FastCgiRoute.parse(".cgi=[::1]:9001").host()).isEqualTo("::1");
        assertThat(FastCgiRoute.parse(t.spec())).isEqualTo(t);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "php=unix:/x.sock | extension",
            ".php | EXT=ADDRESS",
            ".php=unix:relative.sock | absolute",
            ".php=localhost | host:port",
            ".php=localhost:0 | port",
            ".php=localhost:http | port",
            "./php=unix:/x.sock | extension"})
    void refusesBadMappings(String spec, String named) {
        assertThatThrownBy(() -> FastCgiRoute.parse(spec)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(named);
    }

    @Test
    void helpDescribesTheFastCgiOptions() throws Exception {
        try (FlashProcess p = FlashProcess.start("serve", "--help")) {
            String out = String.join("\n", p.remainingStdout());
            assertThat(p.exitCode()).isZero();
            assertThat(out).contains("--fastcgi=EXT=ADDRESS", "--index=NAMES", "--fastcgi-connections=N",
                    "--fastcgi-queue=N", "--fastcgi-timeout=SEC", "php-fpm");
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "--fastcgi | php=unix:/x.sock | extension",
            "--fastcgi | .php=nowhere | host:port",
            "--fastcgi-connections | 0 | --fastcgi-connections",
            "--fastcgi-queue | -1 | --fastcgi-queue",
            "--fastcgi-timeout | 0 | --fastcgi-timeout",
            "--index | a/b.php | --index"})
    void badValuesAreOneLineAndStatus2(String flag, String value, String named) throws Exception {
        assertUsageError(List.of("serve", ROOT, "--port", "0", flag, value), named);
    }

    @Test
    void theSameExtensionTwiceIsRefused() throws Exception {
        assertUsageError(List.of("serve", ROOT, "--port", "0", "--fastcgi", ".php=unix:/a.sock", "--fastcgi",
                ".php=unix:/b.sock"), "twice");
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
