package flash.http;

import java.util.ArrayList;
import java.util.List;

/**
 * Range header evaluation (RFC 9110 section 14). A syntactically invalid header is ignored (the whole
 * representation is sent), as the RFC allows; a valid one whose ranges all lie past the end is unsatisfiable.
 */
public final class Ranges {
    /** More ranges than this, or ranges that overlap, look like a denial-of-service attempt: serve 200 instead. */
    static final int MAX_RANGES = 32;

    public sealed interface Result permits Ignore, Satisfiable, Unsatisfiable {}
    public record Ignore() implements Result {}
    public record Satisfiable(List<ByteRange> ranges) implements Result {}
    public record Unsatisfiable() implements Result {}

    private static final Ignore IGNORE = new Ignore();

    private Ranges() {}

    public static Result evaluate(String header, long length) {
        if (header == null) return IGNORE;
        String h = header.trim();
        if (!h.regionMatches(true, 0, "bytes=", 0, 6)) return IGNORE;
        String[] specs = h.substring(6).split(",", -1);
        if (specs.length > MAX_RANGES) return IGNORE;
        List<ByteRange> out = new ArrayList<>(specs.length);
        boolean anyValid = false;
        for (String raw : specs) {
            String s = raw.trim();
            if (s.isEmpty()) continue; // RFC 9110 allows empty list elements
            int dash = s.indexOf('-');
            if (dash < 0) return IGNORE;
            String a = s.substring(0, dash).trim(), b = s.substring(dash + 1).trim();
            long first, last;
            if (a.isEmpty()) {                       // suffix range: the last N bytes
                long n = Tokens.parseDigits(b);
                if (n < 0) return IGNORE;
                anyValid = true;
                if (n == 0 || length == 0) continue;
                first = Math.max(0, length - n);
                last = length - 1;
            } else {
                first = Tokens.parseDigits(a);
                if (first < 0) return IGNORE;
                if (b.isEmpty()) {
                    last = length - 1;
                } else {
                    last = Tokens.parseDigits(b);
                    if (last < 0 || last < first) return IGNORE;
                    last = Math.min(last, length - 1); // ranges past the end are clamped
                }
                anyValid = true;
                if (first >= length) continue;
            }
            out.add(new ByteRange(first, last));
        }
        if (!anyValid) return IGNORE;
        if (out.isEmpty()) return new Unsatisfiable();
        if (out.size() > 1 && overlaps(out)) return IGNORE;
        return new Satisfiable(List.copyOf(out));
    }

    private static boolean overlaps(List<ByteRange> ranges) {
        List<ByteRange> sorted = new ArrayList<>(ranges);
        sorted.sort((x, y) -> Long.compare(x.first(), y.first()));
        for (int i = 1; i < sorted.size(); i++) {
            if (sorted.get(i).first() <= sorted.get(i - 1).last()) return true;
        }
        return false;
    }
}
