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

    /** A queued request (event loops): told on its loop's thread when it got a slot, or waited too long. */
    interface Waiter {
        /** It holds a slot now. */
        void granted();

        /** It waited longer than its wait bound without getting one: it holds none. */
        void expired();

        /**
         * It holds a slot now, handed over by {@link #releaseNow} from a point where the releaser is done with its
         * own state: it may go on at once, on this call.
         */
        default void grantedNow() { granted(); }
    }

    final int max;
    final int maxWaiting;

    Slots(int max, int maxWaiting) {
        this.max = max;
        this.maxWaiting = maxWaiting;
    }

    static Slots local(int max, int maxWaiting) { return new Local(max, maxWaiting); }

    static Slots shared(int max, int maxWaiting) { return new Shared(max, maxWaiting); }

    /**
     * Asks for a slot. Local: NOW, or QUEUED (the waiter hears later, on the loop), or FULL; a waiter queued longer
     * than {@code waitNanos} is expired when a slot is next given out or asked for. Shared: blocks while queued, up
     * to {@code waitNanos}; NOW, FULL or TIMED_OUT.
     */
    abstract Grant acquire(Waiter w, long waitNanos);

    /** A queued request no longer wants its slot (its client left). */
    abstract void cancel(Waiter w);

    /** A slot is free again: the first waiter gets it. */
    abstract void release();

    /**
     * As {@link #release}, from a releaser that is done with its own state: an event loop's first waiter goes on
     * within this call ({@link Waiter#grantedNow}) instead of in a task after the loop's current batch of events,
     * so its request reaches the backend before this loop does anything else. A php-fpm worker waits for that
     * request, idle, for as long as it takes.
     */
    void releaseNow() { release(); }

    abstract int inUse();

    abstract int waiting();

    /** One event loop's: only its thread calls. */
    static final class Local extends Slots {
        private record Queued(Waiter w, long since, long waitNanos) {}

        private final ArrayDeque<Queued> queue = new ArrayDeque<>();
        private int active;

        Local(int max, int maxWaiting) {
            super(max, maxWaiting);
        }

        @Override
        Grant acquire(Waiter w, long waitNanos) {
            if (active < max) {
                active++;
                return Grant.NOW;
            }
            expireStale(System.nanoTime());
            if (queue.size() >= maxWaiting) return Grant.FULL;
            queue.addLast(new Queued(w, System.nanoTime(), waitNanos));
            return Grant.QUEUED;
        }

        @Override
        void cancel(Waiter w) { queue.removeIf(q -> q.w() == w); }

        /** Hands the slot on to the first waiter that has not waited too long, or frees it. */
        @Override
        void release() {
            expireStale(System.nanoTime());
            Queued next = queue.pollFirst();
            if (next == null) active--;
            else next.w().granted();
        }

        @Override
        void releaseNow() {
            expireStale(System.nanoTime());
            Queued next = queue.pollFirst();
            if (next == null) active--;
            else next.w().grantedNow();
        }

        /** Waiters at the head that waited past their bound: FIFO, so the first fresh one ends the scan. */
        private void expireStale(long now) {
            Queued q;
            while ((q = queue.peekFirst()) != null && now - q.since() > q.waitNanos()) {
                queue.pollFirst();
                q.w().expired();
            }
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
        Grant acquire(Waiter w, long waitNanos) {
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

        @Override void cancel(Waiter w) { }

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
