package flash.http;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Incremental HTTP/1.1 request parser (RFC 9112) over a ByteBuffer in read mode.
 *
 * <p>It never throws for bad bytes: it returns the {@link BadRequest} to send. It consumes a request's head
 * only once the whole head has arrived (so a request split at any byte boundary parses exactly like a whole
 * one) and remembers how far it scanned, so a slowly arriving head is not rescanned from the start. A
 * request's body (a static server never uses one) is consumed and discarded by the following calls, through a
 * {@link BodyDecoder}, before the next request's head is looked at, so a body can never be parsed as a request.
 */
public final class RequestParser {
    private enum State { HEAD, BODY, FAILED }

    private final HttpLimits limits;
    private State state = State.HEAD;
    private int scanned;            // bytes of the current head already scanned, from buffer position
    private int requestLineEnd = -1; // offset of the request line's CR, once seen
    private BodyDecoder body;       // BODY: the body being discarded

    public RequestParser(HttpLimits limits) { this.limits = limits; }

    /** True between requests: nothing of a next request has been seen and no body remains to discard. */
    public boolean idle() { return state == State.HEAD && scanned == 0; }

    /** True while discarding the body of a request already returned (its failures answer no request). */
    public boolean discardingBody() { return state != State.HEAD && state != State.FAILED; }

    /**
     * The body of the request last returned, while it is still being read: a handler that wants it (the proxy)
     * decodes it from the same buffer with this decoder; whatever it leaves, the next {@link #parse} discards.
     * Null when the request had no body or it is over.
     */
    public BodyDecoder body() { return state == State.BODY ? body : null; }

    public ParseResult parse(ByteBuffer buf) {
        while (true) {
            switch (state) {
                case FAILED -> { return BadRequest.of(Status.BAD_REQUEST, "connection already failed"); }
                case HEAD -> { return parseHead(buf); }
                case BODY -> {
                    ParseResult r = discardBody(buf);
                    if (r != null) return r;
                }
            }
        }
    }

    // ---------------------------------------------------------------- head

    private ParseResult parseHead(ByteBuffer buf) {
        int start = buf.position();
        // RFC 9112 section 2.2: ignore empty lines before the request line.
        if (scanned == 0) {
            while (buf.remaining() >= 1) {
                byte b = buf.get(buf.position());
                if (b == '\r' && buf.remaining() >= 2 && buf.get(buf.position() + 1) == '\n') {
                    buf.position(buf.position() + 2);
                } else if (b == '\r' && buf.remaining() == 1) {
                    return ParseResult.NEED_MORE;
                } else {
                    break;
                }
            }
            start = buf.position();
        }
        int limit = buf.limit();
        int i = start + scanned;
        int headEnd = -1;
        for (; i < limit; i++) {
            byte b = buf.get(i);
            if (b == '\n') {
                if (i == start || buf.get(i - 1) != '\r') return fail(Status.BAD_REQUEST, "bare LF in request head");
                if (requestLineEnd < 0) {
                    requestLineEnd = i - 1 - start;
                } else if (i - start >= 3 && buf.get(i - 2) == '\n' && buf.get(i - 3) == '\r') {
                    headEnd = i + 1;
                    break;
                }
            } else if (requestLineEnd < 0 && i - start >= limits.maxRequestLine()) {
                return fail(Status.URI_TOO_LONG, "request line longer than " + limits.maxRequestLine() + " bytes");
            } else if (requestLineEnd >= 0 && i - start - requestLineEnd - 2 >= limits.maxHeaderBytes()) {
                return fail(Status.HEADER_FIELDS_TOO_LARGE, "header section larger than " + limits.maxHeaderBytes() + " bytes");
            }
        }
        if (headEnd < 0) {
            scanned = i - start;
            return ParseResult.NEED_MORE;
        }
        int len = headEnd - start;
        byte[] scratch = FieldLines.takeHead(buf, start, headEnd);
        scanned = 0;
        int lineEnd = requestLineEnd;
        requestLineEnd = -1;
        ParseResult r = HeadParser.parse(scratch, len, lineEnd, limits);
        if (r instanceof Request req) {
            if (req.chunked()) {
                // The trailer section, as a whole, is held to the header section's limit (431 past it).
                body = BodyDecoder.chunked(limits.maxBody(), limits.maxHeaderBytes());
                state = State.BODY;
            } else if (req.contentLength() > 0) {
                body = BodyDecoder.fixed(req.contentLength());
                state = State.BODY;
            }
        } else if (r instanceof BadRequest) {
            state = State.FAILED;
        }
        return r;
    }

    private BadRequest fail(Status status, String reason) {
        state = State.FAILED;
        return BadRequest.of(status, reason);
    }

    // ---------------------------------------------------------------- body (discarded)

