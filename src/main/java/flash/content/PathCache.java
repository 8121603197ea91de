package flash.content;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import flash.http.RequestTarget;

import java.util.concurrent.atomic.LongAdder;

/**
 * The paper's pathname-translation cache: normalised URL path to its translation (a file entry with its
 * metadata, validators and, for small files, its bytes; or a negative/redirect result). Looked up on the
 * event loop without blocking; filled by whoever ran the translation.
 *
 * <p>Freshness: an entry older than {@code revalidateAfter} is not served; the request goes back through a
 * full translation (stat, realpath, open), so a changed, replaced, symlink-swapped or deleted file is seen
 * within that bound. An entry whose reads are all watched ({@link FileWatch}, {@code --revalidate watch}) is dropped
 * by the watch thread when the file system reports a change ({@link #invalidate}), and keeps only the longer safety
 * bound {@code watchedRevalidateNanos} for changes inotify cannot report. Size: at most {@code maxEntries} entries and
 * {@code maxBytes} of file bytes held in memory.
 *
 * <p>Policy: W-TinyLFU (Caffeine). Chosen by hit rate on the NASA trace and on Zipf workloads against the CLOCK it
 * replaces, LRU and a segmented LRU (docs/performance.md, "Cache policy"; bench's CachePolicySim replays them): a
 * frequency sketch admits a new entry only if it is used more often than the entry it would push out, so a crawl
 * through rarely used files cannot flush the hot ones. Lookup, insert and eviction are O(1) amortised.
 *
 * <p>Both bounds in one weight: an entry weighs {@code max(unit, its bytes)} with {@code unit = maxBytes / maxEntries}
 * and the total is bounded by {@code maxBytes}, so there are never more than {@code maxEntries} entries and never more
 * than {@code maxBytes} bytes (with many entries holding far less than a unit and a few holding far more, fewer
 * entries than the two bounds would allow apart: the price of one O(1) policy).
 *
 * <p>Unheld entries (issue #11, "warm set larger than the caches"): when holding a small file's bytes would take the
 * bytes held past {@link #HOLD_FRACTION} of the byte budget, the translation is cached without them ({@link
 * FileEntry#unheldCopy}: metadata, validators, real path, identity; no body and no open file) and weighs one unit. A
 * lookup that finds one reads the file then and there without blocking ({@link UnheldRead}: openat2 with
 * RESOLVE_CACHED, fstat, preadv2 with RWF_NOWAIT, close), and when that cannot be done without waiting, or the file
 * is not the one cached, it is a miss: the caller translates again where blocking is allowed. Eviction so no longer
 * drops the translation along with the bytes, which made most requests of a site larger than the byte budget pay a
 * full translation on a helper.
 *
 * <p>Open files: an entry of a large file holds an open descriptor, and the entry bound (50,000 by default) can be
 * above the process's descriptor limit (often 20,000 or less), which would starve accept and open of descriptors. So
 * such an entry weighs {@code maxWeight / maxHandles} (at least a unit): at most {@code maxHandles} of them fit,
 * {@link #defaultMaxHandles() a quarter of the descriptor limit} by default, and past that the policy evicts among them
 * (and the others) by frequency as for any entry, rather than refusing new ones. The bound is in the weight, not a
 * separate count, so that eviction stays the one O(1) policy.
 *
 * <p>Threads: loops look up, whoever translated inserts. A lookup never blocks: Caffeine records it in a lossy
 * buffer and drains its buffers under a tryLock. Maintenance (eviction) runs on the thread that triggers it (a direct
 * executor): usually the inserting helper, sometimes a loop whose lookup found the read buffer full. The removal
 * listener only drops the cache's reference; when that is the last one, the file's descriptor is closed and its
 * residency mapping unmapped: two system calls that never wait for the disk (the file is read-only, nothing is dirty),
 * the same work a loop already does when it finishes the last response sending from an evicted file. No thread pool,
 * and no read or write of file data, ever runs in the listener.
 */
public final class PathCache {
    /**
     * One cached translation, as made at {@code createdNanos}, served for {@code boundNanos} (the stat bound, or the
     * safety bound when every read is watched). Immutable; replaced whole. A class, not a record: the watch thread
     * removes exactly this node ({@code remove(key, node)}), never an equal one stored since.
     */
    private static final class Node {
        final String key;
        final Translation translation;
        final long createdNanos;
        final long boundNanos;
        final long bytes;
        final FileWatch.Registration watch; // null when not watched
        final boolean holdsHandle;          // a large file's open descriptor
        final boolean unheld;               // a small file's translation without its bytes

