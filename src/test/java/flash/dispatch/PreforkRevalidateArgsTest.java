package flash.dispatch;

import flash.config.Revalidation;
import flash.config.ServerConfig;
import flash.testing.Fixtures;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** mp workers are re-executed with argv: each watches for itself, with the parent's revalidation settings. */
class PreforkRevalidateArgsTest {
    private static String after(List<String> args, String flag) {
        int i = args.indexOf(flag);
        assertThat(i).as(flag + " in " + args).isNotNegative();
        return args.get(i + 1);
    }

    @Test
    void workersGetTheRevalidationOptions() {
        List<String> a = Prefork.workerArgs(ServerConfig.defaults(Fixtures.root()).withRevalidation(Revalidation.STAT)
                .withRevalidateAfter(Duration.ofMillis(250)).withRevalidateWatched(Duration.ofSeconds(90)));
        assertThat(after(a, "--revalidate")).isEqualTo("stat");
        assertThat(after(a, "--revalidate-ms")).isEqualTo("250");
        assertThat(after(a, "--revalidate-watched-ms")).isEqualTo("90000");
        assertThat(after(Prefork.workerArgs(ServerConfig.defaults(Fixtures.root())), "--revalidate")).isEqualTo("watch");
    }
}
