package flash.upstream;

import flash.net.Driver;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * Idle keep-alive connections to upstreams, at most {@code maxIdle} per upstream. One pool per event loop under
 * amped and sped (connections stay on the loop that opened them, and no lock is taken); one shared pool for the
 * threads of mt and vt (and so one per mp worker). Most recently used first, so the rest can time out upstream.
 */
public final class UpstreamPool implements AutoCloseable {
    private final int maxIdle;
    private final boolean shared;
    private final Map<Upstream, Deque<UpstreamConnection>> idle;

    private UpstreamPool(int maxIdle, boolean shared) {
        this.maxIdle = maxIdle;
        this.shared = shared;
        this.idle = shared ? new ConcurrentHashMap<>() : new java.util.HashMap<>();
    }

    /** A pool of its own (FastCGI keeps one per backend, apart from the proxy's); {@code shared}: thread-safe. */
    public static UpstreamPool create(int maxIdle, boolean shared) { return new UpstreamPool(maxIdle, shared); }

    /** The pool of {@code driver}: its loop's own, or the one all blocking drivers share. */
    public static UpstreamPool of(Driver driver, int maxIdle) {
        return driver.local(UpstreamPool.class, () -> new UpstreamPool(maxIdle, driver.blocking()));
    }

    /** An idle connection to {@code u}, now used by {@code user} on {@code driver}; null when there is none. */
    public UpstreamConnection take(Upstream u, Driver driver, UpstreamConnection.User user) {
        Deque<UpstreamConnection> q = idle.get(u);
        if (q == null) return null;
        UpstreamConnection c;
        while ((c = q.pollFirst()) != null) {
            if (c.isClosed()) continue;
            if (shared && !c.probeIdle()) {
                c.close();
                continue;
            }
            try {
                if (c.adopt(driver, user)) return c;
            } catch (IOException e) {
                c.close();
            }
        }
        return null;
    }

    /** Keeps a connection whose exchange ended cleanly (whole response read, no leftover bytes), or closes it. */
    public void release(UpstreamConnection c) {
        if (maxIdle <= 0 || c.isClosed() || c.buffer().position() > 0) {
            c.close();
            return;
        }
        Deque<UpstreamConnection> q = idle.computeIfAbsent(c.upstream(),
                k -> shared ? new ConcurrentLinkedDeque<>() : new ArrayDeque<>());
        boolean kept;
        if (shared) {
            // Threads releasing at once must not both see room for one more: the check and the add are one step.
            // take() only removes, so it needs no lock; the close happens outside it.
            synchronized (q) {
                kept = keep(q, c);
            }
        } else {
            kept = keep(q, c);
        }
        if (!kept) c.close();
    }

    /** Parks {@code c} in {@code q} if the bound leaves room; false when the caller must close it. */
    private boolean keep(Deque<UpstreamConnection> q, UpstreamConnection c) {
        if (q.size() >= maxIdle) q.removeIf(UpstreamConnection::isClosed); // idle ones the upstream closed
        if (q.size() >= maxIdle) return false;
        c.park();
        q.addFirst(c);
        return true;
    }

    /** Shutdown: closes every idle connection (on the loop's thread, or after the threads are gone). */
    @Override
    public void close() {
        for (Deque<UpstreamConnection> q : idle.values()) {
            UpstreamConnection c;
            while ((c = q.pollFirst()) != null) c.close();
        }
    }
}
