package flash.upstream;

import java.util.List;
import java.util.Collection;
import java.util.concurrent.atomic.AtomicInteger;

/** The upstreams of one proxy route: round-robin over those not marked down (passive health checks). */
public final class UpstreamGroup {
    /** How long an upstream whose connect failed is skipped (nginx's fail_timeout default). */
    public static final long DOWN_NANOS = 10_000_000_000L;

    private final List<Upstream> upstreams;
    private final AtomicInteger next = new AtomicInteger();

    public UpstreamGroup(List<Upstream> upstreams) {
        if (upstreams.isEmpty()) throw new IllegalArgumentException("an upstream group needs an upstream");
        this.upstreams = List.copyOf(upstreams);
    }

    public List<Upstream> upstreams() { return upstreams; }

    /** The next upstream in turn that is available and not in {@code tried}, or null when none is left. */
    public Upstream pick(Collection<Upstream> tried) {
        long now = System.nanoTime();
        int n = upstreams.size();
        int start = Math.floorMod(next.getAndIncrement(), n);
        for (int i = 0; i < n; i++) {
            Upstream u = upstreams.get((start + i) % n);
            if (!tried.contains(u) && u.available(now)) return u;
        }
        return null;
    }
}
