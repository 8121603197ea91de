package flash.http;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The request parser's body discarding, now a {@link BodyDecoder}: the connection states around a body, and the
 * trailer section's stricter rule (field lines only), however the bytes arrive.
 */
class RequestParserBodyTest {
    private static final HttpLimits LIMITS = HttpLimits.DEFAULTS;
    private static final String CHUNKED_GET = "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";

    @Test
    void aTrailerLineWithoutAColonFailsTheConnection() {
        byte[] in = bytes(CHUNKED_GET + "0\r\n0\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n");
        ParserFeed.Outcome whole = ParserFeed.whole(in, LIMITS);

        assertThat(whole.events()).hasSize(2);
        assertThat(whole.events().get(0).result()).startsWith("REQ GET");
        assertThat(whole.events().get(1)).isEqualTo(new ParserFeed.Event("BAD 400 invalid trailer field", CHUNKED_GET.length() + 5));
        assertThat(whole.idle()).isFalse();
        for (int cut = 0; cut <= in.length; cut++) {
            assertThat(ParserFeed.splitAt(in, LIMITS, cut)).as("split at %d", cut).isEqualTo(whole);
        }
        assertThat(ParserFeed.bytewise(in, LIMITS)).as("one byte at a time").isEqualTo(whole);
    }

    @Test
    void statesAroundABody() {
        RequestParser p = new RequestParser(LIMITS);
        ByteBuffer buf = ByteBuffer.allocate(256);
        buf.put(bytes(CHUNKED_GET + "3\r\nab")).flip();
        assertThat(p.parse(buf)).isInstanceOf(Request.class);
        assertThat(p.discardingBody()).isTrue();
        assertThat(p.idle()).isFalse();
        assertThat(p.parse(buf)).isSameAs(ParseResult.NEED_MORE);
        assertThat(buf.hasRemaining()).as("body data discarded as it comes").isFalse();
        buf.compact().put(bytes("c\r\n0\r\nX: y\r\n\r\n")).flip();
        assertThat(p.parse(buf)).isSameAs(ParseResult.NEED_MORE);
        assertThat(p.discardingBody()).isFalse();
        assertThat(p.idle()).isTrue();
    }

    @Test
    void aBrokenBodyLeavesTheParserFailed() {
        RequestParser p = new RequestParser(LIMITS);
        ByteBuffer buf = ascii(CHUNKED_GET + "0\r\nVary : *\r\n\r\n");
        assertThat(p.parse(buf)).isInstanceOf(Request.class);
        assertThat(p.parse(buf)).isEqualTo(BadRequest.of(Status.BAD_REQUEST, "whitespace before colon in trailer field"));
        assertThat(p.discardingBody()).isFalse();
        assertThat(p.idle()).isFalse();
        assertThat(p.parse(ascii("GET / HTTP/1.1\r\nHost: a\r\n\r\n"))).isEqualTo(BadRequest.of(Status.BAD_REQUEST, "connection already failed"));
    }

    @Test
    void trailersAreHeldToTheHeaderSectionLimit() {
        HttpLimits tiny = new HttpLimits(64, 48, 4, 100);
        RequestParser p = new RequestParser(tiny);
        ByteBuffer buf = ascii(CHUNKED_GET + "0\r\nX: " + "v".repeat(60) + "\r\n\r\n");
        assertThat(p.parse(buf)).isInstanceOf(Request.class);
        assertThat(p.parse(buf)).extracting(r -> ((BadRequest) r).status()).isEqualTo(Status.HEADER_FIELDS_TOO_LARGE);
    }

    private static byte[] bytes(String s) { return s.getBytes(StandardCharsets.ISO_8859_1); }

    private static ByteBuffer ascii(String s) { return ByteBuffer.wrap(bytes(s)); }
}