        Node(String key, Translation translation, long createdNanos, long boundNanos, long bytes,
             FileWatch.Registration watch) {
            this.key = key;
            this.translation = translation;
            this.createdNanos = createdNanos;
            this.boundNanos = boundNanos;
            this.bytes = bytes;
            this.watch = watch;
            FileEntry e = translation instanceof Translation.Found f ? f.entry() : null;
            this.holdsHandle = e != null && e.handle() != null;
            this.unheld = e != null && e.unheld();
        }
    }

    private final Cache<String, Node> cache;
    private final long maxBytes;
    private final long revalidateNanos;
    private final long watchedRevalidateNanos;
    private final LongAdder bytes = new LongAdder();
    public final LongAdder hits = new LongAdder();
    public final LongAdder misses = new LongAdder();
    public final LongAdder evictions = new LongAdder();
    /** Entries translated again because they had outlived their bound (a stat-based revalidation). */
    public final LongAdder revalidatedByStat = new LongAdder();
    /** Entries dropped because the file system reported a change to something they read. */
    public final LongAdder revalidatedByWatch = new LongAdder();
    /** Requests answered from an unheld entry by a read that did not block. */
    public final LongAdder unheldHits = new LongAdder();
    /** Unheld entries found that could not be read without blocking (or had changed): translated again instead. */
    public final LongAdder unheldFallbacks = new LongAdder();
    private final LongAdder unheldEntries = new LongAdder();
    private final LongAdder handleEntries = new LongAdder();
    private final int maxHandles;

    /** Bytes may be held up to this share of the byte budget; past it small files are cached unheld. */
    static final double HOLD_FRACTION = 0.9;

    public PathCache(int maxEntries, long maxBytes, long revalidateNanos) {
        this(maxEntries, maxBytes, revalidateNanos, revalidateNanos);
    }

    /** @param watchedRevalidateNanos the bound of an entry whose every read is watched (never below the stat bound) */
    public PathCache(int maxEntries, long maxBytes, long revalidateNanos, long watchedRevalidateNanos) {
        this(maxEntries, maxBytes, revalidateNanos, watchedRevalidateNanos, defaultMaxHandles());
    }

    /** @param maxHandles entries holding an open file at most (see the class comment) */
    public PathCache(int maxEntries, long maxBytes, long revalidateNanos, long watchedRevalidateNanos, int maxHandles) {
        if (maxEntries <= 0) throw new IllegalArgumentException("maxEntries must be positive: " + maxEntries);
        if (maxHandles <= 0) throw new IllegalArgumentException("maxHandles must be positive: " + maxHandles);
        this.maxHandles = maxHandles;
        this.maxBytes = Math.max(0, maxBytes);
        this.revalidateNanos = revalidateNanos;
        this.watchedRevalidateNanos = Math.max(revalidateNanos, watchedRevalidateNanos);
        // With no byte budget (--no-file-cache) no entry holds bytes: only the entry bound is left.
        long budget = this.maxBytes > 0 ? this.maxBytes : maxEntries;
        long unit = Math.clamp(budget / maxEntries, 1, Integer.MAX_VALUE);
        long maxWeight = Math.min(budget, unit * maxEntries);
        long handleWeight = Math.clamp(Math.ceilDiv(maxWeight, maxHandles), unit, Integer.MAX_VALUE);
        this.cache = Caffeine.newBuilder()
                .maximumWeight(maxWeight)
                .weigher((String k, Node n) -> (int) (n.holdsHandle ? handleWeight : Math.max(unit, n.bytes)))
                .executor(Runnable::run)
                .removalListener((String k, Node n, RemovalCause cause) -> removed(n, cause))
                .build();
    }

    /**
     * A fresh cached translation, or null. A returned {@link Translation.Found} carries one reference to
     * its entry that the caller owns and must {@link FileEntry#release()}.
     */
    public Translation lookup(RequestTarget.Normalized target) {
        Node n = cache.getIfPresent(target.path());
        if (n == null || System.nanoTime() - n.createdNanos > n.boundNanos) {
            misses.increment();
            return null;
        }
        // Evicted and released by another thread since the get: its file may be closed, so it is a miss.
        if (n.translation instanceof Translation.Found f) {
            if (n.unheld) return readUnheld(f.entry());
            if (!retain(f.entry())) {
                misses.increment();
                return null;
            }
        }
        hits.increment();
        return n.translation;
    }

