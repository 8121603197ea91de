package flash.cli;

import flash.config.ServerConfig;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The launcher's JVM memory flags follow the machine: up to 2 GiB the footprint set (small young generation, native
 * heap trimmed, C1 alone, two malloc arenas), above it the throughput set (16 MiB young generation, C2 alone,
 * native heap trimmed, an arena a core; docs/performance.md, sections 25, 29 and 48). The launcher's own shell
 * functions are run here, extracted from it, so the test reads what users run.
 */
class MemoryFlagsTest {
    /** The launcher's function {@code name}, as its text. */
    private static String function(String name) throws IOException {
        Matcher m = Pattern.compile("(?ms)^" + Pattern.quote(name) + "\\(\\) \\{$.*?^}$").matcher(Launcher.text());
        assertThat(m.find()).as("the launcher's %s function", name).isTrue();
        return m.group();
    }

    /** The lines from {@code first} to the next line that is exactly {@code last}, as the launcher has them. */
    private static String block(String first, String last) throws IOException {
        String l = Launcher.text();
        int from = l.indexOf(first);
        assertThat(from).as("the launcher's line %s", first).isNotNegative();
        int to = l.indexOf("\n" + last + "\n", from);
        assertThat(to).as("the end of the launcher's block %s", first).isPositive();
        return l.substring(from, to + last.length() + 1);
    }

