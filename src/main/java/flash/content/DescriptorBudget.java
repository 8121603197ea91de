package flash.content;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;

/**
 * How many descriptors unheld entries may keep open ({@link KeptDescriptor}), for every site of one server: what the
 * process's limit leaves after the connections (two each: a proxied one has an upstream), the large files' open
 * handles and a reserve for listeners, logs, pipes and the translations' own opens. A kept descriptor only saves an
 * open and a close, so it never holds one that a connection needs: the room is checked before a descriptor is kept,
 * and the acceptor sheds kept descriptors when connections grow into it ({@link #shedIfShort}) or accept fails for
 * want of one ({@link #shedAll}).
 *
 * <p>A fixed share (a quarter of the limit, as for the handles) was measured first: under the 20,000 descriptors of
 * this machine it kept 5,000 of a 20,000-file site's files open and gained 4%; keeping them all gained 20%
 * (docs/performance.md section 20). Hence a room that follows the connections instead of a share that guesses them.
 */
public final class DescriptorBudget {
    /** Descriptors never counted out to kept files: listeners, epoll, logs, pipes, upstream pools, helpers' opens. */
    static final int RESERVE = 1024;
    /** Shedding frees room for this many more connections at once, so that it does not run on every accept. */
    static final int SHED_SLACK = 512;

    private final int limit;
    private final AtomicInteger handles = new AtomicInteger();
    private final Set<KeptDescriptor> kept = new HashSet<>(); // guarded by this
    private volatile int held;                                 // kept.size(), readable without the lock
    private volatile IntSupplier connections = () -> 0;

    /** @param limit the process's descriptor limit */
    public DescriptorBudget(int limit) { this.limit = limit; }

    /** A budget for this process's descriptor limit (RLIMIT_NOFILE as the JVM raised it; 4,096 when unknown). */
    public static DescriptorBudget forProcess() {
        long limit = descriptorLimit();
        return new DescriptorBudget(limit <= 0 ? 4096 : (int) Math.min(limit, Integer.MAX_VALUE));
    }

    /** The server's open connections, counted against the room (unset: none). */
    public void countConnections(IntSupplier openConnections) { this.connections = openConnections; }

    /** Descriptors kept open by unheld entries now. */
    public int held() { return held; }

    void handleOpened() { handles.incrementAndGet(); }

    void handleClosed() { handles.decrementAndGet(); }

    /** Descriptors kept files may take in all: what the reserve, the large files' handles and the connections leave. */
    public int room() { return limit - RESERVE - handles.get() - 2 * connections.getAsInt(); }

    /** {@code fd}, just opened for {@code owner}, charged to the budget; null when there is no room (the caller closes it). */
    synchronized KeptDescriptor charge(int fd, FileEntry owner) {
        if (held >= room()) return null;
        KeptDescriptor k = new KeptDescriptor(fd, owner, this);
        kept.add(k);
        held = kept.size();
        return k;
    }

    /** A kept descriptor that was closed, or never published (its caller closes it). */
    synchronized void returned(KeptDescriptor k) {
        kept.remove(k);
        held = kept.size();
    }

    /**
     * After an accept: when the kept descriptors fill room the connections now need, closes enough of them (as their
     * reads finish) to leave room for {@link #SHED_SLACK} more connections. Runs on the acceptor, never on a loop.
     *
     * @return how many were shed
     */
    public int shedIfShort() {
        int room = room();
        if (held <= room) return 0;
        return shed(held - Math.max(0, room - 2 * SHED_SLACK));
    }

    /** Accept failed for want of a descriptor: every kept descriptor goes. */
    public int shedAll() { return shed(Integer.MAX_VALUE); }

    private int shed(int n) {
        List<KeptDescriptor> victims = new ArrayList<>();
        synchronized (this) {
            for (KeptDescriptor k : kept) {
                if (victims.size() >= n) break;
                victims.add(k);
            }
        }
        int shed = 0;
        for (KeptDescriptor k : victims) if (k.owner.dropKept(k)) shed++;
        return shed;
    }

    /** RLIMIT_NOFILE as the JVM raised it, or -1 when unknown. */
    static long descriptorLimit() {
        if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.UnixOperatingSystemMXBean os) {
            return os.getMaxFileDescriptorCount();
        }
        return -1;
    }
}
