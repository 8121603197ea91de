package flash.http;

/**
 * Conditional request evaluation in the order of RFC 9110 section 13.2.2: If-Match, else If-Unmodified-Since
 * (either failing gives 412); then If-None-Match, else If-Modified-Since (either failing gives 304 for GET/HEAD);
 * If-Range is decided separately by {@link #rangeApplies}.
 */
public final class Conditionals {
    public enum Outcome { PROCEED, NOT_MODIFIED, PRECONDITION_FAILED }

    private Conditionals() {}

    /**
     * @param lastModifiedSec the representation's Last-Modified, in whole seconds as sent; -1 when it has none (then
     *                        If-Modified-Since and If-Unmodified-Since are ignored, RFC 9110 sections 13.1.3-4)
     */
    public static Outcome evaluate(Request req, String etag, long lastModifiedSec) {
        String ifMatch = req.header("If-Match");
        if (ifMatch != null) {
            if (!matches(ifMatch, etag, false)) return Outcome.PRECONDITION_FAILED;
        } else {
            long ius = HttpDate.parse(req.header("If-Unmodified-Since"));
            if (ius >= 0 && lastModifiedSec >= 0 && lastModifiedSec > ius) return Outcome.PRECONDITION_FAILED;
        }
        String ifNoneMatch = req.header("If-None-Match");
        if (ifNoneMatch != null) {
            if (matches(ifNoneMatch, etag, true)) {
                return req.method().servesFiles() ? Outcome.NOT_MODIFIED : Outcome.PRECONDITION_FAILED;
            }
        } else if (req.method().servesFiles()) {
            long ims = HttpDate.parse(req.header("If-Modified-Since"));
            if (ims >= 0 && lastModifiedSec >= 0 && lastModifiedSec <= ims) return Outcome.NOT_MODIFIED;
        }
        return Outcome.PROCEED;
    }

    /** If-Range: a strong ETag match, or a date exactly equal to Last-Modified; absent means the range applies. */
    public static boolean rangeApplies(Request req, String etag, long lastModifiedSec) {
        String ifRange = req.header("If-Range");
        if (ifRange == null) return true;
        String v = ifRange.trim();
        if (v.startsWith("\"") || v.startsWith("W/")) return !v.startsWith("W/") && v.equals(etag);
        long date = HttpDate.parse(v);
        return date >= 0 && lastModifiedSec >= 0 && date == lastModifiedSec;
    }

    /** Entity-tag list match; weak comparison ignores the W/ prefix, strong comparison refuses weak tags. */
    static boolean matches(String list, String etag, boolean weak) {
        String l = list.trim();
        if (l.equals("*")) return true;
        for (String raw : l.split(",")) {
            String t = raw.trim();
            if (t.startsWith("W/")) {
                if (!weak) continue;
                t = t.substring(2);
            }
            String e = etag.startsWith("W/") ? etag.substring(2) : etag;
            if (t.equals(e) && (weak || !etag.startsWith("W/"))) return true;
        }
        return false;
    }
}
