package flash.upstream;

import java.net.SocketAddress;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One origin server: its address, resolved once at start so DNS never blocks a loop, and its passive health.
 * A connect failure marks it down for {@link UpstreamGroup#DOWN_NANOS}; after that, one trial request is let
 * through (another after {@link #TRIAL_NANOS} if its outcome never came), and its outcome decides whether it is
 * up again. Shared by every loop: the fields are atomic.
 */
public final class Upstream {
    private final String name;
    private final String authority;
    private final SocketAddress address;
    private volatile long downUntil;            // System.nanoTime() before which it is skipped; 0 = up
    /** When the current trial request was let through (0: none): another is let through a while later. */
    private final AtomicLong trialAt = new AtomicLong();
    /**
     * A trial whose outcome is never recorded (its client left during the connect) must not keep the upstream out
     * for good: after this long another request may try.
     */
    static final long TRIAL_NANOS = 5_000_000_000L;

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
        long t = trialAt.get();
        if (t != 0 && now - t < TRIAL_NANOS) return false;
        return trialAt.compareAndSet(t, now == 0 ? 1 : now);
    }

    /** A connect failed (refused, unreachable, timed out): skip this upstream for a while. */
    public void failed(long now, long downNanos) {
        downUntil = now + downNanos;
        if (downUntil == 0) downUntil = 1;
        trialAt.set(0);
    }

    /** A connect succeeded: the upstream is up (again). */
    public void succeeded() {
        if (downUntil != 0) {
            downUntil = 0;
            trialAt.set(0);
        }
    }

    public boolean down(long now) {
        long d = downUntil;
        return d != 0 && now - d < 0;
    }

    @Override public String toString() { return name; }
}
