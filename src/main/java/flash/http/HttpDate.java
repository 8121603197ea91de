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

    private static final String[] DAYS = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    private static final String[] MONTHS = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    /** Days since the epoch of 0001-01-01 and 9999-12-31: the years that print as four digits (the pattern's year is
     *  of the era: year 0 is 1 BC). */
    private static final long MIN_DAY = java.time.LocalDate.of(1, 1, 1).toEpochDay();
    private static final long MAX_DAY = java.time.LocalDate.of(9999, 12, 31).toEpochDay();

    /**
     * The IMF-fixdate of {@code epochMillis} (truncated to the second). Written out by hand for years 1 to 9999, as
     * {@code IMF} would format them: a miss translated on an event loop formats its file's Last-Modified, and the
     * DateTimeFormatter's field-by-field printing was a visible part of that loop's profile (docs/performance.md
     * section 55). Other years (no file has them) go through the formatter.
     */
    public static String format(long epochMillis) {
        long seconds = Math.floorDiv(epochMillis, 1000L);
        long day = Math.floorDiv(seconds, 86_400L);
        if (day < MIN_DAY || day > MAX_DAY) return IMF.format(Instant.ofEpochMilli(epochMillis));
        int secondOfDay = (int) Math.floorMod(seconds, 86_400L);
        java.time.LocalDate date = java.time.LocalDate.ofEpochDay(day);
        byte[] b = new byte[LENGTH];
        put(b, 0, DAYS[date.getDayOfWeek().ordinal()]);
        b[3] = ',';
        b[4] = ' ';
        two(b, 5, date.getDayOfMonth());
        b[7] = ' ';
        put(b, 8, MONTHS[date.getMonthValue() - 1]);
        b[11] = ' ';
        two(b, 12, date.getYear() / 100);
        two(b, 14, date.getYear() % 100);
        b[16] = ' ';
        two(b, 17, secondOfDay / 3600);
        b[19] = ':';
        two(b, 20, secondOfDay / 60 % 60);
        b[22] = ':';
        two(b, 23, secondOfDay % 60);
        put(b, 25, " GMT");
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    private static void put(byte[] b, int at, String ascii) {
        for (int i = 0; i < ascii.length(); i++) b[at + i] = (byte) ascii.charAt(i);
    }

    private static void two(byte[] b, int at, int value) {
        b[at] = (byte) ('0' + value / 10);
        b[at + 1] = (byte) ('0' + value % 10);
    }

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
