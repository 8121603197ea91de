package flash.net;

import java.io.IOException;

/**
 * Anything a driver runs: a client connection, an upstream connection, later a pipe. An event loop calls these
 * on readiness; a blocking driver calls them in turn, for the one operation its thread has asked for next.
 * All calls arrive on the owning thread, except {@link #interrupt}.
 */
public interface IoHandler {
    void onReadable();

    void onWritable();

    /** A connect started by {@link Driver#connect} has completed. */
    default void onConnected() { }

    /** A connect started by {@link Driver#connect} has failed (refused, unreachable, reset). */
    default void onConnectFailed(IOException e) { }

    /** Whether this handler's deadline has passed (the driver then calls {@link #expire} or {@link #interrupt}). */
    default boolean expired(long nanoTime) { return false; }

    /** On the owning thread: the deadline passed. Answer, close, release: whatever the handler's state calls for. */
    default void expire() { close(); }

    /**
     * On a timer thread (blocking drivers only): the deadline passed while the owner may be blocked in a read or
     * write. A timer only interrupts: wake the owner (shut down input, or close the channel) and let it release.
     */
    default void interrupt() { }

    /** Shutdown under a blocking driver, from another thread: like {@link #drain}, but only waking the owner. */
    default void requestDrain() { }

    /**
     * A client connection that may be shed (idle between requests for a while): the deadline at which its idle
     * timeout would close it, for a full thread pool to pick the connection idle longest. {@link Long#MAX_VALUE}
     * otherwise (not idle, never answered, idle only just now), and for any other handler. Read from another thread.
     */
    default long idleDeadline() { return Long.MAX_VALUE; }

    /**
     * From another thread (mt's acceptor, with a connection waiting for a thread): close this connection as if its
     * idle timeout passed now, provided it is still idle with the deadline {@link #idleDeadline} gave. Only the
     * deadline moves; the watchdog interrupts it and the owner releases. Returns whether the deadline moved (a
     * request arriving before the watchdog acts still cancels the shed: see {@link #shedPending}).
     */
    default boolean shedIfIdle(long idleDeadline) { return false; }

    /** After {@link #shedIfIdle}: whether the close is still to come (no request came first). Another thread. */
    default boolean shedPending() { return false; }

    /** Hard stop from another thread: close the channel, so the owner's next read or write fails and it releases. */
    default void abort() { }

    /** Graceful shutdown: end when idle, or after the work in hand. On the owning thread. */
    default void drain() { close(); }

    /** Ends this handler and releases what it holds. On the owning thread; idempotent. */
    void close();
}
