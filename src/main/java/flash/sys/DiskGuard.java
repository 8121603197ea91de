package flash.sys;

/**
 * The AMPED invariant as a runtime check: an event-loop thread must never call a file operation that may
 * block on the disk. Loops mark their thread; every blocking file operation in this package calls
 * {@link #check}. Enabled with {@code -Dflash.invariants=true} (the test suite always enables it), so a
 * regression fails loudly instead of silently stalling every connection on the loop.
 *
 * <p>Calls that fail instead of waiting are not checked, and so are allowed on a loop: a path cache's unheld read
 * (flash.content.UnheldRead: openat2 with RESOLVE_CACHED, fstat of an open descriptor, preadv2 with RWF_NOWAIT, close),
 * as sendfile after a residency test already is. Everything that can wait still calls {@link #check}.
 */
public final class DiskGuard {
    private static final boolean ENABLED = Boolean.getBoolean("flash.invariants");
    private static final ThreadLocal<Boolean> FORBIDDEN = ThreadLocal.withInitial(() -> Boolean.FALSE);

    private DiskGuard() {}

    public static boolean enabled() { return ENABLED; }

    /** Called once by each AMPED loop thread. */
    public static void forbidBlockingOnThisThread() { FORBIDDEN.set(Boolean.TRUE); }

    public static void check(String operation) {
        if (ENABLED && FORBIDDEN.get()) {
            throw new BlockingOnLoopError("blocking disk operation '" + operation + "' on event-loop thread "
                    + Thread.currentThread().getName());
        }
    }

    /** An Error, not an exception: no catch (IOException | RuntimeException) may swallow it. */
    public static final class BlockingOnLoopError extends Error {
        public BlockingOnLoopError(String message) { super(message); }
    }
}
