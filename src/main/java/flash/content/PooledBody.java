package flash.content;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/**
 * A direct buffer lent for one response's body by an unheld entry's read ({@link UnheldRead}), and given back to the
 * pool it came from when the last holder releases it: the file entry made for the request, and each response
 * segment that views it. Reused, never freed while a view is in flight: a body still queued on a full socket keeps
 * its buffer out of the pool.
 *
 * <p>Pools are per thread (a loop, or a worker of the blocking architectures), in power-of-two size classes from 4
 * KiB, each keeping at most {@link #KEEP} free buffers: a loop serving small files from the page cache then
 * allocates nothing per request. A buffer is released on the thread that took it in every path of the server; the
 * pool is still locked, so a release from elsewhere (a shutdown) is safe.
 */
public final class PooledBody {
    /** Free buffers kept per size class and thread; more in flight at once are allocated and dropped after. */
    static final int KEEP = 16;
    private static final int MIN_CLASS = 12; // 4 KiB

    private static final ThreadLocal<Pool> POOLS = ThreadLocal.withInitial(Pool::new);

    private final Pool home;
    private final int sizeClass;
    private final ByteBuffer buffer;   // capacity 2^sizeClass
    private final MemorySegment memory; // the same memory, for preadv2
    private RefCount refs;             // a fresh count per loan

    private PooledBody(Pool home, int sizeClass) {
        this.home = home;
        this.sizeClass = sizeClass;
        this.buffer = ByteBuffer.allocateDirect(1 << sizeClass);
        this.memory = MemorySegment.ofBuffer(buffer);
    }

    /** A buffer of at least {@code size} bytes from this thread's pool, with one reference owned by the caller. */
    static PooledBody take(int size) {
        int c = Math.max(MIN_CLASS, 32 - Integer.numberOfLeadingZeros(Math.max(1, size) - 1));
        Pool pool = POOLS.get();
        PooledBody b = pool.poll(c);
        if (b == null) b = new PooledBody(pool, c);
        b.refs = new RefCount();
        return b;
    }

    /** The whole buffer's memory (capacity bytes), to read into. */
    MemorySegment memory() { return memory; }

    /** A read-only view of the first {@code length} bytes, for a response; valid while a reference is held. */
    ByteBuffer view(int length) { return buffer.asReadOnlyBuffer().limit(length); } // the pooled buffer itself never moves

    /** Takes one more reference; false once the buffer went back to its pool. */
    public boolean retain() { return refs.retain(); }

    /** Drops one reference; the last one returns the buffer to its pool. */
    public void release() {
        if (refs.release()) home.offer(this);
    }

    /** Free buffers in this thread's pool (tests). */
    static int pooledOnThisThread() { return POOLS.get().size(); }

    private static final class Pool {
        @SuppressWarnings("unchecked")
        private final ArrayDeque<PooledBody>[] free = new ArrayDeque[32];

        synchronized PooledBody poll(int c) {
            ArrayDeque<PooledBody> q = free[c];
            return q == null ? null : q.pollFirst();
        }

        synchronized void offer(PooledBody b) {
            ArrayDeque<PooledBody> q = free[b.sizeClass];
            if (q == null) q = free[b.sizeClass] = new ArrayDeque<>(KEEP);
            if (q.size() < KEEP) q.addFirst(b); // most recently used first: its memory is warm in the CPU cache
        }

        synchronized int size() {
            int n = 0;
            for (ArrayDeque<PooledBody> q : free) if (q != null) n += q.size();
            return n;
        }
    }
}
