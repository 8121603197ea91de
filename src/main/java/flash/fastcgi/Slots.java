package flash.fastcgi;

import java.util.ArrayDeque;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The bound on FastCGI connections in use to one backend, and the FIFO of requests waiting for one. Each open
 * connection holds a php-fpm worker, so the requests beyond the bound wait here, in the server, where they cost
 * a queue entry, rather than in php-fpm's listen backlog, where they would pile up behind slow scripts unseen.
 * Past {@code maxWaiting}, a request is refused at once (503).
 *
 * <p>Two kinds: {@link #local} for one event loop (no lock; a freed slot is handed to the first waiter as a task
 * on the loop), and {@link #shared} for the threads of mt, vt and an mp worker (a lock; a waiting thread blocks,
 * which is what those architectures do).
 */
abstract sealed class Slots permits Slots.Local, Slots.Shared {
    enum Grant { NOW, QUEUED, FULL, TIMED_OUT }

    final int max;
    final int maxWaiting;

    Slots(int max, int maxWaiting) {
        this.max = max;
        this.maxWaiting = maxWaiting;
    }

    static Slots local(int max, int maxWaiting) { return new Local(max, maxWaiting); }

    static Slots shared(int max, int maxWaiting) { return new Shared(max, maxWaiting); }

    /**
     * Asks for a slot. Local: NOW, or QUEUED ({@code granted} runs later, on the loop, holding the slot), or FULL.
     * Shared: blocks while queued, up to {@code waitNanos}; NOW, FULL or TIMED_OUT.
     */
    abstract Grant acquire(Runnable granted, long waitNanos);

    /** A queued request no longer wants its slot (its client left). */
    abstract void cancel(Runnable granted);

    /** A slot is free again: the first waiter gets it. */
    abstract void release();

    abstract int inUse();

    abstract int waiting();

    /** One event loop's: only its thread calls. */
    static final class Local extends Slots {
        private final ArrayDeque<Runnable> queue = new ArrayDeque<>();
        private int active;

        Local(int max, int maxWaiting) {
            super(max, maxWaiting);
        }

        @Override
        Grant acquire(Runnable granted, long waitNanos) {
            if (active < max) {
                active++;
                return Grant.NOW;
            }
            if (queue.size() >= maxWaiting) return Grant.FULL;
            queue.addLast(granted);
            return Grant.QUEUED;
        }

        @Override
        void cancel(Runnable granted) { queue.remove(granted); }

        /** Hands the slot on (the waiter runs now, on this loop, after the caller's own release work) or frees it. */
        @Override
        void release() {
            Runnable next = queue.pollFirst();
            if (next == null) active--;
            else next.run();
        }

        @Override int inUse() { return active; }

        @Override int waiting() { return queue.size(); }
    }

    /** The threads of mt, vt and an mp worker: a lock, and each waiter blocks on a latch of its own. */
    static final class Shared extends Slots {
        private final ReentrantLock lock = new ReentrantLock();
        private final ArrayDeque<CountDownLatch> queue = new ArrayDeque<>();
        private int active;

        Shared(int max, int maxWaiting) { super(max, maxWaiting); }

        @Override
        Grant acquire(Runnable granted, long waitNanos) {
            CountDownLatch mine;
            lock.lock();
            try {
                if (active < max) {
                    active++;
                    return Grant.NOW;
                }
                if (queue.size() >= maxWaiting) return Grant.FULL;
                mine = new CountDownLatch(1);
                queue.addLast(mine);
            } finally {
                lock.unlock();
            }
            boolean got;
            try {
                got = mine.await(waitNanos, TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                got = false;
            }
            if (got) return Grant.NOW;
            lock.lock();
            try {
                if (queue.remove(mine)) return Grant.TIMED_OUT;
                return Grant.NOW; // handed over just as the wait ended
            } finally {
                lock.unlock();
            }
        }

        @Override void cancel(Runnable granted) { }

        @Override
        void release() {
            lock.lock();
            try {
                CountDownLatch next = queue.pollFirst();
                if (next == null) active--;
                else next.countDown(); // the slot passes to it: active stays
            } finally {
                lock.unlock();
            }
        }

        @Override
        int inUse() {
            lock.lock();
            try {
                return active;
            } finally {
                lock.unlock();
            }
        }

        @Override
        int waiting() {
            lock.lock();
            try {
                return queue.size();
            } finally {
                lock.unlock();
            }
        }
    }
}
