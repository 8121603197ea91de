package flash.cgi;

import flash.http.Head;
import flash.http.Status;
import flash.http.Tokens;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Incremental parser of the header block a CGI script writes before its body (RFC 3875 section 6), shared by the
 * CGI and FastCGI handlers (FastCGI's STDOUT stream is CGI output). Feed it the bytes as they arrive, in pieces of
 * any size: a block split at any byte parses exactly like a whole one.
 *
 * <pre>{@code
 * CgiOutputParser p = new CgiOutputParser(maxHeadBytes);
 * Result r = p.feed(buf);          // null: wants more; buf's bytes were all taken
 * ...                              // r != null: buf's position is now at the first body byte
 * p.endOfInput();                  // the script's output ended before its header block did: throws
 * }</pre>
 *
 * <p>Rules:
 * <ul>
 *   <li>Lines end in LF or CRLF; the block ends at the first empty line. A CR anywhere else, a line starting with
 *       whitespace (obs-fold), a name that is not a token or a value with a control character is malformed. So is
 *       an NPH status line ({@code HTTP/1.1 200 OK}: no colon), which Flash does not support, and an empty block.</li>
 *   <li>The block, line endings included, is bounded by {@code maxHeadBytes} and at most {@link #MAX_FIELDS}
 *       fields: past either it is malformed.</li>
 *   <li>{@code Status: 404 Not Found} sets the status (200..599; the reason phrase is optional). Without it the
 *       status is 200, or 302 when {@code Location} is an absolute URI.</li>
 *   <li>{@code Location} starting with a single {@code /}, without a Status (or with {@code Status: 200}), is a
 *       local redirect ({@link Result#localRedirect}): the server re-dispatches it internally as a GET. Any other
 *       Location (an absolute URI, a {@code //host/} reference, or a local path with a 3xx Status) goes to the
 *       client; a relative path is malformed.</li>
 *   <li>{@code Content-Length}, when given, must be digits (repeats must agree); it is taken out of the fields and
 *       reported as {@link Result#contentLength}, for the handler to frame and enforce. {@code Content-Type}
 *       stays among the fields and is also {@link Result#contentType}: a script that writes a body must have sent
 *       one ({@link Result#checkBody}).</li>
 *   <li>Status, Location and Content-Type may appear once. Hop-by-hop fields (Connection, Keep-Alive,
 *       Transfer-Encoding, TE, Trailer, Upgrade, Proxy-Connection) are dropped, since the server frames the body
 *       itself; so are Date and Server, which are the server's. Every other field, Set-Cookie included, is kept
 *       as its own field, in order.</li>
 * </ul>
 *
 * <p>Not thread-safe; one parser per response. Every failure is a {@link CgiOutputException}, after which the
 * parser stays failed.
 */
public final class CgiOutputParser {
    /** Most fields a header block may have. */
    public static final int MAX_FIELDS = 100;

    /** One field of the block, as the script wrote it (value trimmed of surrounding whitespace). */
    public record Field(String name, String value) {}

    /**
     * A parsed header block.
     *
     * @param status        the response status (200..599)
     * @param reason        its reason phrase (the script's, or the standard one)
     * @param localRedirect a local path (and query) to re-dispatch as a GET, or null
     * @param contentType   the Content-Type value, or null (the script declares no body)
     * @param contentLength the script's Content-Length, or -1
     * @param fields        the fields to send, in order: Content-Type and Location included; Status,
     *                      Content-Length, hop-by-hop fields, Date and Server excluded
     */
    public record Result(int status, String reason, String localRedirect, String contentType, long contentLength,
                         List<Field> fields) {
        public Result {
            fields = List.copyOf(fields);
        }

        /** The response head to send: the status and the fields (framing is the connection's). */
        public Head head() {
            Head h = new Head(status, reason);
            for (Field f : fields) h.add(f.name(), f.value());
            return h;
        }

        /**
         * Call when the body turns out to be non-empty: without a Content-Type that is malformed (RFC 3875 section
         * 6.3.1), and so is a local redirect with a body.
         */
        public void checkBody() throws CgiOutputException {
            if (localRedirect != null) throw new CgiOutputException("local redirect with a body");
            if (contentType == null) throw new CgiOutputException("body without a Content-Type");
        }
    }

    private final int maxHeadBytes;
    private byte[] line = new byte[128];
    private int lineLength;
    private int total;                 // bytes of the block taken so far
    private final List<Field> fields = new ArrayList<>(8);
    private String statusValue, location, contentType;
    private long contentLength = -1;
    private boolean done;
    private CgiOutputException failed;

    /** {@code maxHeadBytes} bounds the whole header block, line endings and the final empty line included. */
    public CgiOutputParser(int maxHeadBytes) {
        if (maxHeadBytes < 2) throw new IllegalArgumentException("maxHeadBytes " + maxHeadBytes);
        this.maxHeadBytes = maxHeadBytes;
    }

    /**
     * Takes bytes of the header block from {@code in} (read mode). Returns null when every byte was taken and the
     * block has not ended yet; otherwise the result, with {@code in}'s position just past the block, at the first
     * byte of the body (the remaining bytes, if any, are the body's start).
     *
     * @throws CgiOutputException when the block is malformed; the parser then stays failed
     * @throws IllegalStateException when called again after a result
     */
    public Result feed(ByteBuffer in) throws CgiOutputException {
        if (failed != null) throw failed;
        if (done) throw new IllegalStateException("header block already parsed");
        while (in.hasRemaining()) {
            byte b = in.get();
            if (++total > maxHeadBytes) throw fail("CGI header block larger than " + maxHeadBytes + " bytes");
            if (b != '\n') {
                if (lineLength == line.length) line = java.util.Arrays.copyOf(line, line.length * 2);
                line[lineLength++] = b;
                continue;
            }
            int end = lineLength > 0 && line[lineLength - 1] == '\r' ? lineLength - 1 : lineLength;
            lineLength = 0;
            if (end == 0) {
                done = true;
                return result();
            }
            field(end);
        }
        return null;
    }

    /** The output ended: if no result was returned yet, the header block is incomplete, which is malformed. */
    public void endOfInput() throws CgiOutputException {
        if (failed != null) throw failed;
        if (!done) throw fail(total == 0 ? "no output" : "output ended inside the CGI header block");
    }

    private CgiOutputException fail(String why) {
        failed = new CgiOutputException(why);
        return failed;
    }

    private void field(int end) throws CgiOutputException {
        byte[] h = line;
        if (h[0] == ' ' || h[0] == '\t') throw fail("obsolete line folding in CGI header block");
        int colon = -1;
        for (int i = 0; i < end; i++) {
            byte b = h[i];
            if (b == ':') {
                colon = i;
                break;
            }
            if (!Tokens.isTchar(b)) throw fail(b == '\r' ? "bare CR in CGI header block" : "invalid CGI header line");
        }
        if (colon <= 0) throw fail("invalid CGI header line");
        int vs = colon + 1, ve = end;
        while (vs < ve && (h[vs] == ' ' || h[vs] == '\t')) vs++;
        while (ve > vs && (h[ve - 1] == ' ' || h[ve - 1] == '\t')) ve--;
        for (int i = vs; i < ve; i++) {
            int c = h[i] & 0xff;
            if ((c < 0x20 && c != '\t') || c == 0x7f) {
                throw fail(c == '\r' ? "bare CR in CGI header block" : "control character in CGI header value");
            }
        }
        String name = new String(h, 0, colon, StandardCharsets.US_ASCII);
        String value = new String(h, vs, ve - vs, StandardCharsets.ISO_8859_1);
        if (name.equalsIgnoreCase("Status")) {
            if (statusValue != null) throw fail("repeated Status field");
            statusValue = value;
            return;
        }
        if (name.equalsIgnoreCase("Content-Length")) {
            long n = Tokens.parseDigits(value);
            if (n < 0) throw fail("invalid Content-Length from CGI: " + value);
            if (contentLength >= 0 && n != contentLength) throw fail("conflicting Content-Length fields");
            contentLength = n;
            return;
        }
        if (name.equalsIgnoreCase("Location")) {
            if (location != null) throw fail("repeated Location field");
            if (value.isEmpty()) throw fail("empty Location field");
            location = value;
        } else if (name.equalsIgnoreCase("Content-Type")) {
            if (contentType != null) throw fail("repeated Content-Type field");
            if (value.isEmpty()) throw fail("empty Content-Type field");
            contentType = value;
        } else if (dropped(name)) {
            return;
        }
        if (fields.size() >= MAX_FIELDS) throw fail("more than " + MAX_FIELDS + " CGI header fields");
        fields.add(new Field(name, value));
    }

    /** Hop-by-hop fields (the server does the framing) and the server's own Date and Server. */
    private static boolean dropped(String n) {
        return switch (n.length()) {
            case 2 -> n.equalsIgnoreCase("te");
            case 4 -> n.equalsIgnoreCase("date");
            case 6 -> n.equalsIgnoreCase("server");
            case 7 -> n.equalsIgnoreCase("trailer") || n.equalsIgnoreCase("upgrade");
            case 10 -> n.equalsIgnoreCase("connection") || n.equalsIgnoreCase("keep-alive");
            case 16 -> n.equalsIgnoreCase("proxy-connection");
            case 17 -> n.equalsIgnoreCase("transfer-encoding");
            default -> false;
        };
    }

    private Result result() throws CgiOutputException {
        if (fields.isEmpty() && statusValue == null && contentLength < 0) throw fail("empty CGI header block");
        int status = 200;
        String reason = null;
        if (statusValue != null) {
            String v = statusValue;
            if (v.length() < 3 || !digit(v.charAt(0)) || !digit(v.charAt(1)) || !digit(v.charAt(2))
                    || (v.length() > 3 && v.charAt(3) != ' ' && v.charAt(3) != '\t')) {
                throw fail("invalid Status field: " + v);
            }
            status = Integer.parseInt(v.substring(0, 3));
            if (status < 200 || status > 599) throw fail("invalid status code " + status);
            String r = v.substring(3).strip();
            if (!r.isEmpty()) reason = r;
        }
        String local = null;
        if (location != null) {
            boolean isLocal = location.charAt(0) == '/' && !location.startsWith("//");
            if (isLocal && status == 200) {
                local = location;
            } else if (statusValue == null) {
                if (!isLocal && !location.startsWith("//") && !absoluteUri(location)) throw fail("Location is neither a local path nor an absolute URI");
                status = 302;
            }
        }
        if (reason == null) reason = reason(status);
        return new Result(status, reason, local, contentType, contentLength, fields);
    }

    private static boolean digit(char c) { return c >= '0' && c <= '9'; }

    /** scheme ":" ... (RFC 3986 section 3.1). */
    private static boolean absoluteUri(String s) {
        int colon = s.indexOf(':');
        if (colon <= 0) return false;
        char c0 = s.charAt(0);
        if (!((c0 >= 'a' && c0 <= 'z') || (c0 >= 'A' && c0 <= 'Z'))) return false;
        for (int i = 1; i < colon; i++) {
            char c = s.charAt(i);
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || digit(c) || c == '+' || c == '-' || c == '.')) {
                return false;
            }
        }
        return true;
    }

    /** The standard reason phrase of a status a script gave without one. */
    static String reason(int status) {
        for (Status s : Status.values()) if (s.code() == status) return s.reason();
        return switch (status) {
            case 201 -> "Created";
            case 202 -> "Accepted";
            case 203 -> "Non-Authoritative Information";
            case 204 -> "No Content";
            case 205 -> "Reset Content";
            case 300 -> "Multiple Choices";
            case 302 -> "Found";
            case 303 -> "See Other";
            case 307 -> "Temporary Redirect";
            case 308 -> "Permanent Redirect";
            case 401 -> "Unauthorized";
            case 402 -> "Payment Required";
            case 406 -> "Not Acceptable";
            case 409 -> "Conflict";
            case 410 -> "Gone";
            case 415 -> "Unsupported Media Type";
            case 422 -> "Unprocessable Content";
            case 429 -> "Too Many Requests";
            default -> status < 300 ? "OK" : status < 400 ? "Redirection" : status < 500 ? "Client Error" : "Server Error";
        };
    }
}
