package flash.bench;

import org.junit.jupiter.api.Test;


import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class HarnessAffinityTest {
    @Test
    void theServersCpuIsTakenOutOfTheAllowedList() {
        assertThat(HarnessAffinity.without("0-1", 0)).isEqualTo("1");
        assertThat(HarnessAffinity.without("0-3,6,8-9", 0)).isEqualTo("1,2,3,6,8,9");
        assertThat(HarnessAffinity.without("2-3", 0)).as("the server's CPU not allowed anyway").isEqualTo("2,3");
        assertThat(HarnessAffinity.without("4,1-2", 2)).isEqualTo("1,4");
        assertThat(HarnessAffinity.without("0", 0)).as("one CPU: nothing left").isNull();
        assertThat(HarnessAffinity.without("0\n", 0)).isNull();
    }

    @Test
    void everyThreadOfTheProcessIsMovedOffTheServersCpu(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        String before = HarnessAffinity.allowed(ProcessHandle.current().pid());
        assumeTrue(before != null && HarnessAffinity.without(before, ServerProcess.SERVER_CPU) != null,
                "needs a CPU besides the server's");
        String cpus = HarnessAffinity.without(before, ServerProcess.SERVER_CPU);
        // A JVM of its own (many threads), not this test's: pinning this one would slow the tests after it.
        java.nio.file.Path source = dir.resolve("Wait.java");
        java.nio.file.Files.writeString(source,
                "class Wait { public static void main(String[] a) throws Exception { System.out.println(\"up\"); Thread.sleep(60_000); } }");
        Process jvm = new ProcessBuilder(ProcessHandle.current().info().command().orElseThrow(), source.toString())
                .redirectErrorStream(true).start();
        try {
            assertThat(new java.io.BufferedReader(new java.io.InputStreamReader(jvm.getInputStream())).readLine())
                    .isEqualTo("up");
            java.nio.file.Path tasks = java.nio.file.Path.of("/proc/" + jvm.pid() + "/task");
            java.util.List<String> threads;
            try (var s = java.nio.file.Files.list(tasks)) {
                threads = s.map(t -> t.getFileName().toString()).toList();
            }
            assertThat(threads).hasSizeGreaterThan(5);
            for (String t : threads) assertThat(set(allowedOf(tasks, t))).as("before, thread %s", t).isEqualTo(set(before));
            assertThat(HarnessAffinity.pin(jvm.pid(), cpus)).isNull();
            for (String t : threads) {
                assertThat(set(allowedOf(tasks, t))).as("thread %s", t).isEqualTo(cpus);
            }
        } finally {
            jvm.destroyForcibly();
        }
        assertThat(HarnessAffinity.pin(Integer.MAX_VALUE, cpus)).as("no such process").startsWith("no process");
    }

    /** A CPU list in {@link HarnessAffinity#without}'s comma form. */
    private static String set(String list) { return HarnessAffinity.without(list, -1); }

    private static String allowedOf(java.nio.file.Path tasks, String tid) throws java.io.IOException {
        for (String line : java.nio.file.Files.readAllLines(tasks.resolve(tid).resolve("status"))) {
            if (line.startsWith("Cpus_allowed_list:")) return line.substring(line.indexOf(':') + 1).trim();
        }
        throw new AssertionError("no Cpus_allowed_list for thread " + tid);
    }
}
