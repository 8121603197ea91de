package flash.http;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;

import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Arbitrary bytes into the parser: it must never throw, never loop, and give the same results whether the
 * bytes come whole, in random pieces, or one at a time. Runs the saved inputs in
 * {@code src/test/resources/flash/http/RequestParserFuzzTestInputs/} in every build; fuzz with JAZZER_FUZZ=1.
 */
class RequestParserFuzzTest {
    /** Tiny limits, so that the fuzzer reaches every limit path with short inputs. */
    private static final HttpLimits TINY = new HttpLimits(40, 80, 4, 64);

    @FuzzTest
    // libFuzzer dictionary syntax: control bytes as \xHH escapes, never raw.
    @DictionaryEntries({"GET ", "HEAD ", "POST ", " HTTP/1.1\\x0d\\x0a", " HTTP/1.0\\x0d\\x0a", "\\x0d\\x0a",
            "\\x0d\\x0a\\x0d\\x0a", "Host: ", "Transfer-Encoding: ", "chunked", "Content-Length: ", "Connection: ", "close",
            "keep-alive", "Expect: ", "100-continue", "http://", ";ext=", "0\\x0d\\x0a\\x0d\\x0a"})
    void parserNeverThrowsAndIgnoresSegmentation(FuzzedDataProvider data) {
        boolean tiny = data.consumeBoolean();
        long seed = data.consumeLong();
        byte[] input = data.consumeRemainingAsBytes();
        HttpLimits limits = tiny ? TINY : HttpLimits.DEFAULTS;

        ParserFeed.Outcome whole = ParserFeed.whole(input, limits);
        assertThat(whole.consumed()).isBetween(0L, (long) input.length);
        assertThat(ParserFeed.feed(input, limits, randomCuts(input.length, new Random(seed)))).isEqualTo(whole);
        if (input.length <= 2048) assertThat(ParserFeed.bytewise(input, limits)).isEqualTo(whole);
    }

    private static int[] randomCuts(int length, Random rnd) {
        if (length < 2) return new int[0];
        int[] cuts = rnd.ints(rnd.nextInt(Math.min(length, 16)), 1, length).toArray();
        Arrays.sort(cuts);
        return cuts;
    }
}
