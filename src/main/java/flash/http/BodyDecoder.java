package flash.http;

import java.nio.ByteBuffer;

/**
 * Incremental decoder of an HTTP/1.1 message body's framing (RFC 9112 sections 6 and 7): a fixed length, the
 * chunked coding, or "until the connection closes". The same object serves request bodies (which a static
 * server discards) and an upstream's response bodies (which a proxy relays), so the caller never needs to
 * know the framing: it asks {@link #available} how many data bytes sit at the buffer's position, uses some of
 * them, and reports them with {@link #consume}.
 *
 * <p>It keeps its state between calls byte by byte, so the result never depends on how the input was split,
 * and it allocates nothing while decoding (only a failure allocates its {@link BadRequest}). It never throws
 * for bad bytes; only misuse of {@link #consume} throws. It is an {@link UpstreamFraming} only so that
 * {@link ResponseParser#framing} can return either a decoder or the reason the framing is unusable.
 */
public final class BodyDecoder implements UpstreamFraming {
    /** {@link #available} and {@link #eof}: the body is complete; bytes after it belong to the next message. */
    public static final long END = -1;
    /** {@link #available} and {@link #eof}: the framing is broken; {@link #failure()} says why. */
    public static final long FAILED = -2;

    /** A chunk size past this cannot be honoured, and shifting in another digit could overflow a long. */
    private static final long MAX_CHUNK_SIZE = 1L << 59;

    private enum State {
        FIXED, UNTIL_CLOSE,
        // chunked: size line, data, the CRLF after data
        SIZE, SIZE_BWS, EXT, SIZE_LF, DATA, DATA_CR, DATA_LF,
        // chunked: trailer section, after the last chunk
        TRAILER_START, TRAILER_NAME, TRAILER_VALUE, TRAILER_LF, TRAILER_END_LF,
        DONE, FAILED
    }

    private final boolean chunked;
    private final long length;          // fixed: the length; otherwise -1
    private final long maxBody;         // chunked: the most data bytes the chunk sizes may declare in total
    private final int maxTrailerBytes;  // chunked: the most bytes of trailer field lines (CRLFs included)
    private State state;
    private long left;                  // FIXED: data bytes left; DATA: bytes left in this chunk; SIZE: size so far
    private long declared;              // chunked: sum of the chunk sizes seen so far
    private long bodyBytes;             // data bytes consumed so far
    private int sizeDigits;
    private int trailerBytes;
    private BadRequest failure;

    private BodyDecoder(boolean chunked, long length, long maxBody, int maxTrailerBytes, State state) {
        this.chunked = chunked;
        this.length = length;
        this.maxBody = maxBody;
        this.maxTrailerBytes = maxTrailerBytes;
        this.state = state;
        this.left = chunked ? 0 : length;
    }

    /** A body of exactly {@code length} bytes (Content-Length); {@code fixed(0)} is complete from the start. */
    public static BodyDecoder fixed(long length) {
        if (length < 0) throw new IllegalArgumentException("negative length " + length);
        return new BodyDecoder(false, length, length, 0, length == 0 ? State.DONE : State.FIXED);
    }

    /**
     * A chunked body. The declared chunk sizes may total at most {@code maxBody} bytes (413 past it, checked
     * at each size line, before the data arrives); the trailer field lines at most {@code maxTrailerBytes}
     * bytes (431), so a peer cannot keep the decoder busy with an endless trailer section.
     */
    public static BodyDecoder chunked(long maxBody, int maxTrailerBytes) {
        if (maxBody < 0 || maxTrailerBytes < 0) throw new IllegalArgumentException("negative limit");
        return new BodyDecoder(true, -1, maxBody, maxTrailerBytes, State.SIZE);
    }

    /** A response body delimited by the connection closing (RFC 9112 section 6.3, rule 8). */
    public static BodyDecoder untilClose() {
        return new BodyDecoder(false, -1, Long.MAX_VALUE, 0, State.UNTIL_CLOSE);
    }

    public boolean done() { return state == State.DONE; }