    /** Returns null when the body is done (state back to HEAD), else NEED_MORE or the framing failure. */
    private ParseResult discardBody(ByteBuffer buf) {
        while (true) {
            long n = body.available(buf);
            if (n > 0) {
                body.consume(buf, n);
            } else if (n == 0) {
                return ParseResult.NEED_MORE;
            } else if (n == BodyDecoder.END) {
                body = null;
                state = State.HEAD;
                return null;
            } else {
                state = State.FAILED;
                return body.failure();
            }
        }
    }

    /** Parses one complete head held in a byte array: request line, fields, then framing rules. */
    static final class HeadParser {
        private HeadParser() {}

        static ParseResult parse(byte[] h, int len, int lineEnd, HttpLimits limits) {
            // ---- request line: method SP request-target SP HTTP-version
            int sp1 = indexOf(h, 0, lineEnd, (byte) ' ');
            if (sp1 <= 0) return BadRequest.of(Status.BAD_REQUEST, "malformed request line");
            for (int i = 0; i < sp1; i++) {
                if (!Tokens.isTchar(h[i])) return BadRequest.of(Status.BAD_REQUEST, "invalid method");
            }
            int sp2 = indexOf(h, sp1 + 1, lineEnd, (byte) ' ');
            if (sp2 < 0 || sp2 == sp1 + 1) return BadRequest.of(Status.BAD_REQUEST, "malformed request line");
            for (int i = sp1 + 1; i < sp2; i++) {
                byte b = h[i];
                if (b <= 0x20 || b >= 0x7f) return BadRequest.of(Status.BAD_REQUEST, "invalid character in request target");
            }
            int vlen = lineEnd - sp2 - 1;
            if (vlen != 8 || h[sp2 + 1] != 'H' || h[sp2 + 2] != 'T' || h[sp2 + 3] != 'T' || h[sp2 + 4] != 'P'
                    || h[sp2 + 5] != '/' || !digit(h[sp2 + 6]) || h[sp2 + 7] != '.' || !digit(h[sp2 + 8])) {
                return BadRequest.of(Status.BAD_REQUEST, "malformed HTTP version");
            }
            int major = h[sp2 + 6] - '0';
            int minor = h[sp2 + 8] - '0';
            if (major != 1 || minor > 1) {
                return BadRequest.of(Status.HTTP_VERSION_NOT_SUPPORTED, "HTTP/" + major + "." + minor + " is not supported");
            }
            String methodToken = KnownTokens.method(h, 0, sp1);
            String target = new String(h, sp1 + 1, sp2 - sp1 - 1, StandardCharsets.US_ASCII);
            Method method = Method.of(methodToken);

            // ---- header fields
            Headers headers = new Headers();
            String bad = FieldLines.parse(h, lineEnd + 2, len - 2, headers, limits.maxHeaderCount(), "request head",
                    RecentFieldValues.forThisThread());
            if (bad == FieldLines.TOO_MANY) {
                return BadRequest.of(Status.HEADER_FIELDS_TOO_LARGE, "more than " + limits.maxHeaderCount() + " header fields");
            }
            if (bad != null) return BadRequest.of(Status.BAD_REQUEST, bad);
            return Framing.apply(method, methodToken, target, minor, headers, limits);
        }

        private static boolean digit(byte b) { return b >= '0' && b <= '9'; }

        private static int indexOf(byte[] h, int from, int to, byte b) {
            for (int i = from; i < to; i++) if (h[i] == b) return i;
            return -1;
        }
    }

    /** Message framing and connection rules (RFC 9112 sections 6, 9.3), the smuggling-sensitive part. */
    static final class Framing {
        private Framing() {}

