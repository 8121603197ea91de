package flash.http;

import java.util.ArrayList;
import java.util.List;

/**
 * A response head as data: status, reason and fields, before any wire encoding. Handlers that build responses
 * field by field (the proxy, later CGI and FastCGI) fill one in; the connection adds the framing and connection
 * fields its protocol needs and encodes it ({@link ResponseHead} for HTTP/1).
 */
public final class Head {
    private final int status;
    private final String reason;
    private final List<String> names = new ArrayList<>(12);
    private final List<String> values = new ArrayList<>(12);

    public Head(int status, String reason) {
        this.status = status;
        this.reason = reason;
    }

    public Head(Status status) { this(status.code(), status.reason()); }

    public int status() { return status; }
    public String reason() { return reason; }
    public int size() { return names.size(); }
    public String name(int i) { return names.get(i); }
    public String value(int i) { return values.get(i); }

    public Head add(String name, String value) {
        names.add(name);
        values.add(value);
        return this;
    }

    /** The first value of a field, or null. */
    public String get(String name) {
        for (int i = 0; i < names.size(); i++) if (names.get(i).equalsIgnoreCase(name)) return values.get(i);
        return null;
    }

    /** Whether a response with this status can carry a body (RFC 9110 section 6.4.1). */
    public boolean allowsBody() { return status >= 200 && status != 204 && status != 304; }

    /** Encodes an interim (1xx) response: status line and fields only, no Server or Date. */
    public byte[] encodeInterim() {
        StringBuilder b = new StringBuilder("HTTP/1.1 ").append(status).append(' ').append(reason).append("\r\n");
        for (int i = 0; i < names.size(); i++) b.append(names.get(i)).append(": ").append(values.get(i)).append("\r\n");
        return b.append("\r\n").toString().getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    /**
     * Encodes for HTTP/1: status line, Server and Date, the fields, then the framing ({@code length} >= 0:
     * Content-Length; {@code chunked}: Transfer-Encoding; neither: the body ends at close) and Connection.
     */
    public byte[] encode(boolean http10, long length, boolean chunked, boolean close) {
        return toHttp1(http10, length, chunked, close).finish();
    }

    /** The HTTP/1 encoder's builder, unfinished: a cache can pad it and patch its Date later. */
    public ResponseHead toHttp1(boolean http10, long length, boolean chunked, boolean close) {
        ResponseHead h = new ResponseHead(status, reason, http10);
        for (int i = 0; i < names.size(); i++) h.header(names.get(i), values.get(i));
        if (length >= 0) h.header("Content-Length", length);
        else if (chunked) h.header("Transfer-Encoding", "chunked");
        return h.connection(http10, close);
    }
}
