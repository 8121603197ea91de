package flash.http;

import java.nio.charset.StandardCharsets;

/**
 * The field lines of a head (RFC 9112 section 5), parsed one way for requests and for upstream responses: a token
 * name, a colon with no whitespace before it, a value without control characters, no obs-fold, every line ended
 * by CRLF. Strictness here is what keeps a request from smuggling a second one, and an upstream from splitting
 * the head we relay.
 */
final class FieldLines {
    /** What {@link #parse} returns when the head has more fields than allowed (431 for a request). */
    static final String TOO_MANY = "too many header fields";

    /**
     * Where a complete head is copied for parsing. Per thread, not per connection or parser: an event loop parses
     * for thousands of connections, and an idle connection should hold no parsing memory.
     */
    private static final ThreadLocal<byte[][]> SCRATCH = ThreadLocal.withInitial(() -> new byte[][] {new byte[1024]});

    private FieldLines() {}

    /** Copies the complete head {@code in[start, end)} into this thread's scratch array and consumes it from {@code in}. */
    static byte[] takeHead(java.nio.ByteBuffer in, int start, int end) {
        int len = end - start;
        byte[][] holder = SCRATCH.get();
        if (holder[0].length < len) holder[0] = new byte[Math.max(len, holder[0].length * 2)];
        byte[] h = holder[0];
        in.get(start, h, 0, len);
        in.position(end);
        return h;
    }

    /**
     * Parses the lines in {@code h[from, end)} ({@code end} excludes the head's final CRLF) into {@code headers}.
     * Returns null, or why the head is malformed ({@link #TOO_MANY} past {@code maxFields}); {@code head} names it
     * in the reason ("request head", "response head"). Values come from {@code recent} where it has them (null: none
     * does; a response's Date, ETag and lengths change with every response and would only push out requests' values).
     */
    static String parse(byte[] h, int from, int end, Headers headers, int maxFields, String head,
                        RecentFieldValues recent) {
        int p = from;
        while (p < end) {
            int eol = p;
            while (eol < end && h[eol] != '\r') eol++;
            if (eol < end && h[eol + 1] != '\n') return "bare CR in " + head;
            if (h[p] == ' ' || h[p] == '\t') return "obsolete line folding";
            int colon = -1;
            for (int i = p; i < eol; i++) {
                byte b = h[i];
                if (b == ':') {
                    colon = i;
                    break;
                }
                if (!Tokens.isTchar(b)) {
                    return b == ' ' || b == '\t' ? "whitespace before colon in header field" : "invalid header field name";
                }
            }
            if (colon <= p) return "invalid header field";
            int vs = colon + 1, ve = eol;
            while (vs < ve && (h[vs] == ' ' || h[vs] == '\t')) vs++;
            while (ve > vs && (h[ve - 1] == ' ' || h[ve - 1] == '\t')) ve--;
            for (int i = vs; i < ve; i++) {
                int b = h[i] & 0xff;
                if ((b < 0x20 && b != '\t') || b == 0x7f) return "control character in header value";
            }
            if (headers.size() >= maxFields) return TOO_MANY;
            String name = KnownTokens.fieldName(h, p, colon - p);
            headers.add(name, recent != null && !RecentFieldValues.neverKept(name)
                    ? recent.value(h, vs, ve - vs)
                    : new String(h, vs, ve - vs, StandardCharsets.ISO_8859_1));
            p = eol + 2;
        }
        return null;
    }
}
