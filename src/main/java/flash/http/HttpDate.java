package flash.http;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Locale;

/** IMF-fixdate formatting and parsing (RFC 9110 section 5.6.7), with the current Date value cached per second. */
public final class HttpDate {
    private static final DateTimeFormatter IMF = DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US)
            .withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter RFC850 = DateTimeFormatter.ofPattern("EEEE, dd-MMM-yy HH:mm:ss 'GMT'", Locale.US)
            .withZone(ZoneOffset.UTC);
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
        long sec = System.currentTimeMillis() / 1000;
        Cached c = now;
        if (c.second != sec) {
            c = new Cached(sec, format(sec * 1000).getBytes(StandardCharsets.US_ASCII));
            now = c;
        }
        return c.bytes;
    }

    public static long currentSecond() { return System.currentTimeMillis() / 1000; }

    /** Parses the three formats RFC 9110 requires recipients to accept; returns epoch seconds or -1. */
    public static long parse(String value) {
        if (value == null) return -1;
        String v = value.trim();
        for (DateTimeFormatter f : new DateTimeFormatter[] {IMF, RFC850, ASCTIME}) {
            try {
                return ZonedDateTime.parse(v, f).toEpochSecond();
            } catch (DateTimeParseException ignored) {
                // try the next format
            }
        }
        return -1;
    }
}
