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
