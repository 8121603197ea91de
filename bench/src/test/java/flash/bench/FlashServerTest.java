package flash.bench;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The harness starts Flash with the JVM flags `flash serve` uses, which the launcher hands it. */
class FlashServerTest {

    @Test
    void theLaunchersFlagsComeFirstAndNativeAccessIsAlwaysThere() {
        assertThat(FlashServer.jvmFlags(null)).containsExactly("--enable-native-access=ALL-UNNAMED");
        assertThat(FlashServer.jvmFlags("  ")).containsExactly("--enable-native-access=ALL-UNNAMED");
        assertThat(FlashServer.jvmFlags("--enable-native-access=ALL-UNNAMED -XX:+UseSerialGC  -Xms24m -Xmn16m "))
                .containsExactly("--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC", "-Xms24m", "-Xmn16m");
        assertThat(FlashServer.jvmFlags("-XX:+UseParallelGC"))
                .containsExactly("--enable-native-access=ALL-UNNAMED", "-XX:+UseParallelGC");
    }

    @Test
    void theCommandRunsTheJarAfterTheJvmFlags() {
        FlashServer s = new FlashServer("flash-amped", Path.of("/srv/www"), Path.of("/tmp/w"), Path.of("/x/flash.jar"),
                "amped", List.of("--loops", "1"));
        List<String> cmd = s.command();
        assertThat(cmd.getFirst()).endsWith("/bin/java");
        assertThat(cmd).containsSubsequence("-jar", "/x/flash.jar", "serve", "/srv/www");
        assertThat(cmd.indexOf("--enable-native-access=ALL-UNNAMED")).isLessThan(cmd.indexOf("-jar"));
        assertThat(cmd.subList(cmd.size() - 2, cmd.size())).containsExactly("--loops", "1");
    }
}
