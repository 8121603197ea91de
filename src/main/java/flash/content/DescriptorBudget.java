package flash.content;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;

/**
 * How many descriptors unheld entries may keep open ({@link KeptDescriptor}), for the whole process: what its limit
 * leaves after the connections (two each: a proxied one has an upstream), the large files' open handles and a reserve
 * for listeners, logs, pipes and the translations' own opens. A kept descriptor only saves an open and a close, so it
 * never holds one that something else needs: the room is checked before a descriptor is kept; the acceptor sheds
 * kept descriptors when connections grow into it, and so does a large file's handle ({@link #shedIfShort}); when
 * accept fails for want of a descriptor, all go and the budget is capped below what it held ({@link #shedAll}), so
 * that the loops do not refill a room that was overestimated.
 *
 * <p>Idle ones go too: a descriptor no read used for {@link #IDLE_TICKS} (about a minute, nginx's {@code
 * open_file_cache inactive}) is closed by a sweeper thread, so a file deleted or replaced without a watch to report
 * it does not keep its blocks on the disk for as long as its entry stays cached, and the last close of such a file,
 * which frees its blocks, runs there rather than on a loop.
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
    /** A tick of {@link #nowTick()}: 2^30 ns, about 1.07 s. */
    static final int TICK_SHIFT = 30;
    /** Ticks without a read after which a kept descriptor is closed (about 64 s). */
    static final long IDLE_TICKS = 60;
    private static final long SWEEP_SECONDS = 10;
    private static final ScheduledExecutorService SWEEPER = Executors.newSingleThreadScheduledExecutor(r ->
            Thread.ofPlatform().daemon(true).name("flash-descriptor-sweeper").unstarted(r));
    private static volatile DescriptorBudget process;

    private final int limit;
    private final AtomicInteger handles = new AtomicInteger();
    private final Set<KeptDescriptor> kept = new HashSet<>(); // guarded by this
    private volatile int held;                                 // kept.size(), readable without the lock
    private volatile int cap = Integer.MAX_VALUE;              // lowered by a failed accept, raised back by sweeps
    private final List<IntSupplier> connections = new CopyOnWriteArrayList<>();
    private boolean sweeping;                                  // guarded by this

    /** @param limit the process's descriptor limit */
    public DescriptorBudget(int limit) { this.limit = limit; }

    /**
     * The budget of this process (RLIMIT_NOFILE as the JVM raised it; 4,096 when unknown), one for every server it
     * runs: they share one descriptor limit.
     */
    public static DescriptorBudget forProcess() {
        DescriptorBudget b = process;
        if (b != null) return b;
        synchronized (DescriptorBudget.class) {
            if (process == null) {
                long limit = descriptorLimit();
                process = new DescriptorBudget(limit <= 0 ? 4096 : (int) Math.min(limit, Integer.MAX_VALUE));
            }
            return process;
        }
    }

    /** Counts a server's open connections against the room until the returned action is run (at its close). */
    public Runnable countConnections(IntSupplier openConnections) {
        connections.add(openConnections);
        return () -> connections.remove(openConnections);
    }

    /** Descriptors kept open by unheld entries now. */
    public int held() { return held; }

    void handleOpened() {
        handles.incrementAndGet();
        shedIfShort();
    }

    void handleClosed() { handles.decrementAndGet(); }

    /** Whether the kept descriptors fill the room: a new one is refused ({@link #charge}). Read without the lock. */
    boolean full() { return held >= room(); }

    /** Descriptors kept files may take in all: what the reserve, the large files' handles and the connections leave. */
    public int room() {
        int open = 0;
        for (IntSupplier c : connections) open += c.getAsInt();
        return Math.min(cap, limit - RESERVE - handles.get() - 2 * open);
    }

    /** The current tick, for {@link KeptDescriptor#touch}. */
    static long nowTick() { return System.nanoTime() >> TICK_SHIFT; }

    /**
     * {@code fd}, just opened for {@code owner} (as {@code handle}, or null for a raw descriptor), charged to the
     * budget; null when there is no room (the caller closes it).
     */
    synchronized KeptDescriptor charge(int fd, FileHandle handle, FileEntry owner) {
        if (full()) return null;
        KeptDescriptor k = new KeptDescriptor(fd, handle, owner, this);
        kept.add(k);
        held = kept.size();
        if (!sweeping) {
            sweeping = true;
            WeakReference<DescriptorBudget> self = new WeakReference<>(this);
            SWEEPER.scheduleWithFixedDelay(() -> {
                DescriptorBudget b = self.get();
                if (b == null) throw new IllegalStateException("budget gone"); // cancels this task
                b.sweep(nowTick(), IDLE_TICKS);
            }, SWEEP_SECONDS, SWEEP_SECONDS, TimeUnit.SECONDS);
        }
        return k;
    }

    /** A kept descriptor that was closed, or never published (its caller closes it). */
    synchronized void returned(KeptDescriptor k) {
        kept.remove(k);
        held = kept.size();
    }

    /**
     * When the kept descriptors fill room that connections or handles now need, closes enough of them (as their reads
     * finish) to leave room for {@link #SHED_SLACK} more connections. Runs on the acceptor, or where a large file's
     * translation is cached (a helper; the loop itself only under sped, which translates there).
     *
     * @return how many were shed
     */
    public int shedIfShort() {
        int room = room();
        if (held <= room) return 0;
        return shed(held - Math.max(0, room - 2 * SHED_SLACK));
    }

    /**
     * Accept failed for want of a descriptor: every kept descriptor goes, and until sweeps raise it back the budget
     * keeps at most half of what it held, since its room was overestimated.
     */
    public int shedAll() {
        cap = Math.min(cap, held / 2);
        return shed(Integer.MAX_VALUE);
    }

    /**
     * Closes the descriptors no read used since {@code idleTicks} before {@code nowTick}, and raises a lowered cap by a
     * sixteenth of the limit. The sweeper's work, every 10 s.
     */
    int sweep(long nowTick, long idleTicks) {
        if (cap != Integer.MAX_VALUE) {
            long raised = (long) cap + Math.max(1, limit / 16);
            cap = raised >= limit ? Integer.MAX_VALUE : (int) raised;
        }
        return dropOldestIdle(nowTick, idleTicks, Integer.MAX_VALUE);
    }

    /** Ticks without a read after which {@link #relieve} may close a kept descriptor (about 4 s). */
    static final long RELIEF_IDLE_TICKS = 4;
    /** {@link #RELIEF_IDLE_TICKS}, lowered by tests. */
    long reliefIdleTicks = RELIEF_IDLE_TICKS;
    /** The most one relief closes: a sixty-fourth of the room, and at least this many. */
    static final int RELIEF_MIN = 64;
    private final java.util.concurrent.atomic.AtomicLong reliefTick = new java.util.concurrent.atomic.AtomicLong(Long.MIN_VALUE);
    private final java.util.concurrent.atomic.LongAdder relieved = new java.util.concurrent.atomic.LongAdder();

    /**
     * A file asked for often found no room: closes, on the sweeper's thread and at most once a tick, the kept
     * descriptors no read used for {@link #reliefIdleTicks}, the longest unused first, at most {@link #reliefBatch}
     * of them. Without this the budget could stay full of files no longer asked for until the minute's sweep; a batch
     * a tick still makes room for a new set of hot files within seconds. All idle ones went at once before: after any
     * pause of a few seconds that was nearly every descriptor, the most used among them, and the ones reads then kept
     * again were each an openat2, an mmap and a close more (docs/performance.md section 45). Cheap on the caller's
     * thread: a volatile read, and a task once a second at most.
     */
    void relieve() {
        long now = nowTick(), last = reliefTick.get();
        if (last == now || !reliefTick.compareAndSet(last, now)) return;
        long idle = reliefIdleTicks;
        SWEEPER.execute(() -> relieved.add(dropOldestIdle(now, idle, reliefBatch())));
    }

    /** {@link #RELIEF_MIN}, lowered by tests. */
    int reliefMin = RELIEF_MIN;

    /** How many descriptors one relief closes at most: a sixty-fourth of the room, at least {@link #reliefMin}. */
    int reliefBatch() { return Math.max(reliefMin, room() / 64); }

    /** Descriptors the reliefs closed since start. */
    public long relieved() { return relieved.sum(); }

    /**
     * Closes at most {@code most} of the kept descriptors no read used since {@code idleTicks} before {@code nowTick},
     * those unused longest first. Their ticks are read once: reads go on changing them while this sorts.
     */
    int dropOldestIdle(long nowTick, long idleTicks, int most) {
        List<KeptDescriptor> idle = new ArrayList<>();
        long[] ages; // each idle one's age in ticks (high half) and its index in idle (low half); null: all go
        synchronized (this) {
            ages = most >= kept.size() ? null : new long[kept.size()];
            for (KeptDescriptor k : kept) {
                long age = nowTick - k.lastUsedTick();
                if (age < idleTicks) continue;
                if (ages != null) ages[idle.size()] = Math.min(age, Integer.MAX_VALUE) << 32 | idle.size();
                idle.add(k);
            }
        }
        if (idle.size() <= most) return drop(idle);
        java.util.Arrays.sort(ages, 0, idle.size());
        List<KeptDescriptor> oldest = new ArrayList<>(most);
        for (int i = idle.size() - 1; i >= idle.size() - most; i--) oldest.add(idle.get((int) ages[i]));
        return drop(oldest);
    }

    private int shed(int n) {
        List<KeptDescriptor> victims = new ArrayList<>();
        synchronized (this) {
            for (KeptDescriptor k : kept) {
                if (victims.size() >= n) break;
                victims.add(k);
            }
        }
        return drop(victims);
    }

    private static int drop(List<KeptDescriptor> victims) {
        int dropped = 0;
        for (KeptDescriptor k : victims) if (k.owner.dropKept(k)) dropped++;
        return dropped;
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