    public long bodyBytes() { return bodyBytes; }

    public boolean chunked() { return chunked; }

    /** The body length when the framing states it (Content-Length), else -1. */
    public long length() { return length; }

    /** Why the framing failed, once {@link #available} or {@link #eof} returned {@link #FAILED}; else null. */
    public BadRequest failure() { return failure; }

    /**
     * Consumes the framing bytes at {@code in.position()} ({@code in} in read mode) and returns how many body
     * data bytes follow them (at most {@code in.remaining()}), without consuming those; 0 when more input is
     * needed; {@link #END} once the whole body (trailers included) is consumed; {@link #FAILED}.
     */
    public long available(ByteBuffer in) {
        while (true) {
            switch (state) {
                case DONE -> { return END; }
                case FAILED -> { return FAILED; }
                case FIXED, DATA -> { return Math.min(left, in.remaining()); }
                case UNTIL_CLOSE -> { return in.remaining(); }
                default -> {
                    if (!in.hasRemaining()) return 0;
                    // Framing is consumed byte by byte: the state after a byte never depends on what follows it.
                    if (!framingByte(in.get())) return FAILED;
                }
            }
        }
    }

    /** Reports that the caller used {@code n} of the data bytes {@link #available} announced: skips them. */
    public void consume(ByteBuffer in, long n) {
        if (n == 0) return;
        long max = switch (state) {
            case FIXED, DATA -> Math.min(left, in.remaining());
            case UNTIL_CLOSE -> in.remaining();
            default -> throw new IllegalStateException("no body data to consume in state " + state);
        };
        if (n < 0 || n > max) throw new IllegalArgumentException("consume(" + n + ") but " + max + " data bytes available");
        in.position(in.position() + (int) n);
        bodyBytes += n;
        if (state == State.UNTIL_CLOSE) return;
        left -= n;
        if (left == 0) state = state == State.FIXED ? State.DONE : State.DATA_CR;
    }

    /** The peer closed its side: complete for an until-close body, truncated for any other unfinished one. */
    public long eof() {
        switch (state) {
            case DONE, UNTIL_CLOSE -> {
                state = State.DONE;
                return END;
            }
            case FAILED -> { return FAILED; }
            default -> {
                fail(Status.BAD_REQUEST, "body truncated");
                return FAILED;
            }
        }
    }

    // ---------------------------------------------------------------- chunked framing

    /** Advances the chunked state machine over one framing byte; false when the byte breaks the framing. */
    private boolean framingByte(byte b) {
        switch (state) {
            case SIZE -> {
                int d = hex(b);
                if (d >= 0) {
                    // By value, not digit count: leading zeros are valid.
                    if (left >= MAX_CHUNK_SIZE) return fail(Status.CONTENT_TOO_LARGE, "chunk size too large");
                    sizeDigits++;
                    left = left * 16 + d;
                } else if (sizeDigits == 0) {
                    return fail(Status.BAD_REQUEST, "invalid chunk size");
                } else if (b == ';') {
                    state = State.EXT;
                } else if (b == '\r') {
                    state = State.SIZE_LF;
                } else if (b == ' ' || b == '\t') {
                    state = State.SIZE_BWS; // RFC 9112 7.1.1: chunk-ext = *( BWS ";" ... ), BWS must be parsed
                } else {
                    return fail(Status.BAD_REQUEST, "invalid chunk size");
                }
            }
            case SIZE_BWS -> {
                if (b == ';') state = State.EXT;
                else if (b != ' ' && b != '\t') return fail(Status.BAD_REQUEST, "invalid chunk size");
            }
            case EXT -> {
                // Extensions are ignored (RFC 9112 7.1.1), so their content is not checked beyond what could make
                // the end of the line ambiguous: CR ends it, a bare LF or another control byte is refused. Bytes
                // past 0x7f are refused too (b < 0x20 as a signed byte), as the request parser always did.
                if (b == '\r') state = State.SIZE_LF;
                else if (b < 0x20 && b != '\t' || b == 0x7f) return fail(Status.BAD_REQUEST, "invalid chunk extension");
            }
            case SIZE_LF -> {
                if (b != '\n') return fail(Status.BAD_REQUEST, "chunk size line not ended by CRLF");
                // Subtraction, not addition: maxBody may be Long.MAX_VALUE (a proxy relaying an unbounded body).
                if (left > maxBody - declared) return fail(Status.CONTENT_TOO_LARGE, "body larger than " + maxBody + " bytes");
                declared += left;
                sizeDigits = 0;
                state = left == 0 ? State.TRAILER_START : State.DATA;
            }
            case DATA_CR -> {
                if (b != '\r') return fail(Status.BAD_REQUEST, "chunk data not followed by CRLF");
                state = State.DATA_LF;
            }
            case DATA_LF -> {
                if (b != '\n') return fail(Status.BAD_REQUEST, "chunk data not followed by CRLF");
                state = State.SIZE;
            }
            default -> { return trailerByte(b); }
        }
        return true;
    }

