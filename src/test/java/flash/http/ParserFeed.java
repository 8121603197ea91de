package flash.http;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Drives a {@link RequestParser} the way a connection does (fill, flip, parse until NEED_MORE, compact) over
 * an input cut into pieces, and records what came out and where: each result with the stream offset at
 * which the parser had consumed up to when it produced it. Two feeds of the same bytes must record the same.
 */
final class ParserFeed {
    /** One parser output, in a comparable form, and the number of stream bytes consumed when it was produced. */
    record Event(String result, long consumedAt) {}

    /** Everything a feed produced: events in order, bytes consumed in total, and whether the parser ended idle. */
    record Outcome(List<Event> events, long consumed, boolean idle) {}

    private ParserFeed() {}

    static Outcome whole(byte[] input, HttpLimits limits) { return feed(input, limits, new int[0]); }

    static Outcome splitAt(byte[] input, HttpLimits limits, int cut) { return feed(input, limits, new int[] {cut}); }

    static Outcome bytewise(byte[] input, HttpLimits limits) {
        int[] cuts = new int[Math.max(0, input.length - 1)];
        for (int i = 0; i < cuts.length; i++) cuts[i] = i + 1;
        return feed(input, limits, cuts);
    }

    /** Feeds input[0..cuts[0]), input[cuts[0]..cuts[1]), ..., input[last..end); cuts ascending. */
    static Outcome feed(byte[] input, HttpLimits limits, int[] cuts) {
        RequestParser parser = new RequestParser(limits);
        ByteBuffer buf = ByteBuffer.allocate(input.length + 16);
        List<Event> events = new ArrayList<>();
        long consumed = 0;
        int from = 0;
        boolean failed = false;
        for (int k = 0; k <= cuts.length && !failed; k++) {
            int to = k < cuts.length ? cuts[k] : input.length;
            buf.put(input, from, to - from);
            from = to;
            buf.flip();
            // Bounded: every round either consumes bytes, yields NEED_MORE, or fails.
            for (int guard = 0; guard <= input.length + 1; guard++) {
                int before = buf.position();
                ParseResult r = parser.parse(buf);
                consumed += buf.position() - before;
                if (r == ParseResult.NEED_MORE) break;
                events.add(new Event(describe(r), consumed));
                if (r instanceof BadRequest) {
                    failed = true;
                    break;
                }
                if (guard == input.length + 1) throw new AssertionError("parser made no progress");
            }
            buf.compact();
        }
        return new Outcome(List.copyOf(events), consumed, parser.idle() && !failed);
    }

    /** A Request (whose Headers has no equals) or BadRequest as a string holding every field. */
    static String describe(ParseResult r) {
        return switch (r) {
            case BadRequest b -> "BAD " + b.status().code() + " " + b.reason();
            case Request q -> {
                StringBuilder sb = new StringBuilder("REQ ").append(q.method()).append(' ').append(q.methodToken())
                        .append(" target=").append(q.target()).append(" path=").append(q.rawPath())
                        .append(" query=").append(q.query()).append(" 1.").append(q.minorVersion())
                        .append(" keepAlive=").append(q.keepAlive()).append(" cl=").append(q.contentLength())
                        .append(" chunked=").append(q.chunked()).append(" headers=[");
                for (int i = 0; i < q.headers().size(); i++) {
                    sb.append(q.headers().name(i)).append(": ").append(q.headers().value(i)).append("; ");
                }
                yield sb.append(']').toString();
            }
            case ParseResult.NeedMore n -> "NEED_MORE";
        };
    }
}
