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

        Node(String key, Translation translation, long createdNanos, long boundNanos, long bytes,
             FileWatch.Registration watch) {
            this.key = key;
            this.translation = translation;
            this.createdNanos = createdNanos;
            this.boundNanos = boundNanos;
            this.bytes = bytes;
            this.watch = watch;
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

    public PathCache(int maxEntries, long maxBytes, long revalidateNanos) {
        this(maxEntries, maxBytes, revalidateNanos, revalidateNanos);
    }

    /** @param watchedRevalidateNanos the bound of an entry whose every read is watched (never below the stat bound) */
    public PathCache(int maxEntries, long maxBytes, long revalidateNanos, long watchedRevalidateNanos) {
        if (maxEntries <= 0) throw new IllegalArgumentException("maxEntries must be positive: " + maxEntries);
        this.maxBytes = Math.max(0, maxBytes);
        this.revalidateNanos = revalidateNanos;
        this.watchedRevalidateNanos = Math.max(revalidateNanos, watchedRevalidateNanos);
        // With no byte budget (--no-file-cache) no entry holds bytes: only the entry bound is left.
        long budget = this.maxBytes > 0 ? this.maxBytes : maxEntries;
        long unit = Math.clamp(budget / maxEntries, 1, Integer.MAX_VALUE);
        this.cache = Caffeine.newBuilder()
                .maximumWeight(Math.min(budget, unit * maxEntries))
                .weigher((String k, Node n) -> (int) Math.max(unit, n.bytes))
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
        if (n.translation instanceof Translation.Found f && !retain(f.entry())) {
            misses.increment();
            return null;
        }
        hits.increment();
        return n.translation;
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
        if (!t.cacheable() || b > maxBytes || (t instanceof Translation.Found f && !retain(f.entry()))) {
            if (watch != null) watch.cancel();
            return;
        }
        long now = System.nanoTime();
        Node node = new Node(target.path(), t, now,
                watch != null && watch.complete() ? watchedRevalidateNanos : revalidateNanos, b, watch);
        bytes.add(b); // before the put: the removal that takes it off can only come after
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

    /** Runs pending maintenance (tests and tools; it may wait for the eviction lock, so never on a loop). */
    public void cleanUp() { cache.cleanUp(); }

    private void removed(Node n, RemovalCause cause) {
        bytes.add(-n.bytes);
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
