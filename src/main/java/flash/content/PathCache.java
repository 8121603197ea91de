package flash.content;

import flash.http.RequestTarget;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The paper's pathname-translation cache: normalised URL path to its translation (a file entry with its
 * metadata, validators and, for small files, its bytes; or a negative/redirect result). Looked up on the
 * event loop without blocking; filled by whoever ran the translation.
 *
 * <p>Freshness: an entry older than {@code revalidateAfter} is not served; the request goes back through a
 * full translation (stat, realpath, open), so a changed, replaced, symlink-swapped or deleted file is seen
 * within that bound. Size: at most {@code maxEntries} entries and {@code maxBytes} of file bytes held in
 * memory; past either, entries not used recently go.
 *
 * <p>Eviction is CLOCK (second chance), O(1) amortised: entries sit on a ring in insertion order; a lookup only
 * sets its entry's reference bit (a write only when the bit was clear), and an insert past a bound moves the hand,
 * clearing set bits and evicting the first entry whose bit was already clear. Every step of the hand either evicts or
 * clears a bit that a hit set, so the work per insert is bounded by the hits and inserts that preceded it. Lookups
 * never lock; inserts and evictions take one lock, held for a map update and a few pointer moves, never for a sort
 * or a scan. (It replaces a periodic sort of the whole map by last use, whose comparator read times other threads
 * kept writing: TimSort threw, and the request was answered 500. Issue #11.)
 */
public final class PathCache {
    private static final class Node {
        final String key;
        final Translation translation;
        final long createdNanos;
        final long bytes;
        /** Set by a hit, cleared by the passing hand: the entry's second chance. */
        volatile boolean referenced;
        // The ring, guarded by the cache's lock; a node is on it exactly while the map holds it.
        Node prev, next;

        Node(String key, Translation t, long now) {
            this.key = key;
            this.translation = t;
            this.createdNanos = now;
            this.bytes = t instanceof Translation.Found f && f.entry().inMemory() ? f.entry().size() : 0;
        }
    }

    private final ConcurrentHashMap<String, Node> map = new ConcurrentHashMap<>();
    private final int maxEntries;
    private final long maxBytes;
    private final long revalidateNanos;
    private final Object lock = new Object();
    /** The clock hand: the next node it looks at; the node before it is the most recently inserted. Null when empty. */
    private Node hand;
    private int entries;
    private volatile long bytes;
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
        Node n = map.get(target.path());
        if (n == null || System.nanoTime() - n.createdNanos > revalidateNanos) {
            misses.increment();
            return null;
        }
        if (n.translation instanceof Translation.Found f && !retain(f.entry())) {
            misses.increment();
            return null;
        }
        if (!n.referenced) n.referenced = true; // written once per pass of the hand, not on every hit
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
        Node node = new Node(target.path(), t, System.nanoTime());
        Node replaced;
        Node evicted = null; // the common case evicts at most one: released without allocating a list
        java.util.ArrayList<Node> more = null;
        synchronized (lock) {
            replaced = map.put(node.key, node);
            if (replaced != null) unlink(replaced);
            link(node);
            while ((entries > maxEntries || bytes > maxBytes) && hand != null) {
                Node victim = advance();
                map.remove(victim.key, victim);
                unlink(victim);
                evictions.increment();
                if (evicted == null) evicted = victim;
                else (more == null ? more = new java.util.ArrayList<>() : more).add(victim);
            }
        }
        // Closing a descriptor is a system call: done after the lock, by the thread that removed the node.
        if (replaced != null) release(replaced);
        if (evicted != null) release(evicted);
        if (more != null) for (Node n : more) release(n);
    }

    public int size() { return map.size(); }
    public long bytesHeld() { return bytes; }

    private static boolean retain(FileEntry e) {
        return e.handle() == null || e.handle().retain();
    }

    private static void release(Node n) {
        if (n.translation instanceof Translation.Found f) f.entry().release();
    }

    /** Moves the hand to the next victim: past referenced nodes (clearing them), to the first one not referenced. */
    private Node advance() {
        // Bounded: after one full turn every bit is clear.
        for (int steps = 0; steps <= entries; steps++) {
            Node n = hand;
            if (!n.referenced) return n;
            n.referenced = false;
            hand = n.next;
        }
        return hand;
    }

    /** Inserts just behind the hand: the newest node, the last the hand reaches. Holds the lock. */
    private void link(Node n) {
        if (hand == null) {
            n.prev = n.next = n;
            hand = n;
        } else {
            n.next = hand;
            n.prev = hand.prev;
            hand.prev.next = n;
            hand.prev = n;
        }
        entries++;
        bytes += n.bytes;
    }

    /** Takes a node off the ring. Holds the lock. */
    private void unlink(Node n) {
        if (n.next == n) {
            hand = null;
        } else {
            n.prev.next = n.next;
            n.next.prev = n.prev;
            if (hand == n) hand = n.next;
        }
        n.prev = n.next = null;
        entries--;
        bytes -= n.bytes;
    }

    /** Drops everything (shutdown). */
    public void clear() {
        java.util.List<Node> all = new java.util.ArrayList<>();
        synchronized (lock) {
            while (hand != null) {
                Node n = hand;
                map.remove(n.key, n);
                unlink(n);
                all.add(n);
            }
        }
        for (Node n : all) release(n);
    }
}
