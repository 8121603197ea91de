package flash.content;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/**
 * A direct buffer lent for one response's body by an unheld entry's read ({@link UnheldRead}), given back to the pool
 * it came from when the last holder releases the loan: the file entry made for the request, and each response
 * segment that views it. A body still queued on a full socket keeps its buffer out of the pool.
 *
 * <p>One object per loan, over a pooled {@link Slab}: a holder that kept a released loan cannot revive it (its count
 * stays at zero), so it can never take a reference to a buffer lent again since.
 *
 * <p>Pools are per thread (a loop, a helper, or a worker of the blocking architectures), in power-of-two size classes
 * from 4 KiB, each keeping at most {@link #KEEP} free buffers: a loop serving small files from the page cache then
 * allocates no buffer per request. A loan taken by a helper ({@link UnheldRead#readWaiting}) is released by the loop
 * that sent the response, and goes back to the helper's pool: so the pool is locked (once per take and per release,
 * uncontended but for that hand-back). A virtual thread (the vt architecture's, one a connection) takes from one of
 * a few pools shared by all of them instead: a pool of its own would have allocated a buffer for each connection's
 * first unheld body and kept it for as long as the connection lived.
 */
public final class PooledBody extends BodyRef {
    /** Free buffers kept per size class and pool; more in flight at once are allocated and dropped after. */
    static final int KEEP = 16;
    private static final int MIN_CLASS = 12; // 4 KiB

    private static final ThreadLocal<Pool> POOLS = ThreadLocal.withInitial(Pool::new);
    /** Pools for virtual threads, chosen by thread id: a few a core, so that their locks are seldom contended. */
    private static final Pool[] SHARED = new Pool[2 * Runtime.getRuntime().availableProcessors()];
    static {
        for (int i = 0; i < SHARED.length; i++) SHARED[i] = new Pool();
    }
    /** Buffers allocated so far, pooled or not (tests). */
    static final java.util.concurrent.atomic.LongAdder allocated = new java.util.concurrent.atomic.LongAdder();

    private final Slab slab;

    /**
     * Bytes before the body in each buffer, for the response's head ({@link #headSpace}): a head made for this one
     * response (a cached head whose Date is stale) is copied there instead of into a new heap buffer, which the
     * socket write would copy once more into a temporary direct buffer (docs/performance.md section 28). A file
     * head is 250-400 bytes.
     */
    static final int HEADROOM = 512;

    private boolean headTaken; // the loan's head space was lent (one response per loan; read on the loan's threads)

    private PooledBody(Slab slab) { this.slab = slab; }

    /**
     * A buffer of at least {@code size} bytes from the pool this thread takes from, with one reference owned by the
     * caller.
     */
    static PooledBody take(int size) {
        int c = Math.max(MIN_CLASS, 32 - Integer.numberOfLeadingZeros(Math.max(1, size) + HEADROOM - 1));
        Pool pool = pool();
        Slab s = pool.poll(c);
        return new PooledBody(s != null ? s : new Slab(pool, c));
    }

    /** The body's memory (the buffer after its head room), to read into. */
    MemorySegment memory() { return slab.body; }

    /** A read-only view of the body's first {@code length} bytes, for a response; valid while a reference is held. */
    ByteBuffer view(int length) { return slab.bodyView.duplicate().limit(length); } // the slab's buffer never moves

    /**
     * {@code n} writable bytes of direct memory that live as long as this loan, for the head of the one response
     * that sends the body; null when {@code n} exceeds the head room or the space was lent already. The caller must
     * hold a reference until the head is written: the response's body segment holds one until it is sent.
     */
    ByteBuffer headSpace(int n) {
        if (n > HEADROOM || headTaken) return null;
        headTaken = true;
        return slab.buffer.slice(HEADROOM - n, n);
    }

    /** Drops one reference; the last one gives the buffer back to its pool. */
    @Override
    public void release() {
        if (drop()) slab.home.offer(slab);
    }

    private static Pool pool() {
        Thread t = Thread.currentThread();
        return t.isVirtual() ? SHARED[(int) (t.threadId() % SHARED.length)] : POOLS.get();
    }

    /** How many pools virtual threads share (tests). */
    static int sharedPools() { return SHARED.length; }

    /** Free buffers in the pool this thread takes from (tests). */
    static int pooledOnThisThread() { return pool().size(); }

    /** A pooled direct buffer of 2^sizeClass bytes and the pool it returns to. */
    private static final class Slab {
        final Pool home;
        final int sizeClass;
        final ByteBuffer buffer;
        final ByteBuffer bodyView;  // read-only, from HEADROOM to the end
        final MemorySegment body;   // the same memory, for preadv2

        Slab(Pool home, int sizeClass) {
            this.home = home;
            this.sizeClass = sizeClass;
            this.buffer = ByteBuffer.allocateDirect(1 << sizeClass);
            allocated.increment();
            this.bodyView = buffer.slice(HEADROOM, buffer.capacity() - HEADROOM).asReadOnlyBuffer();
            this.body = MemorySegment.ofBuffer(buffer).asSlice(HEADROOM);
        }
    }

    private static final class Pool {
        @SuppressWarnings("unchecked")
        private final ArrayDeque<Slab>[] free = new ArrayDeque[32];

        synchronized Slab poll(int c) {
            ArrayDeque<Slab> q = free[c];
            return q == null ? null : q.pollFirst();
        }

        synchronized void offer(Slab s) {
            ArrayDeque<Slab> q = free[s.sizeClass];
            if (q == null) q = free[s.sizeClass] = new ArrayDeque<>(KEEP);
            if (q.size() < KEEP) q.addFirst(s); // most recently used first: its memory is warm in the CPU cache
        }

        synchronized int size() {
            int n = 0;
            for (ArrayDeque<Slab> q : free) if (q != null) n += q.size();
            return n;
        }
    }
}
