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

    /** A normalised path: always starts with "/", no "." or ".." or empty segments; {@code trailingSlash} kept. */
    public record Normalized(String path, List<String> segments, boolean trailingSlash) {
        public boolean hasDotSegment() {
            for (String s : segments) if (s.startsWith(".")) return true;
            return false;
        }
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
        return new Normalized(sb.toString(), List.copyOf(segments), trailingSlash || segments.isEmpty());
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