    private static String bash(String script) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", "set -euo pipefail\n" + script).redirectErrorStream(true);
        pb.environment().remove("FLASH_MEMORY_FLAGS");
        pb.environment().remove("MALLOC_ARENA_MAX");
        Process p = pb.start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue(); // a few lines of output: no pipe fills before the exit
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(out).isZero();
        return out.trim();
    }

    private static String flagsFor(int mib) throws Exception {
        return bash(function("memory_flags") + "\nmemory_flags " + mib);
    }

    @Test
    void smallMachinesGetTheFootprintSet() throws Exception {
        for (int mib : new int[] {512, 2048}) {
            assertThat(flagsFor(mib)).contains("-XX:+UseSerialGC", "-Xmn4m", "-XX:TrimNativeHeapInterval=1000",
                    "-XX:TieredStopAtLevel=1", "-XX:MaxDirectMemorySize=" + mib + "m", "-XX:+UseCompactObjectHeaders",
                    "-XX:CompileCommand=exclude,");
        }
    }

    /**
     * The footprint set leaves a JDK method to the interpreter by name, which the JVM ignores silently when nothing
     * matches: a JDK that renamed it would bring back C1's 6.6 MB compilation at start-up (section 29).
     */
    @Test
    void theMethodLeftToTheInterpreterExists() throws Exception {
        assertThat(Launcher.assertNamedMethodsExist(flagsFor(1024), "exclude"))
                .as("exclude commands in the footprint set").isPositive();
    }

    @Test
    void largerMachinesKeepTheThroughputSet() throws Exception {
        for (int mib : new int[] {2049, 24105}) {
            String flags = flagsFor(mib);
            assertThat(flags).contains("-XX:+UseSerialGC", "-Xmn16m", "-XX:MaxDirectMemorySize=" + mib + "m",
                            "-XX:TrimNativeHeapInterval=1000", "-XX:-TieredCompilation")
                    .doesNotContain("TieredStopAtLevel", "Xmn4m", "CompileCommand");
        }
    }

    /** The launcher measures the memory the server's defaults are sized from (ServerConfig), in whole MiB. */
    @Test
    void theMachineIsTheOneTheServerSizesItsCachesFrom() throws Exception {
        long mib = Long.parseLong(bash(function("machine_mib") + "\nmachine_mib"));
        assertThat(ServerConfig.machineBytes()).as("this machine's memory, read by the server").isPositive();
        assertThat(mib).isEqualTo(ServerConfig.machineBytes() >> 20);
    }

    /** A container's limit, under cgroup v2 or v1, is the machine when lower, as ServerConfig reads it. */
    @Test
    void aContainersLimitIsTheMachine() throws Exception {
        String run = function("machine_mib") + "\nd=$(mktemp -d); trap 'rm -rf \"$d\"' EXIT\n"
                + "printf 'MemTotal:        4000000 kB\\n' >\"$d/meminfo\"; echo max >\"$d/v2\"\n";
        assertThat(bash(run + "echo 9223372036854771712 >\"$d/v1\"; machine_mib \"$d/meminfo\" \"$d/v2\" \"$d/v1\""))
                .as("unlimited").isEqualTo("3906");
        assertThat(bash(run + "echo 1073741824 >\"$d/v1\"; machine_mib \"$d/meminfo\" \"$d/v2\" \"$d/v1\""))
                .as("a v1 limit").isEqualTo("1024");
        assertThat(bash(run + "echo 536870912 >\"$d/v2\"; echo 1073741824 >\"$d/v1\"\n"
                + "machine_mib \"$d/meminfo\" \"$d/v2\" \"$d/v1\""))
                .as("the lower of two").isEqualTo("512");
        assertThat(bash(run + "machine_mib \"$d/meminfo\" \"$d/none\"")).as("no limit file").isEqualTo("3906");
        assertThat(function("machine_mib"))
                .contains("/sys/fs/cgroup/memory.max /sys/fs/cgroup/memory/memory.limit_in_bytes");
    }

    /**
     * The arena cap: two on a small machine, one a core (at least two) on a bigger one, never over the caller's own
     * choice, and not for Maven's tests or a caller's own memory flags.
     */
    @Test
    void mallocArenasAreCappedByTheMachine() throws Exception {
        String defaults = block("MACHINE_MIB=\"$(machine_mib)\"", "fi");
        String run = function("memory_flags") + "\n" + defaults + "\necho \"${MALLOC_ARENA_MAX:-unset}\"";
        assertThat(bash("machine_mib() { echo 2048; }\nnproc() { echo 16; }\n" + run)).isEqualTo("2");
        assertThat(bash("machine_mib() { echo 2049; }\nnproc() { echo 16; }\n" + run)).isEqualTo("16");
        assertThat(bash("machine_mib() { echo 24105; }\nnproc() { echo 1; }\n" + run)).as("one core").isEqualTo("2");
        assertThat(bash("machine_mib() { echo 24105; }\nnproc() { return 1; }\n" + run)).as("no nproc").isEqualTo("2");
        assertThat(bash("machine_mib() { echo 24105; }\nnproc() { :; }\n" + run)).as("nproc silent").isEqualTo("2");
        assertThat(bash("machine_mib() { echo 24105; }\nnproc() { echo '4 cores'; }\n" + run)).as("not a number")
                .isEqualTo("2");
        assertThat(bash("export MALLOC_ARENA_MAX=4\nmachine_mib() { echo 24105; }\nnproc() { echo 16; }\n" + run))
                .as("the caller's, big machine").isEqualTo("4");
        assertThat(bash("export FLASH_MEMORY_FLAGS=-Xmx64m\nmachine_mib() { echo 24105; }\nnproc() { echo 16; }\n"
                + run))
                .as("the caller's flags, big machine").isEqualTo("unset");
        assertThat(bash("set -- test\nmachine_mib() { echo 24105; }\nnproc() { echo 16; }\n" + run))
                .as("./flash test, big machine").isEqualTo("unset");
        assertThat(bash("set -- test\nmachine_mib() { echo 1024; }\n" + run)).as("./flash test").isEqualTo("unset");
        assertThat(bash("export MALLOC_ARENA_MAX=4\nmachine_mib() { echo 1024; }\n" + run)).isEqualTo("4");
        assertThat(bash("export FLASH_MEMORY_FLAGS=-Xmx64m\nmachine_mib() { echo 1024; }\n" + run)).isEqualTo("unset");
        assertThat(bash("machine_mib() { echo 1024; }\n" + run.replace("echo \"${MALLOC", "echo \"$DEFAULT_MEMORY_FLAGS ${MALLOC")))
                .contains("-Xmn4m");
    }

    @Test
    void theJvmAcceptsBothSets() throws Exception {
        for (int mib : new int[] {1024, 8192}) {
            assertThat(Launcher.javaVersionWith(Arrays.asList(flagsFor(mib).split("\\s+"))))
                    .doesNotContainIgnoringCase("error").doesNotContainIgnoringCase("unrecognized")
                    .as("the exclude command is quiet").doesNotContain("CompileCommand");
        }
    }
}
