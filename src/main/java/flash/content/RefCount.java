package flash.content;

import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

/**
 * A reference count that can never be revived: once it reaches zero, {@link #retain()} fails, so a holder
 * that loses the race with the last release sees a closed resource instead of using a freed one. One object (an
 * int updated in place), as one is made per pooled body lent for a request.
 */
final class RefCount {
    private static final AtomicIntegerFieldUpdater<RefCount> REFS = AtomicIntegerFieldUpdater.newUpdater(RefCount.class, "refs");
    private volatile int refs = 1;

    /** Takes one more reference; false if the count already reached zero. */
    boolean retain() {
        while (true) {
            int n = refs;
            if (n <= 0) return false;
            if (REFS.compareAndSet(this, n, n + 1)) return true;
        }
    }

    /** Drops one reference; true when it was the last. */
    boolean release() { return REFS.decrementAndGet(this) == 0; }

    boolean live() { return refs > 0; }
}
