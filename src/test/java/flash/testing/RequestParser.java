package flash.testing;

import flash.testing.Backend.Header;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

/**
 * {@link Backend}'s request reader. Strict on purpose: the backend stands where a real origin would, so whatever
 * a proxy forwards must be well-formed HTTP/1.1 (RFC 9112), and anything that is not becomes a 400 the test can
 * see in {@link Backend#protocolErrors()} rather than a silently tolerated byte.
 */
final class RequestParser {
    static final int MAX_LINE = 64 * 1024;
    static final int MAX_FIELDS = 500;
    private static final String TCHAR = "!#$%&'*+-.^_`|~";

    private RequestParser() {}

    /** A malformed request: answered 400, then the connection is closed (its framing can no longer be trusted). */
    static final class BadRequest extends IOException {
        BadRequest(String message) { super(message); }
    }

    record Head(String method, String target, String version, List<Header> headers, String raw) {
        List<String> values(String name) {
            List<String> v = new ArrayList<>();
            for (Header h : headers) if (h.name().equalsIgnoreCase(name)) v.add(h.value());
            return v;
        }

        /** The comma-separated elements of every field of that name, trimmed and lower-cased. */
        List<String> tokens(String name) {
            List<String> t = new ArrayList<>();
            for (String v : values(name)) {
                for (String e : v.split(",")) if (!e.isBlank()) t.add(e.trim().toLowerCase(Locale.ROOT));
            }
            return t;
        }

        boolean http11() { return version.equals("HTTP/1.1"); }
    }

    /** The body as received: at most {@code kept} bytes of it, and the length and SHA-256 of all of it. */
    record Body(byte[] kept, long length, String sha256, boolean chunked, List<Header> trailers) {}

    /** Reads a request head; null if the connection ended cleanly before its first byte. */
    static Head readHead(InputStream in) throws IOException {
        StringBuilder raw = new StringBuilder();
        String line = readLine(in, true);
        if (line == null) return null;
        if (line.isEmpty()) { // RFC 9112 2.2: a server should ignore at least one empty line before the request
            line = readLine(in, true);
            if (line == null) return null;
        }
        raw.append(line).append("\r\n");
        String[] parts = line.split(" ", -1);
        if (parts.length != 3 || !isToken(parts[0]) || parts[1].isEmpty() || !parts[2].matches("HTTP/1\\.[01]")) {
            throw new BadRequest("bad request line: " + line);
        }
        List<Header> headers = readFields(in, raw);
        long hosts = headers.stream().filter(h -> h.name().equalsIgnoreCase("Host")).count();
        if (parts[2].equals("HTTP/1.1") && hosts != 1) { // RFC 9112 3.2: exactly one Host, or 400
            throw new BadRequest(hosts == 0 ? "HTTP/1.1 request without Host" : "more than one Host field");
        }
        return new Head(parts[0], parts[1], parts[2], List.copyOf(headers), raw.toString());
    }

    /** True if the head announces a body (so an {@code Expect: 100-continue} deserves an answer first). */
    static boolean hasBody(Head head) {
        if (!head.values("Transfer-Encoding").isEmpty()) return true;
        for (String v : head.tokens("Content-Length")) if (!v.equals("0")) return true;
        return false;
    }

    /**
     * Reads the body the head announces (RFC 9112 6.3): chunked decoding with its trailer section, or exactly
     * Content-Length bytes, or none. A request with both, an unknown coding, or disagreeing lengths is refused.
     */
    static Body readBody(InputStream in, Head head, int keepLimit) throws IOException {
        List<String> te = head.tokens("Transfer-Encoding");
        List<String> cl = head.tokens("Content-Length");
        Sink sink = new Sink(keepLimit);
        if (!te.isEmpty()) {
            if (!cl.isEmpty()) throw new BadRequest("both Transfer-Encoding and Content-Length");
            if (!te.equals(List.of("chunked"))) throw new BadRequest("unsupported Transfer-Encoding: " + te);
            List<Header> trailers = readChunked(in, sink);
            return sink.body(true, trailers);
        }
        if (!cl.isEmpty()) {
            for (String v : cl) {
                if (!v.equals(cl.getFirst())) throw new BadRequest("conflicting Content-Length values: " + cl);
            }
            if (!cl.getFirst().matches("\\d{1,18}")) throw new BadRequest("bad Content-Length: " + cl.getFirst());
            copy(in, sink, Long.parseLong(cl.getFirst()));
        }
        return sink.body(false, List.of());
    }

