package flash.cli;

import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** The `./flash` launcher as the tests of its JVM flags read it (JitFlagsTest, MemoryFlagsTest). */
final class Launcher {
    private Launcher() {}

    /** The launcher's text. */
    static String text() throws IOException {
        return Files.readString(Path.of("flash"), StandardCharsets.UTF_8);
    }

    /**
     * Runs this JDK's java with {@code flags} and -version, asserts that it started (exit 0, no "error" in its output)
     * and returns the output for the caller's own checks.
     */
    static String javaVersionWith(List<String> flags) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow()));
        cmd.addAll(flags);
        cmd.add("-version");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).doesNotContainIgnoringCase("error");
        return out;
    }

    /**
     * Asserts that every {@code -XX:CompileCommand=<command>,Class::method} in {@code flags} (the comma form, the one
     * the launcher uses: a space-separated command would not survive its word splitting) names a method that exists,
     * since the JVM ignores one that matches nothing; returns how many were named.
     */
    static int assertNamedMethodsExist(String flags, String command) throws ClassNotFoundException {
        Pattern named = Pattern.compile("-XX:CompileCommand=" + Pattern.quote(command) + ",([\\w.$]+)::(\\w+)");
        Matcher m = named.matcher(flags);
        int count = 0;
        while (m.find()) {
            count++;
            Class<?> type = Class.forName(m.group(1), false, Launcher.class.getClassLoader());
            assertThat(Arrays.stream(type.getDeclaredMethods()).map(Method::getName))
                    .as("%s declares %s", type.getName(), m.group(2)).contains(m.group(2));
        }
        return count;
    }
}
