package flash.http;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class RecentFieldValuesTest {
    /** {@code v} through {@code cache}, put in set 7 by a hash of its own (values share a set, not a hash). */
    private static String value(RecentFieldValues cache, String v) {
        byte[] b = ("x: " + v + "\r\n").getBytes(StandardCharsets.ISO_8859_1);
        return cache.value(b, 3, v.length(), 7 + 32 * (v.hashCode() & 0x3ff));
    }

    @Test
    void aValueThatComesAgainIsTheSameStringAndOtherBytesNeverGetIt() {
        RecentFieldValues cache = new RecentFieldValues();
        String first = value(cache, "text/html"); // a free place: kept at once
        assertThat(value(cache, "text/html")).isEqualTo("text/html").isSameAs(first);
        byte[] other = "x: text/htm!\r\n".getBytes(StandardCharsets.ISO_8859_1);
        // Other bytes under the very same hash: their own value, never the one kept.
        int hash = 7 + 32 * ("text/html".hashCode() & 0x3ff);
        assertThat(cache.value(other, 3, 9, hash)).isEqualTo("text/htm!");
        assertThat(value(cache, "text/css")).isEqualTo("text/css");
        assertThat(value(cache, "text/html")).isSameAs(first);
    }

    @Test
    void valuesFoundAgainKeepTheirPlacesAgainstNewcomers() {
        RecentFieldValues cache = new RecentFieldValues();
        String agent = value(cache, "Mozilla/5.0"), accept = value(cache, "text/css");
        for (int request = 0; request < 5; request++) {
            // Three values every request, in a set of two places: the third finds both found again each time.
            assertThat(value(cache, "Mozilla/5.0")).isSameAs(agent);
            assertThat(value(cache, "text/css")).isSameAs(accept);
            value(cache, "https://example.com/same");
        }
        // The first two stop: the third comes again, and takes a place not found again since.
        String kept = value(cache, "https://example.com/same");
        assertThat(value(cache, "https://example.com/same")).isSameAs(kept);
        assertThat(value(cache, "Mozilla/5.0")).as("its place taken").isEqualTo("Mozilla/5.0").isNotSameAs(agent);
    }

    @Test
    void onceBothPlacesAreTakenAValueIsKeptOnlyWhenItComesASecondTime() {
        RecentFieldValues cache = new RecentFieldValues();
        value(cache, "gzip");
        value(cache, "br");
        value(cache, "deflate"); // both places kept against it: neither is marked now
        String once = value(cache, "request-1"); // seen once: its String only, no copy kept
        String second = value(cache, "request-1");
        assertThat(second).isEqualTo("request-1").isNotSameAs(once);
        assertThat(value(cache, "request-1")).as("kept at its second sighting").isSameAs(second);
    }

    @Test
    void twoNewcomersTakingTurnsInAFullSetAreBothKept() {
        // Another client's two steady values where the set holds two an earlier client sent: each comes between the
        // other's sightings, and both must still be kept at their second.
        RecentFieldValues cache = new RecentFieldValues();
        value(cache, "old-1");
        value(cache, "old-2");
        value(cache, "Firefox");
        value(cache, "text/html");
        String agent = value(cache, "Firefox"), accept = value(cache, "text/html");
        assertThat(value(cache, "Firefox")).isSameAs(agent);
        assertThat(value(cache, "text/html")).isSameAs(accept);
    }

    @Test
    void longValuesAreNotKept() {
        RecentFieldValues cache = new RecentFieldValues();
        String cookie = "a".repeat(RecentFieldValues.MAX_LENGTH + 1);
        assertThat(value(cache, cookie)).isEqualTo(cookie).isNotSameAs(value(cache, cookie));
        String kept = "b".repeat(RecentFieldValues.MAX_LENGTH);
        assertThat(value(cache, kept)).isSameAs(value(cache, kept));
    }

    @Test
    void aPlatformThreadHasOneAndAVirtualThreadNone() throws Exception {
        assertThat(RecentFieldValues.forThisThread()).isNotNull().isSameAs(RecentFieldValues.forThisThread());
        RecentFieldValues[] seen = {new RecentFieldValues()};
        Thread.ofVirtual().start(() -> seen[0] = RecentFieldValues.forThisThread()).join();
        assertThat(seen[0]).as("a virtual thread is one connection: no cache kept per connection").isNull();
    }

    @Test
    void parsedRequestsShareTheirRepeatedValuesOnAPlatformThread() {
        String head = "GET / HTTP/1.1\r\nHost: example.com\r\nAccept-Encoding: gzip, br\r\n\r\n";
        RequestParser parser = new RequestParser(HttpLimits.DEFAULTS);
        parser.parse(java.nio.ByteBuffer.wrap(head.getBytes(StandardCharsets.ISO_8859_1)));
        Request a = (Request) parser.parse(java.nio.ByteBuffer.wrap(head.getBytes(StandardCharsets.ISO_8859_1)));
        Request b = (Request) parser.parse(java.nio.ByteBuffer.wrap(head.getBytes(StandardCharsets.ISO_8859_1)));
        assertThat(b.headers().get("accept-encoding")).isEqualTo("gzip, br")
                .isSameAs(a.headers().get("accept-encoding"));
        assertThat(b.headers().get("host")).isSameAs(a.headers().get("host"));
    }
}