    /** An unheld entry's file read now without blocking, or null (a miss) when it cannot be. */
    private Translation readUnheld(FileEntry unheld) {
        FileEntry read = unheld.readUnheld();
        if (read == null) {
            unheldFallbacks.increment();
            misses.increment();
            return null;
        }
        unheldHits.increment();
        hits.increment();
        return new Translation.Found(read);
    }

    /**
     * Stores a translation just made. The caller keeps its own reference; the cache takes one more.
     * Failures are never cached (the next request retries), nor a body larger than the whole byte budget.
     */
    public void put(RequestTarget.Normalized target, Translation t) { put(target, t, null); }

    /**
     * Stores a translation just made, with what it read watched ({@code watch}, filled before the translation ran;
     * null: not watched). The cache owns the registration from here: it is cancelled when the entry goes, or at once
     * if the translation is not cached. A change reported before this call drops the entry again at once.
     */
    public void put(RequestTarget.Normalized target, Translation t, FileWatch.Registration watch) {
        long b = t instanceof Translation.Found f && f.entry().inMemory() ? f.entry().size() : 0;
        if (b > 0 && bytes.sum() + b > maxBytes * HOLD_FRACTION) {
            // The bytes do not fit: keep the translation without them. The caller still serves the bytes it read.
            FileEntry unheld = ((Translation.Found) t).entry().unheldCopy();
            if (unheld != null) {
                t = new Translation.Found(unheld);
                b = 0;
            }
        }
        if (!t.cacheable() || b > maxBytes || (t instanceof Translation.Found f && !retain(f.entry()))) {
            if (watch != null) watch.cancel();
            return;
        }
        long now = System.nanoTime();
        Node node = new Node(target.path(), t, now,
                watch != null && watch.complete() ? watchedRevalidateNanos : revalidateNanos, b, watch);
        bytes.add(b); // before the put: the removal that takes it off can only come after
        if (node.unheld) unheldEntries.increment();
        if (node.holdsHandle) handleEntries.increment();
        Node replaced = cache.asMap().put(node.key, node);
        if (replaced != null && now - replaced.createdNanos > replaced.boundNanos) revalidatedByStat.increment();
        // Published: from now on a change runs the invalidation; one seen since the walk means it is stale already.
        if (watch != null && !watch.attach(() -> invalidate(node))) invalidate(node);
    }

    /**
     * The watch thread's side: drops {@code n} if it is still the cached node for its path (the removal listener
     * releases it). Lookups on the loops do not wait for it: they read without locks.
     */
    private void invalidate(Node n) {
        if (cache.asMap().remove(n.key, n)) revalidatedByWatch.increment();
    }

    /** Entries now (a moment's count: an insert past the bound is evicted right after it). */
    public int size() { return (int) Math.min(Integer.MAX_VALUE, cache.estimatedSize()); }

    /** Bytes of small files held in memory by the cached entries. */
    public long bytesHeld() { return bytes.sum(); }

    /** Entries cached unheld (a moment's count). */
    public long unheldEntries() { return unheldEntries.sum(); }

    /** Entries holding a large file's open descriptor (a moment's count; at most {@link #maxHandles()} after eviction). */
    public long handleEntries() { return handleEntries.sum(); }

    public int maxHandles() { return maxHandles; }

    /**
     * A quarter of the process's descriptor limit (RLIMIT_NOFILE as the JVM raised it): the rest is for connections,
     * upstreams, logs and the descriptors translations open for a moment. 4,096 when the limit is unknown.
     */
    public static int defaultMaxHandles() {
        long limit = -1;
        if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.UnixOperatingSystemMXBean os) {
            limit = os.getMaxFileDescriptorCount();
        }
        return limit <= 0 ? 4096 : (int) Math.clamp(limit / 4, 16, Integer.MAX_VALUE);
    }

    /** Runs pending maintenance (tests and tools; it may wait for the eviction lock, so never on a loop). */
    public void cleanUp() { cache.cleanUp(); }

    private void removed(Node n, RemovalCause cause) {
        bytes.add(-n.bytes);
        if (n.unheld) unheldEntries.decrement();
        if (n.holdsHandle) handleEntries.decrement();
        if (cause.wasEvicted()) evictions.increment();
        if (n.watch != null) n.watch.cancel();
        if (n.translation instanceof Translation.Found f) f.entry().release();
    }

    private static boolean retain(FileEntry e) {
        return e.handle() == null || e.handle().retain();
    }

    /** Drops everything (shutdown, or a reload that replaced the site): each entry's reference is released. */
    public void clear() {
        cache.invalidateAll();
        cache.cleanUp();
    }
}
