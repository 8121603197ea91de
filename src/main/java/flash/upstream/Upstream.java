package flash.upstream;

import java.net.SocketAddress;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One origin server: its address, resolved once at start so DNS never blocks a loop, and its passive health.
 * A connect failure marks it down for {@link UpstreamGroup#DOWN_NANOS}; after that, one trial request is let
 * through, and its outcome decides whether it is up again. Shared by every loop: the fields are atomic.
 */
public final class Upstream {
    private final String name;
    private final String authority;
    private final SocketAddress address;
    private volatile long downUntil;            // System.nanoTime() before which it is skipped; 0 = up
    private final AtomicBoolean trial = new AtomicBoolean();

    /** @param authority host[:port] to send as Host when the client sent none */
    public Upstream(String name, String authority, SocketAddress address) {
        this.name = name;
        this.authority = authority;
        this.address = address;
    }

    public String name() { return name; }
    public String authority() { return authority; }
    public SocketAddress address() { return address; }

    /** Whether a request may go here now; past a down period, only the one request that wins the trial. */
    boolean available(long now) {
        long d = downUntil;
        if (d == 0) return true;
        if (now - d < 0) return false;
        return trial.compareAndSet(false, true);
    }

    /** A connect failed (refused, unreachable, timed out): skip this upstream for a while. */
    public void failed(long now, long downNanos) {
        downUntil = now + downNanos;
        if (downUntil == 0) downUntil = 1;
        trial.set(false);
    }

    /** A connect succeeded: the upstream is up (again). */
    public void succeeded() {
        if (downUntil != 0) {
            downUntil = 0;
            trial.set(false);
        }
    }

    public boolean down(long now) {
        long d = downUntil;
        return d != 0 && now - d < 0;
    }

    @Override public String toString() { return name; }
}
