package flash.http;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import static flash.http.Conditionals.Outcome.NOT_MODIFIED;
import static flash.http.Conditionals.Outcome.PRECONDITION_FAILED;
import static flash.http.Conditionals.Outcome.PROCEED;
import static org.assertj.core.api.Assertions.assertThat;

/** Preconditions in RFC 9110 section 13.2.2 order, against a representation with one ETag and one date. */
class ConditionalsTest {
    private static final String ETAG = "\"abc-1\"";
    private static final long MTIME = 784111777; // Sun, 06 Nov 1994 08:49:37 GMT
    private static final String IMF = "Sun, 06 Nov 1994 08:49:37 GMT";
    private static final String RFC850 = "Sunday, 06-Nov-94 08:49:37 GMT";
    private static final String ASCTIME = "Sun Nov  6 08:49:37 1994";
    private static final String EARLIER = "Sat, 05 Nov 1994 08:49:37 GMT";
    private static final String LATER = "Mon, 07 Nov 1994 08:49:37 GMT";

    private static Request req(String method, String... headers) {
        StringBuilder sb = new StringBuilder(method).append(" / HTTP/1.1\r\nHost: a\r\n");
        for (String h : headers) sb.append(h).append("\r\n");
        ParseResult r = new RequestParser(HttpLimits.DEFAULTS).parse(ByteBuffer.wrap(sb.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1)));
        return (Request) r;
    }

    private static Conditionals.Outcome eval(String... headers) { return Conditionals.evaluate(req("GET", headers), ETAG, MTIME); }

    @Test
    void noConditionsProceed() {
        assertThat(eval()).isEqualTo(PROCEED);
    }

    @Test
    void ifMatchUsesStrongComparison() {
        assertThat(eval("If-Match: \"abc-1\"")).isEqualTo(PROCEED);
        assertThat(eval("If-Match: \"x\", \"abc-1\"")).isEqualTo(PROCEED);
        assertThat(eval("If-Match: *")).isEqualTo(PROCEED);
        assertThat(eval("If-Match: \"x\"")).isEqualTo(PRECONDITION_FAILED);
        assertThat(eval("If-Match: W/\"abc-1\"")).as("a weak tag never matches strongly").isEqualTo(PRECONDITION_FAILED);
        assertThat(Conditionals.evaluate(req("GET", "If-Match: W/\"abc-1\""), "W/\"abc-1\"", MTIME)).isEqualTo(PRECONDITION_FAILED);
    }

    @Test
    void ifUnmodifiedSinceAppliesOnlyWithoutIfMatch() {
        assertThat(eval("If-Unmodified-Since: " + IMF)).isEqualTo(PROCEED);
        assertThat(eval("If-Unmodified-Since: " + EARLIER)).isEqualTo(PRECONDITION_FAILED);
        assertThat(eval("If-Match: \"abc-1\"", "If-Unmodified-Since: " + EARLIER)).as("If-Match wins").isEqualTo(PROCEED);
        assertThat(eval("If-Unmodified-Since: garbage")).as("an invalid date is ignored").isEqualTo(PROCEED);
    }

    @Test
    void ifNoneMatchUsesWeakComparison() {
        assertThat(eval("If-None-Match: \"abc-1\"")).isEqualTo(NOT_MODIFIED);
        assertThat(eval("If-None-Match: W/\"abc-1\"")).isEqualTo(NOT_MODIFIED);
        assertThat(eval("If-None-Match: \"x\", W/\"abc-1\"")).isEqualTo(NOT_MODIFIED);
        assertThat(eval("If-None-Match: *")).isEqualTo(NOT_MODIFIED);
        assertThat(eval("If-None-Match: \"x\"")).isEqualTo(PROCEED);
        assertThat(Conditionals.evaluate(req("GET", "If-None-Match: \"abc-1\""), "W/\"abc-1\"", MTIME)).isEqualTo(NOT_MODIFIED);
    }

    @Test
    void ifNoneMatchOnOtherMethodsFailsThePrecondition() {
        assertThat(Conditionals.evaluate(req("DELETE", "If-None-Match: *"), ETAG, MTIME)).isEqualTo(PRECONDITION_FAILED);
    }

    @Test
    void ifModifiedSinceInAllThreeDateFormats() {
        for (String date : new String[] {IMF, RFC850, ASCTIME}) {
            assertThat(eval("If-Modified-Since: " + date)).as(date).isEqualTo(NOT_MODIFIED);
        }
        assertThat(eval("If-Modified-Since: " + LATER)).isEqualTo(NOT_MODIFIED);
        assertThat(eval("If-Modified-Since: " + EARLIER)).isEqualTo(PROCEED);
        assertThat(eval("If-Modified-Since: yesterday")).isEqualTo(PROCEED);
    }

    @Test
    void ifNoneMatchOverridesIfModifiedSince() {
        assertThat(eval("If-None-Match: \"x\"", "If-Modified-Since: " + LATER)).isEqualTo(PROCEED);
        assertThat(eval("If-None-Match: \"abc-1\"", "If-Modified-Since: " + EARLIER)).isEqualTo(NOT_MODIFIED);
    }

    @Test
    void ifMatchIsEvaluatedBeforeIfNoneMatch() {
        assertThat(eval("If-Match: \"x\"", "If-None-Match: \"abc-1\"")).isEqualTo(PRECONDITION_FAILED);
    }

    @Test
    void ifModifiedSinceIsIgnoredForOtherMethods() {
        assertThat(Conditionals.evaluate(req("POST", "If-Modified-Since: " + LATER), ETAG, MTIME)).isEqualTo(PROCEED);
    }

    @Test
    void ifRangeNeedsAStrongMatchOrTheExactDate() {
        assertThat(Conditionals.rangeApplies(req("GET"), ETAG, MTIME)).isTrue();
        assertThat(Conditionals.rangeApplies(req("GET", "If-Range: \"abc-1\""), ETAG, MTIME)).isTrue();
        assertThat(Conditionals.rangeApplies(req("GET", "If-Range: \"x\""), ETAG, MTIME)).isFalse();
        assertThat(Conditionals.rangeApplies(req("GET", "If-Range: W/\"abc-1\""), ETAG, MTIME)).isFalse();
        assertThat(Conditionals.rangeApplies(req("GET", "If-Range: " + IMF), ETAG, MTIME)).isTrue();
        assertThat(Conditionals.rangeApplies(req("GET", "If-Range: " + LATER), ETAG, MTIME)).isFalse();
        assertThat(Conditionals.rangeApplies(req("GET", "If-Range: nonsense"), ETAG, MTIME)).isFalse();
    }
}
