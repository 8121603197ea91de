package flash.http;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class RecentFieldValuesTest {
    private static final int SLOT_HASH = 7; // every value below is put in the same slot, by this hash

    private static String value(RecentFieldValues cache, String v) {
        byte[] b = ("x: " + v + "\r\n").getBytes(StandardCharsets.ISO_8859_1);
        return cache.value(b, 3, v.length(), SLOT_HASH);
    }

    @Test
    void aValueThatComesAgainIsTheSameStringAndOtherBytesNeverGetIt() {
        RecentFieldValues cache = new RecentFieldValues();
        String first = value(cache, "text/html");
        assertThat(value(cache, "text/html")).isEqualTo("text/html").isSameAs(first);
        // Same slot, other bytes (a hash collision): their own value, never the one kept.
        assertThat(value(cache, "text/css")).isEqualTo("text/css");
        assertThat(value(cache, "text/htmx")).isEqualTo("text/htmx");
        assertThat(value(cache, "text/htm")).isEqualTo("text/htm");
    }

    @Test
    void aValueFoundAgainKeepsItsSlotAgainstOneNewcomerButNotTwo() {
        RecentFieldValues cache = new RecentFieldValues();
        String agent = value(cache, "Mozilla/5.0");
        assertThat(value(cache, "Mozilla/5.0")).isSameAs(agent); // found again: marked
        value(cache, "https://example.com/a"); // a Referer that changes with every request
        assertThat(value(cache, "Mozilla/5.0")).as("kept against one newcomer").isSameAs(agent);
        value(cache, "https://example.com/b");
        value(cache, "https://example.com/c"); // the mark was spent on /b: this one takes the slot
        assertThat(value(cache, "Mozilla/5.0")).isEqualTo("Mozilla/5.0").isNotSameAs(agent);
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
        Request a = (Request) parser.parse(java.nio.ByteBuffer.wrap(head.getBytes(StandardCharsets.ISO_8859_1)));
        Request b = (Request) parser.parse(java.nio.ByteBuffer.wrap(head.getBytes(StandardCharsets.ISO_8859_1)));
        assertThat(b.headers().get("accept-encoding")).isEqualTo("gzip, br")
                .isSameAs(a.headers().get("accept-encoding"));
        assertThat(b.headers().get("host")).isSameAs(a.headers().get("host"));
    }
}
