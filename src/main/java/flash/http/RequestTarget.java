package flash.http;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns a raw request path into a safe, normalised path: percent-decoded exactly once, strict UTF-8, then
 * dot-segments removed. Anything that could smuggle a separator or escape the root is refused here, before
 * the file system is ever consulted: encoded slash ({@code %2f}), backslash (raw or encoded), NUL and other
 * control characters, malformed escapes, overlong or invalid UTF-8, and {@code ..} that climbs above "/".
 */
public final class RequestTarget {
    private RequestTarget() {}

    /**
     * A normalised path: always starts with "/", no "." or ".." or empty segments; {@code trailingSlash} kept. The
     * segments are derived from the path when first asked for: a cached file's request never needs them, and
     * splitting every path was two fifths of what a cached response allocated (docs/performance.md section 26).
     */
    public static final class Normalized {
        private final String path;
        private final boolean trailingSlash;
        private List<String> segments; // made on first use; a race makes two equal immutable lists

        /** @param path a normalised path (as {@link #normalize} returns it), ending in "/" exactly when {@code trailingSlash} */
        public Normalized(String path, boolean trailingSlash) {
            this.path = path;
            this.trailingSlash = trailingSlash;
        }

        public String path() { return path; }

        public boolean trailingSlash() { return trailingSlash; }

        /** The path's segments, in order: none for "/". */
        public List<String> segments() {
            List<String> s = segments;
            if (s == null) {
                List<String> out = new ArrayList<>();
                for (int start = 1; start < path.length(); ) {
                    int slash = path.indexOf('/', start);
                    if (slash < 0) slash = path.length();
                    if (slash > start) out.add(path.substring(start, slash));
                    start = slash + 1;
                }
                segments = s = List.copyOf(out);
            }
            return s;
        }

        /** Whether a segment starts with '.': in a normalised path, exactly where "/." occurs. */
        public boolean hasDotSegment() { return path.contains("/."); }

        @Override
        public boolean equals(Object o) {
            return o instanceof Normalized n && n.trailingSlash == trailingSlash && n.path.equals(path);
        }

        @Override
        public int hashCode() { return path.hashCode() * 31 + (trailingSlash ? 1 : 0); }

        @Override
        public String toString() { return "Normalized[path=" + path + ", trailingSlash=" + trailingSlash + "]"; }
    }

    /** Returns a {@link Normalized} path or a {@link BadRequest}. */
    public static Object normalize(String rawPath) {
        if (rawPath.isEmpty() || rawPath.charAt(0) != '/') return BadRequest.of(Status.BAD_REQUEST, "path must start with '/'");
        Object decoded = plain(rawPath) ? rawPath : decode(rawPath);
        if (!(decoded instanceof String text)) return decoded;
        return segments(text);
    }

    /**
     * Whether the path decodes to itself: printable ASCII without '%' or '\\'. Nearly every request's path is, and
     * then it needs no byte array and no UTF-8 decoder.
     */
    private static boolean plain(String rawPath) {
        for (int i = 0; i < rawPath.length(); i++) {
            char c = rawPath.charAt(i);
            if (c <= 0x20 || c >= 0x7f || c == '%' || c == '\\') return false;
        }
        return true;
    }

    /** Percent-decodes and checks the path: the decoded text, or a {@link BadRequest}. */
    private static Object decode(String rawPath) {
        byte[] decoded = new byte[rawPath.length()];
        int n = 0;
        for (int i = 0; i < rawPath.length(); i++) {
            char c = rawPath.charAt(i);
            if (c == '%') {
                if (i + 2 >= rawPath.length()) return BadRequest.of(Status.BAD_REQUEST, "truncated percent-escape");
                int hi = Character.digit(rawPath.charAt(i + 1), 16), lo = Character.digit(rawPath.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) return BadRequest.of(Status.BAD_REQUEST, "invalid percent-escape");
                int b = hi * 16 + lo;
                if (b == '/') return BadRequest.of(Status.BAD_REQUEST, "encoded slash in path");
                decoded[n++] = (byte) b;
                i += 2;
            } else if (c >= 0x80) {
                return BadRequest.of(Status.BAD_REQUEST, "non-ASCII byte in path");
            } else {
                decoded[n++] = (byte) c;
            }
        }
        for (int i = 0; i < n; i++) {
            int b = decoded[i] & 0xff;
            if (b == '\\') return BadRequest.of(Status.BAD_REQUEST, "backslash in path");
            if (b < 0x20 || b == 0x7f) return BadRequest.of(Status.BAD_REQUEST, "control character in path");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(decoded, 0, n)).toString();
        } catch (CharacterCodingException e) {
            return BadRequest.of(Status.BAD_REQUEST, "path is not valid UTF-8");
        }
        return text;
    }

    private static Object segments(String text) {
        if (clean(text)) return new Normalized(text, text.endsWith("/"));
        List<String> segments = new ArrayList<>();
        int start = 1;
        boolean trailingSlash = text.endsWith("/");
        while (start <= text.length()) {
            int slash = text.indexOf('/', start);
            if (slash < 0) slash = text.length();
            String seg = text.substring(start, slash);
            start = slash + 1;
            if (seg.isEmpty() || seg.equals(".")) continue;
            if (seg.equals("..")) {
                if (segments.isEmpty()) return BadRequest.of(Status.BAD_REQUEST, "path climbs above the root");
                segments.removeLast();
                continue;
            }
            segments.add(seg);
        }
        // "/a/.." and "/a/." name a directory: keep the slash so it is not redirected back to "/a/..".
        if (text.endsWith("/..") || text.endsWith("/.")) trailingSlash = true;
        StringBuilder sb = new StringBuilder(text.length());
        for (String s : segments) sb.append('/').append(s);
        if (segments.isEmpty() || trailingSlash) sb.append('/');
        return new Normalized(sb.toString(), trailingSlash || segments.isEmpty());
    }

    /**
     * Whether {@code text} (starting with "/") is already normalised: no empty segment ("//") and no "." or ".."
     * segment. Then the path is the text itself, with nothing to split or rebuild.
     */
    static boolean clean(String text) {
        int n = text.length();
        for (int i = 0; i < n; i++) {
            if (text.charAt(i) != '/') continue;
            if (i + 1 == n) return true; // a trailing slash after a non-empty segment (or "/" alone)
            char c = text.charAt(i + 1);
            if (c == '/') return false;
            if (c == '.') {
                int after = i + 2;
                if (after == n || text.charAt(after) == '/') return false; // "/."
                if (text.charAt(after) == '.' && (after + 1 == n || text.charAt(after + 1) == '/')) return false; // "/.."
            }
        }
        return true;
    }

    /** Percent-encodes a path for a Location header or a link: unreserved and sub-delims stay as they are. */
    public static String encodePath(String path) {
        byte[] bytes = path.getBytes(StandardCharsets.UTF_8);
        StringBuilder sb = new StringBuilder(bytes.length + 8);
        for (byte x : bytes) {
            int b = x & 0xff;
            if ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') || "/-._~!$&'()*+,;=:@".indexOf(b) >= 0) {
                sb.append((char) b);
            } else {
                sb.append('%').append(Character.toUpperCase(Character.forDigit(b >> 4, 16))).append(Character.toUpperCase(Character.forDigit(b & 15, 16)));
            }
        }
        return sb.toString();
    }
}
