package flash.sys;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/** The clock an event loop reads once per turn, and System's everywhere else. */
class LoopClockTest {
    private static void onLoopThread(ThrowingRunnable body) throws Exception {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = LoopClock.newLoopThread("test-loop", () -> {
            try {
                body.run();
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        t.start();
        t.join();
        if (failure.get() instanceof Exception e) throw e;
        if (failure.get() instanceof Error e) throw e;
    }

    interface ThrowingRunnable { void run() throws Exception; }

    @Test
    void aLoopsThreadReadsTheClockOncePerTurn() throws Exception {
        onLoopThread(() -> {
            LoopClock.turn();
            long nanos = LoopClock.nanoTime(), millis = LoopClock.currentTimeMillis();
            Thread.sleep(5);
            assertThat(LoopClock.nanoTime()).as("the same turn").isEqualTo(nanos);
            assertThat(LoopClock.currentTimeMillis()).as("the same turn").isEqualTo(millis);
            LoopClock.turn();
            assertThat(LoopClock.nanoTime()).as("the next turn").isGreaterThanOrEqualTo(nanos + 5_000_000L);
            assertThat(LoopClock.currentTimeMillis()).as("the next turn").isGreaterThan(millis);
        });
    }

    @Test
    void aTurnsFirstReadIsTakenWhenItIsUsedNotWhenTheTurnBegins() throws Exception {
        // The loop marks the turn before it waits in select: a reading taken then would be as old as the wait.
        onLoopThread(() -> {
            LoopClock.turn();
            long before = System.nanoTime();
            Thread.sleep(5);
            assertThat(LoopClock.nanoTime()).isGreaterThanOrEqualTo(before + 5_000_000L);
        });
    }

    @Test
    void everyOtherThreadReadsSystemsClock() throws Exception {
        LoopClock.turn(); // not a loop's thread: nothing to mark
        long nanos = LoopClock.nanoTime();
        Thread.sleep(5);
        assertThat(LoopClock.nanoTime()).isGreaterThanOrEqualTo(nanos + 5_000_000L);
        long millis = LoopClock.currentTimeMillis();
        Thread.sleep(5);
        assertThat(LoopClock.currentTimeMillis()).isGreaterThan(millis);
    }
}
