package flash.http;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Range evaluation (RFC 9110 section 14) against a 1000-byte representation. */
class RangesTest {
    private static final long LEN = 1000;

    private static List<ByteRange> ranges(String header) {
        Ranges.Result r = Ranges.evaluate(header, LEN);
        assertThat(r).as(header).isInstanceOf(Ranges.Satisfiable.class);
        return ((Ranges.Satisfiable) r).ranges();
    }

    @Test
    void single() {
        assertThat(ranges("bytes=0-99")).containsExactly(new ByteRange(0, 99));
        assertThat(ranges("bytes=500-500")).containsExactly(new ByteRange(500, 500));
        assertThat(ranges("BYTES = 1-2".replace(" = ", "="))).containsExactly(new ByteRange(1, 2));
        assertThat(new ByteRange(0, 99).length()).isEqualTo(100);
        assertThat(new ByteRange(0, 99).contentRange(LEN)).isEqualTo("bytes 0-99/1000");
    }

    @Test
    void openEndedAndSuffix() {
        assertThat(ranges("bytes=0-")).containsExactly(new ByteRange(0, 999));
        assertThat(ranges("bytes=990-")).containsExactly(new ByteRange(990, 999));
        assertThat(ranges("bytes=-10")).containsExactly(new ByteRange(990, 999));
        assertThat(ranges("bytes=-5000")).as("suffix longer than the file is the whole file").containsExactly(new ByteRange(0, 999));
    }

    @Test
    void pastTheEndIsClamped() {
        assertThat(ranges("bytes=900-5000")).containsExactly(new ByteRange(900, 999));
    }

    @Test
    void multiple() {
        assertThat(ranges("bytes=0-9, 20-29,-5")).containsExactly(new ByteRange(0, 9), new ByteRange(20, 29), new ByteRange(995, 999));
        assertThat(ranges("bytes=0-9,,20-29")).as("empty list elements are allowed").hasSize(2);
        assertThat(ranges("bytes=0-9,2000-3000")).as("unsatisfiable members are dropped").containsExactly(new ByteRange(0, 9));
    }

    @Test
    void unsatisfiable() {
        assertThat(Ranges.evaluate("bytes=1000-", LEN)).isInstanceOf(Ranges.Unsatisfiable.class);
        assertThat(Ranges.evaluate("bytes=1000-2000, 5000-", LEN)).isInstanceOf(Ranges.Unsatisfiable.class);
        assertThat(Ranges.evaluate("bytes=-0", LEN)).isInstanceOf(Ranges.Unsatisfiable.class);
        assertThat(Ranges.evaluate("bytes=0-", 0)).isInstanceOf(Ranges.Unsatisfiable.class);
        assertThat(Ranges.evaluate("bytes=-5", 0)).isInstanceOf(Ranges.Unsatisfiable.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "bytes", "bytes=", "bytes=,", "items=0-1", "bytes=a-b", "bytes=5-1", "bytes=--5",
            "bytes=1-2-3", "bytes=+1-2", "bytes=0x1-2", "bytes=-", "bytes=1", "bytes=0-9,x", "bytes=99999999999999999999-"})
    void invalidSyntaxIsIgnored(String header) {
        assertThat(Ranges.evaluate(header, LEN)).isInstanceOf(Ranges.Ignore.class);
    }

    @Test
    void absentIsIgnored() {
        assertThat(Ranges.evaluate(null, LEN)).isInstanceOf(Ranges.Ignore.class);
    }

    @Test
    void overlappingOrTooManyRangesAreIgnored() {
        assertThat(Ranges.evaluate("bytes=0-10,5-20", LEN)).isInstanceOf(Ranges.Ignore.class);
        assertThat(Ranges.evaluate("bytes=0-,-1", LEN)).isInstanceOf(Ranges.Ignore.class);
        assertThat(Ranges.evaluate("bytes=0-0,0-0", LEN)).isInstanceOf(Ranges.Ignore.class);
        assertThat(ranges("bytes=0-9,10-19")).as("adjacent is not overlapping").hasSize(2);
        StringBuilder many = new StringBuilder("bytes=0-0");
        for (int i = 1; i <= Ranges.MAX_RANGES; i++) many.append(',').append(i * 2).append('-').append(i * 2);
        assertThat(Ranges.evaluate(many.toString(), LEN)).isInstanceOf(Ranges.Ignore.class);
    }
}
