package flash.content;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A reference count that can never be revived: once it reaches zero, {@link #retain()} fails, so a holder
 * that loses the race with the last release sees a closed resource instead of using a freed one. An int updated in
 * place; a class made per request (a pooled body's loan) or read per request (a kept descriptor, a file handle)
 * extends it rather than holding one, which saves an object per loan and a cache miss per read (docs/performance.md
 * sections 28 and 40).
 */
class RefCount {
    private static final VarHandle REFS;
    static {
        try {
            REFS = MethodHandles.lookup().findVarHandle(RefCount.class, "refs", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
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
    final boolean drop() { return (int) REFS.getAndAdd(this, -1) == 1; }

    final boolean live() { return refs > 0; }
}
