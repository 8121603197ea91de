package flash.http;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;

/**
 * Drives a {@link BodyDecoder} the way a connection does (fill, flip, available / consume until it needs
 * more, compact) over an input cut into pieces, then reports the peer's close if asked. Records the data the
 * caller was handed, how the body ended and how many input bytes the decoder consumed: two feeds of the same
 * bytes must record the same, however they were cut and however many data bytes the caller takes at a time.
 */
final class BodyFeed {
    /** What a feed saw: body data (ISO-8859-1), the final result, input bytes consumed, and bodyBytes(). */
    record Outcome(String data, String result, long consumed, long bodyBytes) {}

    private BodyFeed() {}

    static Outcome whole(Supplier<BodyDecoder> d, byte[] in, boolean eof) {
        return feed(d.get(), in, new int[0], Integer.MAX_VALUE, eof);
    }

    static Outcome splitAt(Supplier<BodyDecoder> d, byte[] in, int cut, boolean eof) {
        return feed(d.get(), in, new int[] {cut}, Integer.MAX_VALUE, eof);
    }

    /** One byte at a time, and the caller takes one data byte at a time. */
    static Outcome bytewise(Supplier<BodyDecoder> d, byte[] in, boolean eof) {
        int[] cuts = new int[Math.max(0, in.length - 1)];
        for (int i = 0; i < cuts.length; i++) cuts[i] = i + 1;
        return feed(d.get(), in, cuts, 1, eof);
    }

    /**
     * Feeds in[0..cuts[0]), in[cuts[0]..cuts[1]), ... (cuts ascending); of each run of available data the
     * caller takes at most {@code take} bytes before asking again. With {@code eof}, reports the close after
     * the last piece if the body has not ended by then.
     */
    static Outcome feed(BodyDecoder d, byte[] in, int[] cuts, int take, boolean eof) {
        ByteBuffer buf = ByteBuffer.allocate(in.length + 16);
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        long consumed = 0;
        int from = 0;
        long last = 0;
        for (int k = 0; k <= cuts.length && last >= 0; k++) {
            int to = k < cuts.length ? cuts[k] : in.length;
            buf.put(in, from, to - from);
            from = to;
            buf.flip();
            // Bounded: every round consumes bytes, or needs more, or ends.
            for (int guard = 0; ; guard++) {
                if (guard > 2 * in.length + 2) throw new AssertionError("decoder made no progress");
                int before = buf.position();
                last = d.available(buf);
                consumed += buf.position() - before;
                if (last <= 0) break;
                if (last > buf.remaining()) throw new AssertionError("available " + last + " > remaining " + buf.remaining());
                int n = (int) Math.min(last, take);
                for (int i = 0; i < n; i++) data.write(buf.get(buf.position() + i));
                d.consume(buf, n);
                consumed += n;
            }
            buf.compact();
        }
        if (last == 0 && eof) last = d.eof();
        String result = last == BodyDecoder.END ? "END"
                : last == BodyDecoder.FAILED ? "FAILED " + d.failure().status().code() + " " + d.failure().reason()
                : "NEED_MORE";
        if ((last == BodyDecoder.END) != d.done()) throw new AssertionError("done() disagrees with " + result);
        return new Outcome(data.toString(StandardCharsets.ISO_8859_1), result, consumed, d.bodyBytes());
    }
}
