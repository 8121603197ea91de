package flash.testing;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** A strict multipart/byteranges parser (RFC 9110 14.6): parts are framed by boundaries, sized by Content-Range. */
public final class Multipart {
    public record Part(Map<String, String> headers, long first, long last, long total, byte[] data) {}

    private Multipart() {}

    public static String boundary(String contentType) {
        String prefix = "multipart/byteranges; boundary=";
        if (contentType == null || !contentType.startsWith(prefix)) throw new AssertionError("not byteranges: " + contentType);
        return contentType.substring(prefix.length());
    }

    public static List<Part> parse(byte[] body, String boundary) {
        byte[] delimiter = ("--" + boundary).getBytes(StandardCharsets.US_ASCII);
        List<Part> parts = new ArrayList<>();
        int pos = 0;
        while (true) {
            if (pos > 0) pos = expect(body, pos, "\r\n".getBytes(StandardCharsets.US_ASCII));
            pos = expect(body, pos, delimiter);
            if (body.length - pos == 4 && body[pos] == '-' && body[pos + 1] == '-' && body[pos + 2] == '\r' && body[pos + 3] == '\n') {
                return parts;
            }
            pos = expect(body, pos, "\r\n".getBytes(StandardCharsets.US_ASCII));
            Map<String, String> headers = new LinkedHashMap<>();
            while (true) {
                int eol = indexOf(body, pos, (byte) '\n');
                String line = new String(body, pos, eol - pos - 1, StandardCharsets.ISO_8859_1);
                pos = eol + 1;
                if (line.isEmpty()) break;
                int c = line.indexOf(':');
                headers.put(line.substring(0, c).trim().toLowerCase(Locale.ROOT), line.substring(c + 1).trim());
            }
            String cr = headers.get("content-range"); // bytes F-L/T
            String[] fl = cr.substring("bytes ".length(), cr.indexOf('/')).split("-");
            long first = Long.parseLong(fl[0]), last = Long.parseLong(fl[1]);
            long total = Long.parseLong(cr.substring(cr.indexOf('/') + 1));
            int len = Math.toIntExact(last - first + 1);
            parts.add(new Part(headers, first, last, total, Arrays.copyOfRange(body, pos, pos + len)));
            pos += len;
        }
    }

    private static int expect(byte[] body, int pos, byte[] what) {
        if (pos + what.length > body.length || !Arrays.equals(body, pos, pos + what.length, what, 0, what.length)) {
            throw new AssertionError("malformed multipart body at offset " + pos + ": expected "
                    + new String(what, StandardCharsets.ISO_8859_1));
        }
        return pos + what.length;
    }

    private static int indexOf(byte[] b, int from, byte x) {
        for (int i = from; i < b.length; i++) if (b[i] == x) return i;
        throw new AssertionError("unterminated multipart header");
    }
}
