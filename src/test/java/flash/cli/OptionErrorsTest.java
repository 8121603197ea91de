package flash.cli;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** A bad value for a serve option is one sentence naming the option and the value, exit status 2, before listening. */
class OptionErrorsTest {
    @TempDir static Path dir;

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource(delimiter = '|', value = {
            "--bind|nosuchhost.invalid|--bind 'nosuchhost.invalid' is not an address or a host name that resolves",
            "--bind|''|--bind needs an address",
            "--port|-1|--port must be between 0 and 65535, not -1",
            "--loops|0|--loops must be at least 1, not 0",
            "--revalidate-ms|-5|--revalidate-ms must not be negative, not -5",
            "--revalidate-watched-ms|-1|--revalidate-watched-ms must not be negative, not -1",
            "--revalidate|sometimes|unknown revalidation 'sometimes' (choose watch or stat)",
            "--cache-mb|9999999999999|--cache-mb must be at most",
            "--idle-timeout|0|--idle-timeout must be more than 0 and at most 86400 seconds, not 0.0",
            "--header-timeout|NaN|--header-timeout must be more than 0",
            "--status-path|status|--status-path must start with '/'",
            "--proxy|/a/=http://nosuchhost.invalid:8080|--proxy /a/: cannot resolve upstream host 'nosuchhost.invalid'",
            "--proxy|/a/=gopher://x|--proxy",
            "--fastcgi|.php=nosuchhost.invalid:9000|--fastcgi .php: cannot resolve host 'nosuchhost.invalid'",
            "--static|/docs=/no/such/dir|--static /docs: '/no/such/dir' is not a directory",
            "--static|docs=/tmp|--static prefix must start with '/'",
            "--config|/no/such/flash.toml|config file '/no/such/flash.toml' does not exist",
            "--arch|fast|unknown architecture 'fast'",
            "--error-log|/no/such/dir/error.log|--error-log '/no/such/dir/error.log' cannot be opened for writing",
    })
    void badValueIsOneSentenceAndStatus2(String option, String value, String message) {
        for (String arch : List.of("amped", "mp")) {
            List<String> args = new ArrayList<>(List.of("serve", dir.toString(), "--arch", arch));
            if (!option.equals("--port")) args.addAll(List.of("--port", "0"));
            if (!option.equals("--arch") || arch.equals("amped")) args.addAll(List.of(option, value));
            if (option.equals("--arch") && arch.equals("mp")) continue;
            var r = ConfigFileTest.flash(args.toArray(String[]::new));
            assertThat(r.status()).as(args + ": " + r).isEqualTo(2);
            assertThat(r.errLines()).as(r.err()).hasSize(1);
            assertThat(r.errLines().getFirst()).startsWith("flash: ").contains(message);
        }
    }
}
