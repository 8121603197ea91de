package flash.http;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Valid requests must parse identically however the bytes arrive: whole, split in two at every byte
 * boundary, or one byte at a time (the Netty codec test style); and they must consume exactly the same bytes.
 */
class RequestParserTest {
    private static final HttpLimits LIMITS = HttpLimits.DEFAULTS;

    static Stream<Arguments> validRequests() {
        StringBuilder many = new StringBuilder("GET /many HTTP/1.1\r\nHost: h\r\n");
        for (int i = 0; i < 99; i++) many.append("X-Field-").append(i).append(": value ").append(i).append("\r\n");
        many.append("\r\n");
        return Stream.of(
                Arguments.of("GET 1.1", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 1),
                Arguments.of("HEAD 1.1", "HEAD /x.html HTTP/1.1\r\nHost: a\r\n\r\n", 1),
                Arguments.of("GET 1.0", "GET /index.html HTTP/1.0\r\n\r\n", 1),
                Arguments.of("HEAD 1.0 keep-alive", "HEAD / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 1),
                Arguments.of("query", "GET /a/b?x=1&y=%20 HTTP/1.1\r\nHost: a\r\n\r\n", 1),
                Arguments.of("leading CRLFs", "\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 1),
                Arguments.of("absolute-form", "GET http://example.com:8080/p?q HTTP/1.1\r\nHost: example.com\r\n\r\n", 1),
                Arguments.of("Content-Length body", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world", 1),
                Arguments.of("chunked body", "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + "5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nTrailer: t\r\n\r\n", 1),
                Arguments.of("pipelined GETs", "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n", 2),
                Arguments.of("pipelined with CL body", "GET /1 HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\n"
                        + "GET GET /2 HTTP/1.1\r\nHost: a\r\n\r\n", 2),
                Arguments.of("pipelined with chunked body", "GET /1 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + "3\r\nabc\r\n0\r\n\r\nHEAD /2 HTTP/1.0\r\n\r\n", 2),
                Arguments.of("pipelined with CRLF between", "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n", 2),
                Arguments.of("pipelined three, last closes", "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n"
                        + "GET /3 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", 3),
                Arguments.of("100 header fields", many.toString(), 1),
                Arguments.of("OWS and obs-text", "GET / HTTP/1.1\r\nHost:a\r\nX-A: \t v a l \t\r\nX-B: caf\u00e9\r\n\r\n", 1));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("validRequests")
    void parsesIdenticallyWholeSplitAndBytewise(String name, String text, int requests) {
        byte[] in = text.getBytes(StandardCharsets.ISO_8859_1);
        ParserFeed.Outcome whole = ParserFeed.whole(in, LIMITS);

        assertThat(whole.events()).hasSize(requests).allSatisfy(e -> assertThat(e.result()).startsWith("REQ "));
        assertThat(whole.consumed()).as("consumes every byte, bodies included").isEqualTo(in.length);
        assertThat(whole.idle()).isTrue();
        for (int cut = 0; cut <= in.length; cut++) {
            assertThat(ParserFeed.splitAt(in, LIMITS, cut)).as("split at %d", cut).isEqualTo(whole);
        }
        assertThat(ParserFeed.bytewise(in, LIMITS)).as("one byte at a time").isEqualTo(whole);
    }

    @Test
    void requestFieldsAreExtracted() {
        Request r = parseOne("GET http://example.com/a%20b/c?x=1 HTTP/1.1\r\nHost: example.com\r\nX-Twice: 1\r\n"
                + "x-twice: 2\r\nContent-Length: 0\r\n\r\n");
        assertThat(r.method()).isEqualTo(Method.GET);
        assertThat(r.rawPath()).isEqualTo("/a%20b/c");
        assertThat(r.query()).isEqualTo("x=1");
        assertThat(r.minorVersion()).isEqualTo(1);
        assertThat(r.keepAlive()).isTrue();
        assertThat(r.headerValues("X-TWICE")).containsExactly("1", "2");
        assertThat(r.hasBody()).isFalse();
    }

    @Test
    void persistenceFollowsVersionAndConnection() {
        assertThat(parseOne("GET / HTTP/1.1\r\nHost: a\r\n\r\n").keepAlive()).isTrue();
        assertThat(parseOne("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Close\r\n\r\n").keepAlive()).isFalse();
        assertThat(parseOne("GET / HTTP/1.0\r\n\r\n").keepAlive()).isFalse();
        assertThat(parseOne("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keepAlive()).isTrue();
        // A client waiting for 100 Continue may never send the body we would have to skip.
        assertThat(parseOne("GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n").keepAlive()).isFalse();
    }

    // ------------------------------------------------------------------ limits

    @Test
    void requestLineLimitIs8KiB() {
        String fits = "GET /" + "a".repeat(LIMITS.maxRequestLine() - 15) + " HTTP/1.1"; // 8191 bytes
        assertThat(fits).hasSize(LIMITS.maxRequestLine() - 1);
        assertThat(parse(fits + "\r\nHost: a\r\n\r\n")).isInstanceOf(Request.class);
        assertThat(status(parse("GET /" + "a".repeat(LIMITS.maxRequestLine()) + " HTTP/1.1\r\nHost: a\r\n\r\n"))).isEqualTo(414);
        // Refused as soon as the line is too long, without waiting for its end.
        assertThat(status(parse("GET /" + "a".repeat(LIMITS.maxRequestLine())))).isEqualTo(414);
    }

    @Test
    void headerSectionLimitIs16KiB() {
        String head = "GET / HTTP/1.1\r\nHost: a\r\n";
        String fitting = "X: " + "v".repeat(LIMITS.maxHeaderBytes() - 9 - 5 - 2) + "\r\n"; // section just under 16 KiB
        assertThat(parse(head + fitting + "\r\n")).isInstanceOf(Request.class);
        assertThat(status(parse(head + "X: " + "v".repeat(LIMITS.maxHeaderBytes()) + "\r\n\r\n"))).isEqualTo(431);
        assertThat(status(parse(head + "X: " + "v".repeat(LIMITS.maxHeaderBytes())))).as("refused before the end").isEqualTo(431);
    }

    @Test
    void headerCountLimitIs100() {
        String hundred = "GET / HTTP/1.1\r\nHost: a\r\n" + "X: y\r\n".repeat(99);
        assertThat(parse(hundred + "\r\n")).isInstanceOf(Request.class);
        assertThat(status(parse(hundred + "X: y\r\n\r\n"))).isEqualTo(431);
    }

    @Test
    void bodyLimitIsMaxBody() {
        long max = LIMITS.maxBody();
        assertThat(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: " + max + "\r\n\r\n")).isInstanceOf(Request.class);
        assertThat(status(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: " + (max + 1) + "\r\n\r\n"))).isEqualTo(413);
        // Chunked: the running total is checked at every chunk-size line.
        String chunkedHead = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
        String half = Long.toHexString(max / 2);
        RequestParser p = new RequestParser(LIMITS);
        ByteBuffer buf = ByteBuffer.allocate(4 << 20);
        buf.put((chunkedHead + half + "\r\n").getBytes(StandardCharsets.US_ASCII)).put(new byte[(int) (max / 2)])
                .put(("\r\n" + half + "\r\n").getBytes(StandardCharsets.US_ASCII)).put(new byte[(int) (max / 2)])
                .put(("\r\n1\r\n").getBytes(StandardCharsets.US_ASCII)).flip();
        assertThat(p.parse(buf)).isInstanceOf(Request.class);
        assertThat(status(p.parse(buf))).isEqualTo(413);
    }

    @Test
    void smallerLimitsApply() {
        HttpLimits tiny = new HttpLimits(32, 64, 3, 10);
        RequestParser p = new RequestParser(tiny);
        assertThat(status(p.parse(ascii("GET /" + "a".repeat(40) + " HTTP/1.1\r\n\r\n")))).isEqualTo(414);
        assertThat(status(new RequestParser(tiny).parse(ascii("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n")))).isEqualTo(431);
        assertThat(status(new RequestParser(tiny).parse(ascii("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n")))).isEqualTo(413);
    }

    @Test
    void aFailedParserStaysFailed() {
        RequestParser p = new RequestParser(LIMITS);
        assertThat(p.parse(ascii("GET / HTTP/1.1\nHost: a\r\n\r\n"))).isInstanceOf(BadRequest.class);
        assertThat(p.parse(ascii("GET / HTTP/1.1\r\nHost: a\r\n\r\n"))).isInstanceOf(BadRequest.class);
        assertThat(p.idle()).isFalse();
    }

    @Test
    void partialHeadIsNotConsumed() {
        RequestParser p = new RequestParser(LIMITS);
        ByteBuffer buf = ascii("GET / HTTP/1.1\r\nHost: a\r\n");
        assertThat(p.parse(buf)).isSameAs(ParseResult.NEED_MORE);
        assertThat(buf.position()).isZero();
        assertThat(p.idle()).isFalse();
    }

    // ------------------------------------------------------------------ helpers

    private static ByteBuffer ascii(String s) { return ByteBuffer.wrap(s.getBytes(StandardCharsets.ISO_8859_1)); }

    private static ParseResult parse(String s) { return new RequestParser(LIMITS).parse(ascii(s)); }

    private static Request parseOne(String s) {
        ParseResult r = parse(s);
        assertThat(r).isInstanceOf(Request.class);
        return (Request) r;
    }

    private static int status(ParseResult r) {
        assertThat(r).isInstanceOf(BadRequest.class);
        return ((BadRequest) r).status().code();
    }
}
