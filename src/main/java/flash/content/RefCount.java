package flash.content;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A reference count that can never be revived: once it reaches zero, {@link #retain()} fails, so a holder
 * that loses the race with the last release sees a closed resource instead of using a freed one.
 */
final class RefCount {
    private final AtomicInteger refs = new AtomicInteger(1);

    /** Takes one more reference; false if the count already reached zero. */
    boolean retain() {
        while (true) {
            int n = refs.get();
            if (n <= 0) return false;
            if (refs.compareAndSet(n, n + 1)) return true;
        }
    }

    /** Drops one reference; true when it was the last. */
    boolean release() { return refs.decrementAndGet() == 0; }

    boolean live() { return refs.get() > 0; }
}
