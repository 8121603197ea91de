package flash.http;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Incremental parser of an upstream's response head (RFC 9112 section 4), for a reverse proxy, over a
 * ByteBuffer in read mode. Like {@link RequestParser}, it consumes a head only once all of it has arrived (so
 * a head split at any byte parses exactly like a whole one), remembers how far it scanned, and never throws:
 * a malformed head is {@link UpstreamParse.Invalid}, and the parser stays failed, since after a bad head the
 * connection's byte stream cannot be trusted. After a head, the body is the {@link BodyDecoder}'s job
 * ({@link #framing}); then {@code parse} reads the next head (the final response after a 1xx, or the next
 * response on a persistent connection).
 *
 * <p>Fields are as strict as a request's: no obs-fold, no whitespace before the colon, no bare CR or LF, no
 * control characters in values. A proxy that passed such a head on could hand its clients a response that
 * they split differently than it did.
 */
public final class ResponseParser {

    private final int maxHeadBytes;
    private final int maxFields;
    private int scanned;                    // bytes of the current head already scanned, from buffer position
    private UpstreamParse.Invalid failed;   // sticky

    /** {@code maxHeadBytes} bounds the whole head, status line and final CRLF included. */
    public ResponseParser(int maxHeadBytes, int maxFields) {
        this.maxHeadBytes = maxHeadBytes;
        this.maxFields = maxFields;
    }

    public UpstreamParse parse(ByteBuffer in) {
        if (failed != null) return failed;
        int start = in.position();
        int limit = in.limit();
        int i = start + scanned;
        int headEnd = -1;
        for (; i < limit; i++) {
            // Refused as soon as the head outgrows the limit, without waiting for its end.
            if (i - start >= maxHeadBytes) return fail("response head larger than " + maxHeadBytes + " bytes");
            if (in.get(i) == '\n') {
                if (i == start || in.get(i - 1) != '\r') return fail("bare LF in response head");
                if (i - start >= 3 && in.get(i - 2) == '\n' && in.get(i - 3) == '\r') {
                    headEnd = i + 1;
                    break;
                }
            }
        }
        if (headEnd < 0) {
            scanned = i - start;
            return UpstreamParse.NEED_MORE;
        }
        int len = headEnd - start;
        byte[] h = FieldLines.takeHead(in, start, headEnd);
        scanned = 0;
        UpstreamParse r = parseHead(h, len);
        if (r instanceof UpstreamParse.Invalid bad) failed = bad;
        return r;
    }

    private UpstreamParse.Invalid fail(String reason) {
        failed = new UpstreamParse.Invalid(reason);
        return failed;
    }

    /** Parses one complete head (it ends with CRLF CRLF and every LF in it follows a CR). */
    private UpstreamParse parseHead(byte[] h, int len) {
        // ---- status line: HTTP-version SP 3DIGIT [ SP reason-phrase ]
        int lineEnd = 0;
        while (h[lineEnd] != '\r') lineEnd++; // the head ends in CRLF CRLF, so a CR is always found
        if (h[lineEnd + 1] != '\n') return new UpstreamParse.Invalid("bare CR in status line");
        if (lineEnd < 12 || h[0] != 'H' || h[1] != 'T' || h[2] != 'T' || h[3] != 'P' || h[4] != '/' || !digit(h[5])
                || h[6] != '.' || !digit(h[7]) || h[8] != ' ' || !digit(h[9]) || !digit(h[10]) || !digit(h[11])) {
            return new UpstreamParse.Invalid("malformed status line");
        }
        if (h[5] != '1') return new UpstreamParse.Invalid("unsupported HTTP version " + (char) h[5] + "." + (char) h[7]);
        int minor = h[7] - '0';
        int status = (h[9] - '0') * 100 + (h[10] - '0') * 10 + (h[11] - '0');
        // RFC 9110 section 15: every valid status code is in 100..599; a proxy could not relay another one.
        if (status < 100 || status > 599) return new UpstreamParse.Invalid("invalid status code " + status);
        String reason = "";
        if (lineEnd > 12) {
            // Most clients accept a status line that stops after the code, so it is tolerated; anything else
            // after the code must be SP and a reason phrase (HTAB, SP, VCHAR, obs-text).
            if (h[12] != ' ') return new UpstreamParse.Invalid("malformed status line");
            for (int i = 13; i < lineEnd; i++) {
                if (ctl(h[i])) return new UpstreamParse.Invalid("control character in reason phrase");
            }
            reason = new String(h, 13, lineEnd - 13, StandardCharsets.ISO_8859_1);
        }

        // ---- header fields, exactly as strict as a request's
        Headers headers = new Headers();
        String bad = FieldLines.parse(h, lineEnd + 2, len - 2, headers, maxFields, "response head", null);
        if (bad == FieldLines.TOO_MANY) return new UpstreamParse.Invalid("more than " + maxFields + " header fields");
        if (bad != null) return new UpstreamParse.Invalid(bad);
        return new UpstreamHead(status, reason, minor, headers, keepAlive(minor, headers));
    }

    /** RFC 9112 section 9.3: 1.1 (and any later 1.x) persists unless "close"; 1.0 only with "keep-alive". */
    private static boolean keepAlive(int minor, Headers headers) {
        boolean close = false, keepAliveToken = false;
        for (String v : headers.all("Connection")) {
            for (String t : v.split(",")) {
                String tok = t.trim();
                if (tok.equalsIgnoreCase("close")) close = true;
                else if (tok.equalsIgnoreCase("keep-alive")) keepAliveToken = true;
            }
        }
        return minor >= 1 ? !close : keepAliveToken && !close;
    }

    // ---------------------------------------------------------------- body framing

    /**
     * The response body's framing (RFC 9112 section 6.3), with no limit on the body and the request side's
     * 16 KiB for trailers. See {@link #framing(UpstreamHead, boolean, long, int)}.
     */
    public static UpstreamFraming framing(UpstreamHead h, boolean requestWasHead) {
        return framing(h, requestWasHead, Long.MAX_VALUE, HttpLimits.DEFAULTS.maxHeaderBytes());
    }

    /**
     * The response body's framing (RFC 9112 section 6.3): no body (a decoder already complete) for a HEAD
     * request, 1xx, 204 and 304, whatever their fields say; chunked when Transfer-Encoding is exactly
     * {@code chunked}; a fixed length when every Content-Length value agrees; else until the connection closes,
     * and then the connection cannot be reused, whatever {@link UpstreamHead#keepAlive()} says. Anything
     * ambiguous is {@link UpstreamParse.Invalid}: two readers must never disagree on where a response ends.
     * (A 2xx answer to CONNECT, rule 2, is not handled: the proxy does not tunnel.)
     */
    public static UpstreamFraming framing(UpstreamHead h, boolean requestWasHead, long maxBody, int maxTrailerBytes) {
        int s = h.status();
        if (requestWasHead || s < 200 || s == 204 || s == 304) return BodyDecoder.fixed(0);
        Headers headers = h.headers();
        int teCount = headers.count("Transfer-Encoding");
        int clCount = headers.count("Content-Length");
        if (teCount > 0) {
            if (clCount > 0) return invalid("both Transfer-Encoding and Content-Length");
            // RFC 9112 6.1: Transfer-Encoding in a 1.0 message means the framing is faulty.
            if (h.minorVersion() == 0) return invalid("Transfer-Encoding in an HTTP/1.0 response");
            // Any other coding (gzip, chunked) is legal but would need decoding a proxy does not do; a list
            // or a repeated field naming chunked twice is bad framing.
            if (teCount > 1 || !headers.get("Transfer-Encoding").equalsIgnoreCase("chunked")) {
                return invalid("Transfer-Encoding " + String.join(", ", headers.all("Transfer-Encoding")));
            }
            return BodyDecoder.chunked(maxBody, maxTrailerBytes);
        }
        if (clCount > 0) {
            long seen = -1;
            for (String v : headers.all("Content-Length")) {
                for (String part : v.split(",", -1)) {
                    long n = Tokens.parseDigits(part.trim());
                    if (n < 0) return invalid("invalid Content-Length " + v);
                    if (seen >= 0 && n != seen) return invalid("conflicting Content-Length values");
                    seen = n;
                }
            }
            if (seen > maxBody) return invalid("Content-Length " + seen + " larger than " + maxBody);
            return BodyDecoder.fixed(seen);
        }
        return BodyDecoder.untilClose();
    }

    private static UpstreamParse.Invalid invalid(String detail) {
        return new UpstreamParse.Invalid("invalid framing: " + detail);
    }

    private static boolean digit(byte b) { return b >= '0' && b <= '9'; }

    /** A control byte other than HTAB, or DEL (obs-text, 0x80 and up, is allowed). */
    private static boolean ctl(byte b) { return (b >= 0 && b < 0x20 && b != '\t') || b == 0x7f; }
}
