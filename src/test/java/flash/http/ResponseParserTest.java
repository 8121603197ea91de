package flash.http;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Upstream response heads, and the framing of the bodies behind them, must read identically however the bytes
 * arrive; malformed heads and ambiguous framing are Invalid. The stream tests read responses the way a proxy
 * does: head, framing, body through a {@link BodyDecoder}, next head, and the upstream's close at the end.
 */
class ResponseParserTest {
    private static final int MAX_HEAD = 8 * 1024;
    private static final int MAX_FIELDS = 100;

    // ------------------------------------------------------------------ valid streams

    static Stream<Arguments> validStreams() {
        return Stream.of(
                Arguments.of("Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
                        List.of("200 OK 1.1 keepAlive=true [Content-Length: 5; ] fixed 5", "BODY hello")),
                Arguments.of("chunked with trailers", "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n"
                                + "5;x=y\r\nhello\r\n0\r\nServer-Timing: a\r\n\r\n",
                        List.of("200 OK 1.1 keepAlive=true [Transfer-Encoding: Chunked; ] chunked", "BODY hello")),
                Arguments.of("until close", "HTTP/1.0 200 OK\r\nServer: s\r\n\r\nall \r\n\r\nof it",
                        List.of("200 OK 1.0 keepAlive=false [Server: s; ] until close", "BODY all \r\n\r\nof it")),
                Arguments.of("no reason phrase", "HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n",
                        List.of("404  1.1 keepAlive=true [Content-Length: 0; ] fixed 0", "BODY ")),
                Arguments.of("empty reason phrase", "HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n",
                        List.of("404  1.1 keepAlive=true [Content-Length: 0; ] fixed 0", "BODY ")),
                Arguments.of("reason with spaces, tab and obs-text", "HTTP/1.1 200 Tout \tva tr\u00e8s bien\r\nContent-Length: 0\r\n\r\n",
                        List.of("200 Tout \tva tr\u00e8s bien 1.1 keepAlive=true [Content-Length: 0; ] fixed 0", "BODY ")),
                Arguments.of("1xx before the final response", "HTTP/1.1 100 Continue\r\n\r\n"
                                + "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
                                + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
                        List.of("100 Continue 1.1 keepAlive=true [] fixed 0", "BODY ",
                                "103 Early Hints 1.1 keepAlive=true [Link: </s.css>; rel=preload; ] fixed 0", "BODY ",
                                "200 OK 1.1 keepAlive=true [Content-Length: 2; ] fixed 2", "BODY hi")),
                Arguments.of("204 and 304 have no body whatever they say", "HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n"
                                + "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: gzip\r\n\r\n"
                                + "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx",
                        List.of("204 No Content 1.1 keepAlive=true [Content-Length: 7; ] fixed 0", "BODY ",
                                "304 Not Modified 1.1 keepAlive=true [Transfer-Encoding: gzip; ] fixed 0", "BODY ",
                                "200 OK 1.1 keepAlive=true [Content-Length: 1; ] fixed 1", "BODY x")),
                Arguments.of("persistent responses back to back", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none"
                                + "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\n"
                                + "HTTP/1.1 500 Oops\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\nConnection: close\r\n\r\nthree",
                        List.of("200 OK 1.1 keepAlive=true [Content-Length: 3; ] fixed 3", "BODY one",
                                "200 OK 1.1 keepAlive=true [Transfer-Encoding: chunked; ] chunked", "BODY two",
                                "500 Oops 1.1 keepAlive=false [Content-Length: 5, 5; Content-Length: 5; Connection: close; ] fixed 5",
                                "BODY three")),
                Arguments.of("OWS around values", "HTTP/1.1 200 OK\r\nX-A:\t v a l \t\r\nX-B:\r\nContent-Length:  1 \r\n\r\n!",
                        List.of("200 OK 1.1 keepAlive=true [X-A: v a l; X-B: ; Content-Length: 1; ] fixed 1", "BODY !")),
                Arguments.of("1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\nx",
                        List.of("200 OK 1.0 keepAlive=true [Connection: Keep-Alive; Content-Length: 1; ] fixed 1", "BODY x")),
                Arguments.of("1.1 close among tokens", "HTTP/1.1 200 OK\r\nConnection: keep-alive, CLOSE\r\nContent-Length: 1\r\n\r\nx",
                        List.of("200 OK 1.1 keepAlive=false [Connection: keep-alive, CLOSE; Content-Length: 1; ] fixed 1", "BODY x")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("validStreams")
    void responsesReadIdenticallyWholeSplitAndBytewise(String name, String text, List<String> events) {
        byte[] in = bytes(text);
        Outcome whole = feed(in, new int[0], false);
        assertThat(whole.events()).isEqualTo(events);
        assertThat(whole.consumed()).isEqualTo(in.length);
        assertSegmentationIndependent(in, whole, false);
    }

    @Test
    void headFieldsAreExtracted() {
        UpstreamHead h = head("HTTP/1.1 301 Moved Permanently\r\nLocation: /x/\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\n\r\n");
        assertThat(h.status()).isEqualTo(301);
        assertThat(h.reason()).isEqualTo("Moved Permanently");
        assertThat(h.minorVersion()).isEqualTo(1);
        assertThat(h.header("location")).isEqualTo("/x/");
        assertThat(h.headers().all("SET-COOKIE")).containsExactly("a=1", "b=2");
        assertThat(h.keepAlive()).isTrue();
        assertThat(h.interim()).isFalse();
        assertThat(head("HTTP/1.1 101 Switching Protocols\r\n\r\n").interim()).isTrue();
    }

    @Test
    void partialHeadIsNotConsumed() {
        ResponseParser p = new ResponseParser(MAX_HEAD, MAX_FIELDS);
        ByteBuffer buf = ascii("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n");
        assertThat(p.parse(buf)).isSameAs(UpstreamParse.NEED_MORE);
        assertThat(buf.position()).isZero();
        ByteBuffer rest = ascii("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
        assertThat(p.parse(rest)).isInstanceOf(UpstreamHead.class);
        assertThat(rest.remaining()).as("the body is left for the decoder").isEqualTo(5);
    }

    // ------------------------------------------------------------------ invalid heads

    static Stream<Arguments> invalidHeads() {
        return Stream.of(
                Arguments.of("bare LF ending the status line", "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", "bare LF in response head"),
                Arguments.of("bare LF between fields", "HTTP/1.1 200 OK\r\nA: b\nContent-Length: 0\r\n\r\n", "bare LF in response head"),
                Arguments.of("bare LF ending the head", "HTTP/1.1 200 OK\r\nA: b\r\n\n", "bare LF in response head"),
                Arguments.of("bare CR in a field", "HTTP/1.1 200 OK\r\nA: b\rContent-Length: 0\r\n\r\n", "bare CR in response head"),
                Arguments.of("bare CR in the status line", "HTTP/1.1 200 O\rK\r\n\r\n", "bare CR in status line"),
                Arguments.of("obs-fold", "HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n", "obsolete line folding"),
                Arguments.of("obs-fold hiding Content-Length", "HTTP/1.1 200 OK\r\nX: y\r\n Content-Length: 5\r\n\r\n", "obsolete line folding"),
                Arguments.of("space before colon", "HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\n", "whitespace before colon in header field"),
                Arguments.of("tab before colon", "HTTP/1.1 200 OK\r\nTransfer-Encoding\t: chunked\r\n\r\n", "whitespace before colon in header field"),
                Arguments.of("no colon", "HTTP/1.1 200 OK\r\nContent-Length\r\n\r\n", "invalid header field"),
                Arguments.of("empty name", "HTTP/1.1 200 OK\r\n: x\r\n\r\n", "invalid header field"),
                Arguments.of("invalid name", "HTTP/1.1 200 OK\r\nA\"b: x\r\n\r\n", "invalid header field name"),
                Arguments.of("NUL in value", "HTTP/1.1 200 OK\r\nA: b\0c\r\n\r\n", "control character in header value"),
                Arguments.of("vertical tab in value", "HTTP/1.1 200 OK\r\nContent-Length: \u000b5\r\n\r\n", "control character in header value"),
                Arguments.of("DEL in value", "HTTP/1.1 200 OK\r\nA: b\u007f\r\n\r\n", "control character in header value"),
                Arguments.of("control in reason", "HTTP/1.1 200 O\u0001K\r\n\r\n", "control character in reason phrase"),
                Arguments.of("HTTP/2.0", "HTTP/2.0 200 OK\r\n\r\n", "unsupported HTTP version 2.0"),
                Arguments.of("HTTP/0.9", "HTTP/0.9 200 OK\r\n\r\n", "unsupported HTTP version 0.9"),
                Arguments.of("lowercase version", "http/1.1 200 OK\r\n\r\n", "malformed status line"),
                Arguments.of("not HTTP", "ICY 200 OK\r\n\r\n", "malformed status line"),
                Arguments.of("two-digit status", "HTTP/1.1 20 OK\r\n\r\n", "malformed status line"),
                Arguments.of("four-digit status", "HTTP/1.1 2000 OK\r\n\r\n", "malformed status line"),
                Arguments.of("no space after status", "HTTP/1.1 200OK\r\n\r\n", "malformed status line"),
                Arguments.of("tab after status", "HTTP/1.1 200\tOK\r\n\r\n", "malformed status line"),
                Arguments.of("double space before status", "HTTP/1.1  200 OK\r\n\r\n", "malformed status line"),
                Arguments.of("status under 100", "HTTP/1.1 099 Low\r\n\r\n", "invalid status code 99"),
                Arguments.of("status over 599", "HTTP/1.1 600 High\r\n\r\n", "invalid status code 600"),
                Arguments.of("empty status line", "\r\n\r\n", "malformed status line"),
                Arguments.of("leading empty line", "\r\nHTTP/1.1 200 OK\r\n\r\n", "malformed status line"),
                Arguments.of("fields over the limit", "HTTP/1.1 200 OK\r\n" + "X: y\r\n".repeat(MAX_FIELDS + 1) + "\r\n",
                        "more than 100 header fields"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidHeads")
    void malformedHeadsAreInvalidHoweverSplit(String name, String text, String reason) {
        byte[] in = bytes(text);
        Outcome whole = feed(in, new int[0], false);
        assertThat(whole.events()).last().isEqualTo("INVALID " + reason);
        assertSegmentationIndependent(in, whole, false);
    }

    @Test
    void headsOverTheLimitAreInvalidBeforeTheyEnd() {
        ResponseParser small = new ResponseParser(64, MAX_FIELDS);
        String fits = "HTTP/1.1 200 OK\r\nX: " + "v".repeat(64 - 24) + "\r\n\r\n";
        assertThat(fits).hasSize(64);
        assertThat(small.parse(ascii(fits))).isInstanceOf(UpstreamHead.class);
        String over = "HTTP/1.1 200 OK\r\nX: " + "v".repeat(64 - 23) + "\r\n\r\n";
        assertThat(new ResponseParser(64, MAX_FIELDS).parse(ascii(over)))
                .isEqualTo(new UpstreamParse.Invalid("response head larger than 64 bytes"));

        // A huge head that never ends is refused once it passes the limit, whatever arrives after.
        byte[] huge = bytes("HTTP/1.1 200 OK\r\nX: " + "v".repeat(MAX_HEAD * 4));
        Outcome whole = feed(huge, new int[0], false);
        assertThat(whole.events()).containsExactly("INVALID response head larger than 8192 bytes");
        for (int cut = 0; cut <= huge.length; cut += 97) {
            assertThat(feed(huge, new int[] {cut}, false)).as("split at %d", cut).isEqualTo(whole);
        }
    }

    @Test
    void aFailedParserStaysFailed() {
        ResponseParser p = new ResponseParser(MAX_HEAD, MAX_FIELDS);
        assertThat(p.parse(ascii("HTTP/1.1 200 OK\nX: y\r\n\r\n"))).isInstanceOf(UpstreamParse.Invalid.class);
        assertThat(p.parse(ascii("HTTP/1.1 200 OK\r\n\r\n"))).isInstanceOf(UpstreamParse.Invalid.class);
    }

    // ------------------------------------------------------------------ framing

    static Stream<Arguments> invalidFraming() {
        return Stream.of(
                Arguments.of("gzip", "Transfer-Encoding: gzip", "Transfer-Encoding gzip"),
                Arguments.of("identity", "Transfer-Encoding: identity", "Transfer-Encoding identity"),
                Arguments.of("gzip then chunked", "Transfer-Encoding: gzip, chunked", "Transfer-Encoding gzip, chunked"),
                Arguments.of("chunked twice in a list", "Transfer-Encoding: chunked, chunked", "Transfer-Encoding chunked, chunked"),
                Arguments.of("chunked twice in two fields", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked",
                        "Transfer-Encoding chunked, chunked"),
                Arguments.of("chunked then gzip", "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip", "Transfer-Encoding chunked, gzip"),
                Arguments.of("chunked with trailing comma", "Transfer-Encoding: chunked,", "Transfer-Encoding chunked,"),
                Arguments.of("empty Transfer-Encoding", "Transfer-Encoding:", "Transfer-Encoding "),
                Arguments.of("xchunked", "Transfer-Encoding: xchunked", "Transfer-Encoding xchunked"),
                Arguments.of("quoted chunked", "Transfer-Encoding: \"chunked\"", "Transfer-Encoding \"chunked\""),
                Arguments.of("chunked and Content-Length", "Transfer-Encoding: chunked\r\nContent-Length: 5", "both Transfer-Encoding and Content-Length"),
                Arguments.of("Content-Length and chunked", "Content-Length: 5\r\nTransfer-Encoding: chunked", "both Transfer-Encoding and Content-Length"),
                Arguments.of("differing Content-Length fields", "Content-Length: 5\r\nContent-Length: 6", "conflicting Content-Length values"),
                Arguments.of("differing Content-Length list", "Content-Length: 5, 6", "conflicting Content-Length values"),
                Arguments.of("empty Content-Length", "Content-Length:", "invalid Content-Length "),
                Arguments.of("negative Content-Length", "Content-Length: -1", "invalid Content-Length -1"),
                Arguments.of("plus Content-Length", "Content-Length: +5", "invalid Content-Length +5"),
                Arguments.of("hex Content-Length", "Content-Length: 0x5", "invalid Content-Length 0x5"),
                Arguments.of("Content-Length with inner space", "Content-Length: 1 0", "invalid Content-Length 1 0"),
                Arguments.of("Content-Length trailing comma", "Content-Length: 5,", "invalid Content-Length 5,"),
                Arguments.of("Content-Length past 18 digits", "Content-Length: 1234567890123456789", "invalid Content-Length 1234567890123456789"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidFraming")
    void ambiguousFramingIsInvalid(String name, String fields, String detail) {
        UpstreamHead h = head("HTTP/1.1 200 OK\r\n" + fields + "\r\n\r\n");
        assertThat(ResponseParser.framing(h, false)).isEqualTo(new UpstreamParse.Invalid("invalid framing: " + detail));
    }

    @Test
    void transferEncodingInAnHttp10ResponseIsInvalid() {
        UpstreamHead h = head("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        assertThat(ResponseParser.framing(h, false))
                .isEqualTo(new UpstreamParse.Invalid("invalid framing: Transfer-Encoding in an HTTP/1.0 response"));
    }

    @Test
    void framingFollowsRfc9112Section6_3() {
        assertThat(framing("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", true).done()).as("HEAD: no body").isTrue();
        assertThat(framing("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", true).done())
                .as("HEAD: no body, whatever the framing fields say").isTrue();
        assertThat(framing("HTTP/1.1 101 Switching Protocols\r\n\r\n", false).done()).isTrue();
        assertThat(framing("HTTP/1.1 199 Whatever\r\nContent-Length: 9\r\n\r\n", false).done()).isTrue();
        assertThat(framing("HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n", false).done()).isTrue();
        assertThat(framing("HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n", false).done()).isTrue();

        BodyDecoder chunked = framing("HTTP/1.1 200 OK\r\nTransfer-Encoding:  CHUNKED \r\n\r\n", false);
        assertThat(chunked.chunked()).isTrue();
        BodyDecoder fixed = framing("HTTP/1.1 205 Reset\r\nContent-Length: 007, 7\r\nContent-Length: 7\r\n\r\n", false);
        assertThat(fixed.length()).isEqualTo(7);
        assertThat(fixed.chunked()).isFalse();
        BodyDecoder zero = framing("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false);
        assertThat(zero.done()).isTrue();
        BodyDecoder close = framing("HTTP/1.1 200 OK\r\n\r\n", false);
        assertThat(close.length()).isEqualTo(-1);
        assertThat(close.chunked()).isFalse();
        assertThat(close.done()).isFalse();
    }

    @Test
    void framingLimitsApply() {
        UpstreamHead big = head("HTTP/1.1 200 OK\r\nContent-Length: 101\r\n\r\n");
        assertThat(ResponseParser.framing(big, false, 100, 10))
                .isEqualTo(new UpstreamParse.Invalid("invalid framing: Content-Length 101 larger than 100"));
        UpstreamHead chunked = head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        BodyDecoder d = (BodyDecoder) ResponseParser.framing(chunked, false, 3, 10);
        assertThat(d.available(ascii("4\r\nabcd\r\n0\r\n\r\n"))).isEqualTo(BodyDecoder.FAILED);
        assertThat(d.failure().status()).isEqualTo(Status.CONTENT_TOO_LARGE);
    }

    @Test
    void aLyingContentLengthNeverJoinsTheNextResponse() {
        // Shorter than the body: the extra bytes are read as the next head, and refused.
        byte[] shorter = bytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhello\r\n\r\n");
        Outcome s = feed(shorter, new int[0], true);
        assertThat(s.events()).containsExactly("200 OK 1.1 keepAlive=true [Content-Length: 2; ] fixed 2", "BODY he",
                "INVALID malformed status line");
        assertSegmentationIndependent(shorter, s, true);

        // Longer than the body: the upstream closes first and the body is truncated.
        byte[] longer = bytes("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello");
        Outcome l = feed(longer, new int[0], true);
        assertThat(l.events()).containsExactly("200 OK 1.1 keepAlive=true [Content-Length: 10; ] fixed 10",
                "BODY hello", "BODY FAILED 400 body truncated");
        assertSegmentationIndependent(longer, l, true);

        // Smuggled: a chunked body whose data is a complete response stays data.
        String inner = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
        byte[] smuggled = bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                + Integer.toHexString(inner.length()) + "\r\n" + inner + "\r\n0\r\n\r\n");
        Outcome c = feed(smuggled, new int[0], true);
        assertThat(c.events()).containsExactly("200 OK 1.1 keepAlive=true [Transfer-Encoding: chunked; ] chunked", "BODY " + inner);
        assertSegmentationIndependent(smuggled, c, true);
    }

    // ------------------------------------------------------------------ the feed

    /** What a proxy read from a stream: heads, framings and bodies (or where it failed), and bytes consumed. */
    record Outcome(List<String> events, long consumed) {}

    /**
     * Reads {@code in}, cut at {@code cuts}, as a proxy would: parse a head, decide its framing (the request
     * was never HEAD), decode its body, repeat. With {@code eof}, reports the upstream's close at the end.
     */
    private static Outcome feed(byte[] in, int[] cuts, boolean eof) {
        ResponseParser parser = new ResponseParser(MAX_HEAD, MAX_FIELDS);
        ByteBuffer buf = ByteBuffer.allocate(in.length + 16);
        List<String> events = new ArrayList<>();
        StringBuilder data = new StringBuilder();
        BodyDecoder body = null;
        long consumed = 0;
        int from = 0;
        boolean over = false;
        for (int k = 0; k <= cuts.length && !over; k++) {
            int to = k < cuts.length ? cuts[k] : in.length;
            buf.put(in, from, to - from);
            from = to;
            buf.flip();
            for (int guard = 0; !over; guard++) {
                if (guard > 2 * in.length + 4) throw new AssertionError("no progress");
                int before = buf.position();
                if (body == null) {
                    UpstreamParse r = parser.parse(buf);
                    consumed += buf.position() - before;
                    if (r == UpstreamParse.NEED_MORE) break;
                    if (r instanceof UpstreamParse.Invalid bad) {
                        events.add("INVALID " + bad.reason());
                        over = true;
                    } else {
                        UpstreamHead h = (UpstreamHead) r;
                        switch (ResponseParser.framing(h, false)) {
                            case UpstreamParse.Invalid bad -> {
                                events.add(describe(h) + " INVALID " + bad.reason());
                                over = true;
                            }
                            case BodyDecoder d -> {
                                events.add(describe(h) + " " + framing(d));
                                body = d;
                            }
                        }
                    }
                } else {
                    long n = body.available(buf);
                    if (n > 0) {
                        for (int i = 0; i < n; i++) data.append((char) (buf.get(buf.position() + i) & 0xff));
                        body.consume(buf, n);
                    }
                    consumed += buf.position() - before;
                    if (n == 0) break;
                    if (n == BodyDecoder.END) {
                        events.add("BODY " + data);
                        data.setLength(0);
                        body = null;
                    } else if (n == BodyDecoder.FAILED) {
                        events.add("BODY FAILED " + body.failure().status().code() + " " + body.failure().reason());
                        over = true;
                    }
                }
            }
            buf.compact();
        }
        if (eof && !over && body != null) {
            if (!data.isEmpty()) events.add("BODY " + data);
            events.add(body.eof() == BodyDecoder.END ? "BODY END" : "BODY FAILED "
                    + body.failure().status().code() + " " + body.failure().reason());
        } else if (!over && body != null && body.length() < 0 && !body.chunked()) {
            events.add("BODY " + data); // until close, without the close: what arrived so far
        }
        return new Outcome(List.copyOf(events), consumed);
    }

    private static String describe(UpstreamHead h) {
        StringBuilder sb = new StringBuilder().append(h.status()).append(' ').append(h.reason()).append(" 1.")
                .append(h.minorVersion()).append(" keepAlive=").append(h.keepAlive()).append(" [");
        for (int i = 0; i < h.headers().size(); i++) sb.append(h.headers().name(i)).append(": ").append(h.headers().value(i)).append("; ");
        return sb.append(']').toString();
    }

    private static String framing(BodyDecoder d) {
        return d.chunked() ? "chunked" : d.length() >= 0 ? "fixed " + d.length() : "until close";
    }

    private static void assertSegmentationIndependent(byte[] in, Outcome whole, boolean eof) {
        for (int cut = 0; cut <= in.length; cut++) {
            assertThat(feed(in, new int[] {cut}, eof)).as("split at %d", cut).isEqualTo(whole);
        }
        int[] cuts = new int[Math.max(0, in.length - 1)];
        for (int i = 0; i < cuts.length; i++) cuts[i] = i + 1;
        assertThat(feed(in, cuts, eof)).as("one byte at a time").isEqualTo(whole);
    }

    // ------------------------------------------------------------------ helpers

    private static UpstreamHead head(String s) {
        UpstreamParse r = new ResponseParser(MAX_HEAD, MAX_FIELDS).parse(ascii(s));
        assertThat(r).isInstanceOf(UpstreamHead.class);
        return (UpstreamHead) r;
    }

    private static BodyDecoder framing(String s, boolean requestWasHead) {
        UpstreamFraming f = ResponseParser.framing(head(s), requestWasHead);
        assertThat(f).isInstanceOf(BodyDecoder.class);
        return (BodyDecoder) f;
    }

    private static byte[] bytes(String s) { return s.getBytes(StandardCharsets.ISO_8859_1); }

    private static ByteBuffer ascii(String s) { return ByteBuffer.wrap(bytes(s)); }
}
