package flash.cli;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The launcher's JIT flags name methods by string, which the JVM silently ignores when nothing matches: a renamed
 * method would bring back the late recompile they exist to prevent (docs/performance.md, "The late recompile").
 */
class JitFlagsTest {
    private static final Pattern DEFAULT = Pattern.compile("(?m)^JIT_FLAGS=\"\\$\\{FLASH_JIT_FLAGS-\"([^\"]*)\"}\"$");

    private static String launcherJitFlags() throws IOException {
        Matcher m = DEFAULT.matcher(Launcher.text());
        assertThat(m.find()).as("the launcher's JIT_FLAGS default line").isTrue();
        return m.group(1);
    }

    @Test
    void everyMethodKeptOutOfLineExists() throws Exception {
        assertThat(Launcher.assertNamedMethodsExist(launcherJitFlags(), "dontinline"))
                .as("dontinline commands in the launcher").isPositive();
    }

    @Test
    void theLauncherPassesThemToTheJvm() throws IOException {
        Matcher m = Pattern.compile("(?m)^JVM_FLAGS=\\((.*)\\)$").matcher(Launcher.text());
        assertThat(m.find()).as("the launcher's JVM_FLAGS line").isTrue();
        assertThat(m.group(1)).contains("$JIT_FLAGS");
    }

    @Test
    void theJvmAcceptsThem() throws Exception {
        assertThat(Launcher.javaVersionWith(Arrays.asList(launcherJitFlags().trim().split("\\s+"))))
                .doesNotContainIgnoringCase("error").doesNotContain("CompileCommand");
    }
}