    private static List<Header> readChunked(InputStream in, Sink sink) throws IOException {
        while (true) {
            String line = readLine(in, false);
            int semi = line.indexOf(';');
            String hex = (semi < 0 ? line : line.substring(0, semi)).stripTrailing();
            if (!hex.matches("[0-9a-fA-F]{1,15}")) throw new BadRequest("bad chunk size line: " + line);
            long size = Long.parseLong(hex, 16);
            if (size == 0) return List.copyOf(readFields(in, new StringBuilder()));
            copy(in, sink, size);
            if (!readLine(in, false).isEmpty()) throw new BadRequest("chunk data not followed by CRLF");
        }
    }

    private static List<Header> readFields(InputStream in, StringBuilder raw) throws IOException {
        List<Header> fields = new ArrayList<>();
        while (true) {
            String line = readLine(in, false);
            if (line.isEmpty()) return fields;
            raw.append(line).append("\r\n");
            if (line.charAt(0) == ' ' || line.charAt(0) == '\t') throw new BadRequest("obsolete line folding: " + line);
            int c = line.indexOf(':');
            if (c <= 0 || !isToken(line.substring(0, c))) throw new BadRequest("bad field line: " + line);
            if (fields.size() >= MAX_FIELDS) throw new BadRequest("too many fields");
            String value = trimOws(line.substring(c + 1));
            for (int i = 0; i < value.length(); i++) {
                char v = value.charAt(i);
                if (v < 0x20 && v != '\t' || v == 0x7f) throw new BadRequest("control character in field value: " + line);
            }
            fields.add(new Header(line.substring(0, c), value));
        }
    }

    /**
     * One CRLF-terminated line without its CRLF. A bare CR or LF, or a NUL, is an error: a proxy that forwards
     * one is exactly what these tests are meant to catch. Null on EOF before any byte if {@code eofOk}.
     */
    static String readLine(InputStream in, boolean eofOk) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream(128);
        while (true) {
            int c = in.read();
            if (c < 0) {
                if (eofOk && b.size() == 0) return null;
                throw new EOFException("connection closed mid-line");
            }
            if (c == '\r') {
                if (in.read() != '\n') throw new BadRequest("CR not followed by LF");
                return b.toString(StandardCharsets.ISO_8859_1);
            }
            if (c == '\n') throw new BadRequest("bare LF");
            if (c == 0) throw new BadRequest("NUL in the head");
            if (b.size() >= MAX_LINE) throw new BadRequest("line longer than " + MAX_LINE);
            b.write(c);
        }
    }

    private static void copy(InputStream in, Sink sink, long n) throws IOException {
        byte[] buf = new byte[1 << 16];
        while (n > 0) {
            int r = in.read(buf, 0, (int) Math.min(buf.length, n));
            if (r < 0) throw new EOFException("connection closed with " + n + " body bytes missing");
            sink.write(buf, r);
            n -= r;
        }
    }

    /** Strips optional whitespace (SP and HTAB only, RFC 9110 5.6.3), not every Unicode space as strip() would. */
    private static String trimOws(String s) {
        int a = 0, z = s.length();
        while (a < z && (s.charAt(a) == ' ' || s.charAt(a) == '\t')) a++;
        while (z > a && (s.charAt(z - 1) == ' ' || s.charAt(z - 1) == '\t')) z--;
        return s.substring(a, z);
    }

    static boolean isToken(String s) {
        if (s.isEmpty()) return false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || TCHAR.indexOf(c) >= 0)) return false;
        }
        return true;
    }

    /** Digests every body byte, keeps the first {@code limit}: a multi-gigabyte upload must not fill the heap. */
    private static final class Sink {
        private final MessageDigest sha;
        private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
        private final int limit;
        private long length;

        Sink(int limit) {
            this.limit = limit;
            try {
                this.sha = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        void write(byte[] b, int n) {
            sha.update(b, 0, n);
            int keep = (int) Math.min(n, Math.max(0, limit - length));
            kept.write(b, 0, keep);
            length += n;
        }

        Body body(boolean chunked, List<Header> trailers) {
            return new Body(kept.toByteArray(), length, HexFormat.of().formatHex(sha.digest()), chunked, trailers);
        }
    }
}
