package flash.sys;

/**
 * The time, read once per turn of an event loop rather than at every use. One response on a loop read the clock
 * about eight times (its deadlines, the exchange's start and end, the path cache's bound, the residency hint, the
 * Date), each a {@code clock_gettime} through the vDSO: 1.6% of the loop's core on the big site
 * (docs/performance.md section 41).
 *
 * <p>On an event loop's thread ({@link #newLoopThread}), {@link #nanoTime} and {@link #currentTimeMillis} answer the
 * time read at their first use since the loop last came back from waiting ({@link #turn}): at most one turn old, that
 * is the events of one select and the tasks after it, none of which blocks. What they serve (timeouts of seconds, a
 * cache's bound of a second, the Date's second) does not notice. On any other thread (helpers, the blocking
 * architectures' workers, virtual threads) they are {@link System}'s.
 */
public final class LoopClock {
    private LoopClock() {}

    /** An event loop's thread, carrying its turn's clock readings (written and read by that thread only). */
    private static final class LoopThread extends Thread {
        long nanos, millis;
        boolean nanosRead, millisRead;

        LoopThread(String name, Runnable body) { super(body, name); }
    }

    /** The thread for an event loop's {@code body}, whose reads of this clock are once per {@link #turn}. */
    public static Thread newLoopThread(String name, Runnable body) { return new LoopThread(name, body); }

    /** On a loop's thread, before it waits for events: its next reads of the clock read it again. */
    public static void turn() {
        if (Thread.currentThread() instanceof LoopThread t) {
            t.nanosRead = false;
            t.millisRead = false;
        }
    }

    /** {@link System#nanoTime}, as first read in this turn of the loop on a loop's thread. */
    public static long nanoTime() {
        if (!(Thread.currentThread() instanceof LoopThread t)) return System.nanoTime();
        if (!t.nanosRead) {
            t.nanos = System.nanoTime();
            t.nanosRead = true;
        }
        return t.nanos;
    }

    /** {@link System#currentTimeMillis}, as first read in this turn of the loop on a loop's thread. */
    public static long currentTimeMillis() {
        if (!(Thread.currentThread() instanceof LoopThread t)) return System.currentTimeMillis();
        if (!t.millisRead) {
            t.millis = System.currentTimeMillis();
            t.millisRead = true;
        }
        return t.millis;
    }
}
