package flash.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class HarnessAffinityTest {
    @Test
    void theHarnessTakesTheCpusNeitherServerNorGeneratorUsesAndSharesTheGeneratorsOnlyOnTwo() {
        assertThat(HarnessAffinity.placement("0-1", 0, 1)).as("two CPUs: the generator's").isEqualTo("1");
        assertThat(HarnessAffinity.placement("0-3,6,8-9", 0, 1)).isEqualTo("2-3,6,8-9");
        assertThat(HarnessAffinity.placement("2-3", 0, 1)).as("neither allowed anyway").isEqualTo("2-3");
        assertThat(HarnessAffinity.placement("4,1-2", 2, 1)).isEqualTo("4");
        assertThat(HarnessAffinity.placement("0", 0, 1)).as("one CPU: nothing left").isNull();
        assertThat(HarnessAffinity.placement("0\n", 0, 1)).isNull();
        assertThatThrownBy(() -> HarnessAffinity.placement("0-7:2", 0, 1)).isInstanceOf(NumberFormatException.class);
    }

    @Test
    void cpuListsAreWrittenAsRanges() {
        assertThat(HarnessAffinity.format(HarnessAffinity.parse("1,2,3,5,7-9,11"))).isEqualTo("1-3,5,7-9,11");
        assertThat(HarnessAffinity.format(HarnessAffinity.parse("4"))).isEqualTo("4");
        assertThat(HarnessAffinity.format(HarnessAffinity.parse(""))).isNull();
    }

    @Test
    @Timeout(60)
    void everyThreadOfTheProcessIsMovedOffTheServersCpu(@TempDir Path dir) throws Exception {
        String before = HarnessAffinity.allowed(Path.of("/proc/self/status"));
        assumeTrue(before != null && HarnessAffinity.parse(before).contains(ServerProcess.SERVER_CPU)
                && HarnessAffinity.parse(before).size() > 1, "needs the server's CPU and another");
        assumeTrue(new ProcessBuilder("bash", "-c", "command -v taskset").start().waitFor() == 0, "needs taskset");
        String cpus = HarnessAffinity.placement(before, ServerProcess.SERVER_CPU, WrkRunner.GENERATOR_CPU);
        // A JVM of its own (many threads), not this test's: pinning this one would slow the tests after it.
        Path source = dir.resolve("Wait.java");
        Files.writeString(source,
                "class Wait { public static void main(String[] a) throws Exception { System.out.println(\"up\"); Thread.sleep(60_000); } }");
        Process jvm = new ProcessBuilder(ProcessHandle.current().info().command().orElseThrow(), source.toString())
                .redirectErrorStream(true).start();
        try {
            assertThat(new BufferedReader(new InputStreamReader(jvm.getInputStream())).readLine()).isEqualTo("up");
            List<Path> threads = HarnessAffinity.threadStatuses(jvm.pid());
            assertThat(threads).hasSizeGreaterThan(5);
            for (Path t : threads) {
                assertThat(HarnessAffinity.parse(HarnessAffinity.allowed(t))).as("before, %s", t)
                        .contains(ServerProcess.SERVER_CPU);
            }
            assertThat(HarnessAffinity.pin(jvm.pid(), cpus)).isNull();
            for (Path t : threads) {
                assertThat(HarnessAffinity.parse(HarnessAffinity.allowed(t))).as("%s", t)
                        .isEqualTo(HarnessAffinity.parse(cpus)).doesNotContain(ServerProcess.SERVER_CPU);
            }
        } finally {
            jvm.destroyForcibly();
        }
        // taskset -a itself succeeds for a pid that does not exist; pin must not.
        assertThat(HarnessAffinity.pin(Integer.MAX_VALUE, cpus)).as("no such process").isNotNull();
    }
}
