package flash.content;

import flash.http.RequestTarget;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The paper's pathname-translation cache: normalised URL path to its translation (a file entry with its
 * metadata, validators and, for small files, its bytes; or a negative/redirect result). Looked up on the
 * event loop without blocking; filled by whoever ran the translation.
 *
 * <p>Freshness: an entry older than {@code revalidateAfter} is not served; the request goes back through a
 * full translation (stat, realpath, open), so a changed, replaced, symlink-swapped or deleted file is seen
 * within that bound. Size: at most {@code maxEntries} entries and {@code maxBytes} of file bytes held in
 * memory; past either, the least recently used entries go.
 */
public final class PathCache {
    private static final class Node {
        final Translation translation;
        final long createdNanos;
        volatile long lastUsed;

        Node(Translation t, long now) {
            this.translation = t;
            this.createdNanos = now;
            this.lastUsed = now;
        }

        long bytes() {
            return translation instanceof Translation.Found f && f.entry().inMemory() ? f.entry().size() : 0;
        }
    }

    private final Map<String, Node> map = new ConcurrentHashMap<>();
    private final int maxEntries;
    private final long maxBytes;
    private final long revalidateNanos;
    private final AtomicLong bytes = new AtomicLong();
    public final LongAdder hits = new LongAdder();
    public final LongAdder misses = new LongAdder();
    public final LongAdder evictions = new LongAdder();

    public PathCache(int maxEntries, long maxBytes, long revalidateNanos) {
        this.maxEntries = maxEntries;
        this.maxBytes = maxBytes;
        this.revalidateNanos = revalidateNanos;
    }

    /**
     * A fresh cached translation, or null. A returned {@link Translation.Found} carries one reference to
     * its entry that the caller owns and must {@link FileEntry#release()}.
     */
    public Translation lookup(RequestTarget.Normalized target) {
        long now = System.nanoTime();
        Node n = map.get(target.path());
        if (n == null || now - n.createdNanos > revalidateNanos) {
            misses.increment();
            return null;
        }
        if (n.translation instanceof Translation.Found f && !retain(f.entry())) {
            misses.increment();
            return null;
        }
        n.lastUsed = now;
        hits.increment();
        return n.translation;
    }

    /**
     * Stores a translation just made. The caller keeps its own reference; the cache takes one more.
     * Failures are never cached (the next request retries).
     */
    public void put(RequestTarget.Normalized target, Translation t) {
        if (!t.cacheable()) return;
        if (t instanceof Translation.Found f && !retain(f.entry())) return;
        Node node = new Node(t, System.nanoTime());
        bytes.addAndGet(node.bytes());
        Node old = map.put(target.path(), node);
        if (old != null) drop(old);
        if (map.size() > maxEntries || bytes.get() > maxBytes) evict();
    }

    public int size() { return map.size(); }
    public long bytesHeld() { return bytes.get(); }

    private static boolean retain(FileEntry e) {
        return e.handle() == null || e.handle().retain();
    }

    private void drop(Node n) {
        bytes.addAndGet(-n.bytes());
        if (n.translation instanceof Translation.Found f) f.entry().release();
    }

    /** Approximate LRU: drop the least recently used eighth (at least one), amortising the scan. */
    private synchronized void evict() {
        if (map.size() <= maxEntries && bytes.get() <= maxBytes) return;
        List<Map.Entry<String, Node>> all = new ArrayList<>(map.entrySet());
        all.sort((a, b) -> Long.compare(a.getValue().lastUsed, b.getValue().lastUsed));
        int target = Math.max(1, all.size() / 8);
        int removed = 0;
        for (Map.Entry<String, Node> e : all) {
            if (removed >= target && map.size() <= maxEntries && bytes.get() <= maxBytes) break;
            if (map.remove(e.getKey(), e.getValue())) {
                drop(e.getValue());
                evictions.increment();
                removed++;
            }
        }
    }

    /** Drops everything (shutdown). */
    public void clear() {
        for (String k : new ArrayList<>(map.keySet())) {
            Node n = map.remove(k);
            if (n != null) drop(n);
        }
    }
}
