package flash.pipeline;

import flash.net.Driver;

import java.util.ArrayDeque;

/**
 * The response senders ({@link Outgoing}) of one event loop. A connection takes one when it starts a response and
 * gives it back when the response is done, so an idle keep-alive connection holds none: a sender with its gather
 * array and chunk-head buffer is about 200 bytes, a fifth of what an idle connection cost (docs/performance.md,
 * "Footprint"). Confined to its loop's thread, like everything that {@link Driver#local} gives an event loop.
 */
final class Senders {
    /** Enough for the responses one loop has in flight at once under load; more are made and dropped. */
    private static final int MAX = 64;
    private final ArrayDeque<Outgoing> free = new ArrayDeque<>();

    static Senders of(Driver loop) { return loop.local(Senders.class, Senders::new); }

    Outgoing take() {
        Outgoing o = free.pollFirst();
        return o != null ? o : new Outgoing();
    }

    /** Takes back a sender that has been {@link Outgoing#release released}. */
    void give(Outgoing o) {
        if (free.size() < MAX) free.addFirst(o);
    }
}
