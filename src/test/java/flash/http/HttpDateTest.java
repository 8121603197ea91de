package flash.http;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class HttpDateTest {
    private static final long T = 784111777L; // RFC 9110's example instant

    @Test
    void formatsImfFixdate() {
        assertThat(HttpDate.format(T * 1000)).isEqualTo("Sun, 06 Nov 1994 08:49:37 GMT");
        assertThat(HttpDate.format(0)).isEqualTo("Thu, 01 Jan 1970 00:00:00 GMT");
        assertThat(HttpDate.format(T * 1000)).hasSize(HttpDate.LENGTH);
    }

    /** The hand-written format against the JDK's formatter of the same pattern, over every era it covers and past it. */
    @Test
    void formatsAsTheJdkFormatterWould() {
        java.time.format.DateTimeFormatter jdk = java.time.format.DateTimeFormatter
                .ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", java.util.Locale.US).withZone(java.time.ZoneOffset.UTC);
        long first = java.time.LocalDate.of(1, 1, 1).toEpochDay() * 86_400_000L;
        long last = java.time.LocalDate.of(9999, 12, 31).toEpochDay() * 86_400_000L + 86_399_999L;
        java.util.List<Long> instants = new java.util.ArrayList<>(java.util.List.of(0L, -1L, 999L, 1000L, -1000L, -1001L,
                first, first - 1, last, last + 1, 951_782_400_000L /* 2000-02-29 */, 4_107_542_399_999L /* 2100-02-28 */,
                -62_135_596_800_001L, 253_402_300_800_000L));
        java.util.SplittableRandom random = new java.util.SplittableRandom(11);
        for (int i = 0; i < 200_000; i++) instants.add(random.nextLong(first - 86_400_000L * 800, last + 86_400_000L * 800));
        for (int i = 0; i < 50_000; i++) instants.add(random.nextLong(0, 4_102_444_800_000L)); // 1970-2099: files' mtimes
        for (long t : instants) {
            assertThat(HttpDate.format(t)).as("instant %d", t).isEqualTo(jdk.format(java.time.Instant.ofEpochMilli(t)));
        }
    }

    @Test
    void parsesTheThreeFormats() {
        assertThat(HttpDate.parse("Sun, 06 Nov 1994 08:49:37 GMT")).isEqualTo(T);
        assertThat(HttpDate.parse("Sunday, 06-Nov-94 08:49:37 GMT")).isEqualTo(T);
        assertThat(HttpDate.parse("Sun Nov  6 08:49:37 1994")).isEqualTo(T);
        assertThat(HttpDate.parse("  Sun, 06 Nov 1994 08:49:37 GMT ")).isEqualTo(T);
    }

    @Test
    void refusesOtherText() {
        assertThat(HttpDate.parse(null)).isEqualTo(-1);
        assertThat(HttpDate.parse("")).isEqualTo(-1);
        assertThat(HttpDate.parse("yesterday")).isEqualTo(-1);
        assertThat(HttpDate.parse("Sun, 06 Nov 1994 08:49:37 PST")).isEqualTo(-1);
        assertThat(HttpDate.parse("Sun, 32 Nov 1994 08:49:37 GMT")).isEqualTo(-1);
        assertThat(HttpDate.parse("1994-11-06T08:49:37Z")).isEqualTo(-1);
    }

    @Test
    void roundTrips() {
        for (long s : new long[] {0, 1, T, 1_700_000_000L, 4_102_444_799L}) {
            assertThat(HttpDate.parse(HttpDate.format(s * 1000))).isEqualTo(s);
        }
    }

    @Test
    void nowBytesIsTheCurrentSecond() {
        long before = HttpDate.currentSecond();
        long parsed = HttpDate.parse(new String(HttpDate.nowBytes(), StandardCharsets.US_ASCII));
        long after = HttpDate.currentSecond();
        assertThat(parsed).isBetween(before, after);
        assertThat(HttpDate.nowBytes()).hasSize(HttpDate.LENGTH);
    }
}
