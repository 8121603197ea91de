package flash.http;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** IMF-fixdate formatting and parsing (RFC 9110 section 5.6.7), with the current Date value cached per second. */
public final class HttpDate {
    private static final DateTimeFormatter IMF = DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US)
            .withZone(ZoneOffset.UTC);
    /** Takes the two-digit year already widened to four digits by {@link #widenRfc850Year}. */
    private static final DateTimeFormatter RFC850 = DateTimeFormatter.ofPattern("EEEE, dd-MMM-yyyy HH:mm:ss 'GMT'", Locale.US)
            .withZone(ZoneOffset.UTC);
    private static final Pattern RFC850_YEAR = Pattern.compile("^([A-Za-z]+, \\d{2}-[A-Za-z]{3}-)(\\d{2})( .*)$");
    private static final DateTimeFormatter ASCTIME = DateTimeFormatter.ofPattern("EEE MMM ppd HH:mm:ss yyyy", Locale.US)
            .withZone(ZoneOffset.UTC);

    /** The Date value is 29 bytes; caching it per second means no formatting on the hot path. */
    public static final int LENGTH = 29;

    private record Cached(long second, byte[] bytes) {}
    private static volatile Cached now = new Cached(-1, null);

    private HttpDate() {}

    public static String format(long epochMillis) { return IMF.format(Instant.ofEpochMilli(epochMillis)); }

    /** The current date as 29 ASCII bytes; the array is shared and must not be modified. */
    public static byte[] nowBytes() {
        long sec = flash.sys.LoopClock.currentTimeMillis() / 1000;
        Cached c = now;
        if (c.second != sec) {
            c = new Cached(sec, format(sec * 1000).getBytes(StandardCharsets.US_ASCII));
            now = c;
        }
        return c.bytes;
    }

    public static long currentSecond() { return flash.sys.LoopClock.currentTimeMillis() / 1000; }

    /** Parses the three formats RFC 9110 requires recipients to accept; returns epoch seconds or -1. */
    public static long parse(String value) {
        if (value == null) return -1;
        String v = value.trim();
        for (DateTimeFormatter f : new DateTimeFormatter[] {IMF, RFC850, ASCTIME}) {
            try {
                return ZonedDateTime.parse(f == RFC850 ? widenRfc850Year(v) : v, f).toEpochSecond();
            } catch (DateTimeParseException ignored) {
                // try the next format
            }
        }
        return -1;
    }

    /**
     * RFC 9110 section 5.6.7: a two-digit year that would lie more than 50 years in the future means the most
     * recent past year with those digits ("94" is 1994, not 2094, whose 6 November is no Sunday).
     */
    private static String widenRfc850Year(String v) {
        Matcher m = RFC850_YEAR.matcher(v);
        if (!m.matches()) return v;
        int now = ZonedDateTime.now(ZoneOffset.UTC).getYear();
        int year = now / 100 * 100 + Integer.parseInt(m.group(2));
        if (year > now + 50) year -= 100;
        return m.group(1) + year + m.group(3);
    }
}
