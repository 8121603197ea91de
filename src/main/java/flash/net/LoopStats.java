package flash.net;

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

    public LoopStats(String name) { this.name = name; }
}