        static ParseResult apply(Method method, String methodToken, String target, int minor, Headers headers, HttpLimits limits) {
            // ---- target form
            String rawPath, query = null;
            String authority = null;
            if (target.charAt(0) == '/') {
                rawPath = target;
            } else if (target.equals("*")) {
                if (method != Method.OPTIONS) return BadRequest.of(Status.BAD_REQUEST, "asterisk-form is only for OPTIONS");
                rawPath = "*";
            } else if (startsWithIgnoreCase(target, "http://") || startsWithIgnoreCase(target, "https://")) {
                int schemeEnd = target.indexOf("://") + 3;
                int slash = schemeEnd;
                while (slash < target.length() && target.charAt(slash) != '/' && target.charAt(slash) != '?') slash++;
                authority = target.substring(schemeEnd, slash);
                if (authority.isEmpty() || authority.indexOf('@') >= 0) return BadRequest.of(Status.BAD_REQUEST, "invalid authority in absolute-form target");
                rawPath = slash < target.length() ? target.substring(slash) : "/";
                if (rawPath.charAt(0) == '?') rawPath = "/" + rawPath;
            } else if (method == Method.CONNECT) {
                rawPath = target; // authority-form; refused later with 405
            } else {
                return BadRequest.of(Status.BAD_REQUEST, "request target must start with '/'");
            }
            if (rawPath.indexOf('#') >= 0) return BadRequest.of(Status.BAD_REQUEST, "fragment in request target");
            int q = rawPath.indexOf('?');
            if (q >= 0) {
                query = rawPath.substring(q + 1);
                rawPath = rawPath.substring(0, q);
            }

            // ---- Host (RFC 9112 section 3.2)
            int hosts = headers.count("Host");
            if (hosts > 1) return BadRequest.of(Status.BAD_REQUEST, "more than one Host header");
            if (hosts == 0 && minor == 1) return BadRequest.of(Status.BAD_REQUEST, "missing Host header");
            if (hosts == 1 && !validHost(headers.get("Host"))) return BadRequest.of(Status.BAD_REQUEST, "invalid Host header");
            if (authority != null && !validHost(authority)) return BadRequest.of(Status.BAD_REQUEST, "invalid authority");

            // ---- body framing
            long contentLength = 0;
            boolean chunked = false;
            int clCount = headers.count("Content-Length");
            int teCount = headers.count("Transfer-Encoding");
            if (teCount > 0 && clCount > 0) return BadRequest.of(Status.BAD_REQUEST, "both Content-Length and Transfer-Encoding");
            if (clCount > 0) {
                long seen = -1;
                for (String v : headers.all("Content-Length")) {
                    for (String part : v.split(",", -1)) {
                        long n = Tokens.parseDigits(part.trim());
                        if (n < 0) return BadRequest.of(Status.BAD_REQUEST, "invalid Content-Length");
                        if (seen >= 0 && n != seen) return BadRequest.of(Status.BAD_REQUEST, "conflicting Content-Length values");
                        seen = n;
                    }
                }
                contentLength = seen;
                if (contentLength > limits.maxBody()) {
                    return BadRequest.of(Status.CONTENT_TOO_LARGE, "request body larger than " + limits.maxBody() + " bytes");
                }
            }
            if (teCount > 0) {
                if (minor == 0) return BadRequest.of(Status.BAD_REQUEST, "Transfer-Encoding in an HTTP/1.0 request");
                String joined = String.join(",", headers.all("Transfer-Encoding"));
                String[] codings = joined.split(",", -1);
                for (int i = 0; i < codings.length; i++) {
                    String c = codings[i].trim();
                    if (c.isEmpty() || !Tokens.isToken(c)) return BadRequest.of(Status.BAD_REQUEST, "invalid Transfer-Encoding");
                    codings[i] = c.toLowerCase(Locale.ROOT);
                }
                if (!codings[codings.length - 1].equals("chunked")) {
                    return BadRequest.of(Status.BAD_REQUEST, "chunked is not the final transfer coding");
                }
                for (int i = 0; i < codings.length - 1; i++) {
                    // RFC 9112 section 7: chunked is never applied twice; a repeated TE: chunked is bad framing.
                    if (codings[i].equals("chunked")) return BadRequest.of(Status.BAD_REQUEST, "chunked applied more than once");
                }
                if (codings.length > 1) return BadRequest.of(Status.NOT_IMPLEMENTED, "unsupported transfer coding " + codings[0]);
                chunked = true;
            }

            // ---- Expect and persistence
            String expect = headers.get("Expect");
            boolean expectContinue = false;
            if (expect != null) {
                if (!expect.equalsIgnoreCase("100-continue")) return BadRequest.of(Status.EXPECTATION_FAILED, "unsupported expectation");
                expectContinue = true;
            }
            boolean close = false, keepAliveToken = false;
            for (String v : headers.all("Connection")) {
                for (String t : v.split(",")) {
                    String tok = t.trim();
                    if (tok.equalsIgnoreCase("close")) close = true;
                    else if (tok.equalsIgnoreCase("keep-alive")) keepAliveToken = true;
                }
            }
            boolean keepAlive = minor == 1 ? !close : (keepAliveToken && !close);
            // A client waiting for 100 Continue may never send the body we would have to skip: close after answering.
            if (expectContinue && (chunked || contentLength > 0)) keepAlive = false;
            return new Request(method, methodToken, target, rawPath, query, minor, headers, keepAlive, contentLength, chunked);
        }

        private static boolean validHost(String host) {
            for (int i = 0; i < host.length(); i++) {
                char c = host.charAt(i);
                boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                        || "-._~!$&'()*+,;=:[]%".indexOf(c) >= 0;
                if (!ok) return false;
            }
            return true;
        }

        private static boolean startsWithIgnoreCase(String s, String prefix) {
            return s.regionMatches(true, 0, prefix, 0, prefix.length());
        }
    }
}
