package flash.net;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/** Per-loop (or per-driver) counters, read by the status page from any thread. */
public final class LoopStats {
    public final String name;
    public final LongAdder requests = new LongAdder();
    public final LongAdder bytesOut = new LongAdder();
    public final LongAdder openConnections = new LongAdder();
    public final LongAdder residencyMisses = new LongAdder();
    public final LongAdder diskTasks = new LongAdder();
    public final LongAdder badRequests = new LongAdder();
    /** Header-read (slowloris) and write (client stopped reading) timeouts. */
    public final LongAdder timeouts = new LongAdder();
    /** Keep-alive connections closed after waiting the idle timeout for a next request. */
    public final LongAdder idleCloses = new LongAdder();
    /** mt: idle keep-alive connections marked to close early because a new connection waited for their thread. */
    public final LongAdder idleSheds = new LongAdder();

    /**
     * Gauges of per-connection memory an idle connection must not hold: read buffers lent by the loop, and response
     * senders ({@code Outgoing}) taken from the loop's pool. Both return to the loop when a response is done and
     * nothing is left unparsed, so with only idle connections open they read 0 (IdleBuffersTest). Written by the loop
     * thread alone ({@link #add}), read by any.
     */
    public final AtomicLong readBuffersHeld = new AtomicLong();
    public final AtomicLong sendersHeld = new AtomicLong();

    /** A single-writer gauge: a release store, so the hot path pays no locked instruction (a LongAdder's CAS). */
    public static void add(AtomicLong gauge, long delta) { gauge.lazySet(gauge.get() + delta); }

    public LoopStats(String name) { this.name = name; }
}