    /**
     * The trailer section (RFC 9112 7.1.2): field lines exactly as in a head ({@code name ":" OWS value OWS
     * CRLF}), validated and discarded, then an empty line. A line that is not a field line is refused: a
     * lenient reader here and a strict one elsewhere would disagree on where the message ends.
     */
    private boolean trailerByte(byte b) {
        if (state == State.TRAILER_END_LF) {
            if (b != '\n') return fail(Status.BAD_REQUEST, "trailer section not ended by CRLF");
            state = State.DONE;
            return true;
        }
        if (state == State.TRAILER_START && b == '\r') {
            state = State.TRAILER_END_LF; // the empty line: not counted against the limit
            return true;
        }
        switch (state) {
            case TRAILER_START -> {
                if (b == ' ' || b == '\t') return fail(Status.BAD_REQUEST, "obsolete line folding in trailer section");
                if (!Tokens.isTchar(b)) return fail(Status.BAD_REQUEST, "invalid trailer field");
                state = State.TRAILER_NAME;
            }
            case TRAILER_NAME -> {
                if (b == ':') state = State.TRAILER_VALUE;
                else if (b == ' ' || b == '\t') return fail(Status.BAD_REQUEST, "whitespace before colon in trailer field");
                else if (!Tokens.isTchar(b)) return fail(Status.BAD_REQUEST, "invalid trailer field");
            }
            case TRAILER_VALUE -> {
                // OWS around the value needs no trimming here: the value is discarded, and SP / HTAB are allowed.
                if (b == '\r') state = State.TRAILER_LF;
                else if (ctl(b)) return fail(Status.BAD_REQUEST, "control character in trailer field");
            }
            case TRAILER_LF -> {
                if (b != '\n') return fail(Status.BAD_REQUEST, "trailer line not ended by CRLF");
                state = State.TRAILER_START;
            }
            default -> throw new IllegalStateException(state.name());
        }
        if (++trailerBytes > maxTrailerBytes) {
            return fail(Status.HEADER_FIELDS_TOO_LARGE, "trailer section larger than " + maxTrailerBytes + " bytes");
        }
        return true;
    }

    private boolean fail(Status status, String reason) {
        state = State.FAILED;
        failure = BadRequest.of(status, reason);
        return false;
    }

    /** A control byte other than HTAB (LF and CR included), or DEL. */
    private static boolean ctl(byte b) { return (b >= 0 && b < 0x20 && b != '\t') || b == 0x7f; }

    private static int hex(byte b) {
        if (b >= '0' && b <= '9') return b - '0';
        if (b >= 'a' && b <= 'f') return b - 'a' + 10;
        if (b >= 'A' && b <= 'F') return b - 'A' + 10;
        return -1;
    }

    @Override
    public String toString() {
        String framing = chunked ? "chunked" : length >= 0 ? "fixed " + length : "until close";
        return "BodyDecoder[" + framing + ", " + state + ", " + bodyBytes + " bytes]";
    }
}
