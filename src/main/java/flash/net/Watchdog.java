package flash.net;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Enforces deadlines for blocking drivers: one daemon thread scans the watched handlers a few times a second and
 * interrupts those past their deadline. A timer only interrupts: it wakes the thread serving the handler out of
 * its blocking read or write, and that thread answers, closes and releases.
 */
public final class Watchdog {
    private static final long TICK_MS = 250;
    private final Set<IoHandler> watched = ConcurrentHashMap.newKeySet();
    private final Thread thread;
    private final Object tick = new Object();
    private boolean nudged; // under tick's lock

    public Watchdog(String name) {
        this.thread = Thread.ofPlatform().name(name).daemon(true).unstarted(this::run);
    }

    public void start() { thread.start(); }

    public void stop() { thread.interrupt(); }

    public void watch(IoHandler h) { watched.add(h); }

    public void forget(IoHandler h) { watched.remove(h); }

    /** Scan now rather than at the next tick: a deadline was just moved to the present (mt's idle shedding). */
    public void nudge() {
        synchronized (tick) {
            nudged = true;
            tick.notify();
        }
    }

    /** Every watched handler: client connections and the upstreams they opened. */
    public Set<IoHandler> handlers() { return watched; }

    private void run() {
        while (!Thread.currentThread().isInterrupted()) {
            try {
                synchronized (tick) {
                    if (!nudged) tick.wait(TICK_MS);
                    nudged = false;
                }
            } catch (InterruptedException e) {
                return;
            }
            long now = System.nanoTime();
            for (IoHandler h : watched) {
                if (h.expired(now)) h.interrupt();
            }
        }
    }
}
