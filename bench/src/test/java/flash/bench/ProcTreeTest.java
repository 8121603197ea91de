package flash.bench;

import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The warm-up's JIT check reads compiler threads' CPU from /proc. */
class ProcTreeTest {

    @Test
    void aJvmThatHasCompiledShowsCompilerTicksAndAPlainProcessShowsNone() throws Exception {
        // This JVM has run JUnit and AssertJ: its compiler threads have used more than one 10 ms tick by now.
        long self = ProcessHandle.current().pid();
        long ticks = 0;
        for (int i = 0; i < 50 && ticks == 0; i++) {
            busyWork();
            ticks = ProcTree.compilerTicks(self);
        }
        assertThat(ticks).as("compiler ticks of this JVM").isPositive();
        assertThat(ProcTree.compilerTicks(self)).isGreaterThanOrEqualTo(ticks);

        Process sleep = new ProcessBuilder("sleep", "30").start();
        try {
            assertThat(ProcTree.compilerTicks(sleep.pid())).as("no JIT in sleep(1)").isZero();
        } finally {
            sleep.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
        assertThat(ProcTree.compilerTicks(Long.MAX_VALUE)).as("a process that does not exist").isZero();
    }

    private static long sink;

    private static void busyWork() {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 200_000; i++) b.append(i % 10);
        sink += b.toString().hashCode();
    }
}
