package flash.http;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * Body framing must decode identically however the bytes arrive (whole, split in two at every byte, one byte
 * at a time with the caller taking one data byte at a time), must never consume a byte past the body, and must
 * refuse every malformed chunked framing with the right status.
 */
class BodyDecoderTest {
    private static final String NEXT = "GET /next HTTP/1.1\r\n\r\n";
    private static final Supplier<BodyDecoder> CHUNKED = () -> BodyDecoder.chunked(1 << 20, 16 * 1024);

    // ------------------------------------------------------------------ chunked, valid

    static Stream<Arguments> validChunked() {
        return Stream.of(
                Arguments.of("one chunk", "5\r\nhello\r\n0\r\n\r\n", "hello"),
                Arguments.of("empty body", "0\r\n\r\n", ""),
                Arguments.of("several chunks", "5\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\n\r\n", "hello world"),
                Arguments.of("hex sizes", "a\r\n0123456789\r\nB\r\nabcdefghijk\r\n0\r\n\r\n", "0123456789abcdefghijk"),
                Arguments.of("leading zeros", "0005\r\nhello\r\n000\r\n\r\n", "hello"),
                Arguments.of("many leading zeros", "0".repeat(40) + "3\r\nabc\r\n" + "0".repeat(40) + "\r\n\r\n", "abc"),
                Arguments.of("extensions", "5;ext=1\r\nhello\r\n3;a;b=\"x y\";c=d\r\nabc\r\n0;last\r\n\r\n", "helloabc"),
                Arguments.of("BWS before extension", "5 \t ;ext\r\nhello\r\n0\t;z\r\n\r\n", "hello"),
                Arguments.of("lenient extension content", "5;ilovew3=\"I \\\"love\\\"; \\\\x\";q=\"unbalanced\r\nhello\r\n0\r\n\r\n", "hello"),
                Arguments.of("data that looks like framing", "7\r\n0\r\n\r\nGE\r\n0\r\n\r\n", "0\r\n\r\nGE"),
                Arguments.of("trailers", "3\r\nabc\r\n0\r\nVary: *\r\nContent-Type: text/plain\r\n\r\n", "abc"),
                Arguments.of("trailer OWS and empty value", "0\r\nX-A: \t v a l \t\r\nX-Empty:\r\nX-B:x\r\n\r\n", ""),
                Arguments.of("trailer obs-text", "0\r\nX: caf\u00e9\r\n\r\n", ""),
                Arguments.of("trailer name of every tchar", "0\r\n!#$%&'*+-.^_`|~09azAZ: v\r\n\r\n", ""));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("validChunked")
    void validChunkedBodiesDecodeIdenticallyHoweverSplit(String name, String body, String data) {
        byte[] in = bytes(body + NEXT);
        BodyFeed.Outcome whole = BodyFeed.whole(CHUNKED, in, false);

        assertThat(whole.result()).isEqualTo("END");
        assertThat(whole.data()).isEqualTo(data);
        assertThat(whole.bodyBytes()).isEqualTo(bytes(data).length);
        assertThat(whole.consumed()).as("stops exactly at the end of the body").isEqualTo(bytes(body).length);
        assertSegmentationIndependent(CHUNKED, in, whole, false);
    }

    // ------------------------------------------------------------------ chunked, invalid

    static Stream<Arguments> invalidChunked() {
        return Stream.of(
                Arguments.of("empty size", "\r\n", 400, "invalid chunk size"),
                Arguments.of("0x prefix", "0x5\r\nhello\r\n0\r\n\r\n", 400, "invalid chunk size"),
                Arguments.of("negative size", "-1\r\nx\r\n0\r\n\r\n", 400, "invalid chunk size"),
                Arguments.of("plus sign", "+1\r\nx\r\n0\r\n\r\n", 400, "invalid chunk size"),
                Arguments.of("size then space then CR", "1 \r\nx\r\n0\r\n\r\n", 400, "invalid chunk size"),
                Arguments.of("size then junk", "1g\r\nx\r\n0\r\n\r\n", 400, "invalid chunk size"),
                Arguments.of("size line bare LF", "1\nx\r\n0\r\n\r\n", 400, "invalid chunk size"),
                Arguments.of("size line CR without LF", "1\rx\r\n0\r\n\r\n", 400, "chunk size line not ended by CRLF"),
                Arguments.of("extension bare LF", "1;a\nx\r\n0\r\n\r\n", 400, "invalid chunk extension"),
                Arguments.of("extension NUL", "1;a\0\r\nx\r\n0\r\n\r\n", 400, "invalid chunk extension"),
                Arguments.of("extension DEL", "1;a\u007f\r\nx\r\n0\r\n\r\n", 400, "invalid chunk extension"),
                Arguments.of("extension high byte", "1;a=\u00ff\r\nx\r\n0\r\n\r\n", 400, "invalid chunk extension"),
                Arguments.of("data longer than size", "3\r\nabcX\r\n0\r\n\r\n", 400, "chunk data not followed by CRLF"),
                Arguments.of("data then bare LF", "3\r\nabc\n0\r\n\r\n", 400, "chunk data not followed by CRLF"),
                Arguments.of("data then CR CR", "3\r\nabc\r\r0\r\n\r\n", 400, "chunk data not followed by CRLF"),
                Arguments.of("size overflow", "ffffffffffffffffff\r\nx\r\n", 413, "chunk size too large"),
                Arguments.of("size that wraps 64 bits", "10000000000000001\r\nx\r\n0\r\n\r\n", 413, "chunk size too large"),
                Arguments.of("over maxBody in one chunk", "100001\r\nx", 413, "body larger than 1048576 bytes"),
                Arguments.of("trailer line without colon", "0\r\n0\r\n\r\n", 400, "invalid trailer field"),
                Arguments.of("trailer name without colon", "0\r\nVary\r\n\r\n", 400, "invalid trailer field"),
                Arguments.of("trailer empty name", "0\r\n: v\r\n\r\n", 400, "invalid trailer field"),
                Arguments.of("trailer space before colon", "0\r\nVary : *\r\n\r\n", 400, "whitespace before colon in trailer field"),
                Arguments.of("trailer tab before colon", "0\r\nVary\t: *\r\n\r\n", 400, "whitespace before colon in trailer field"),
                Arguments.of("trailer obs-fold", "0\r\nVary: a\r\n b\r\n\r\n", 400, "obsolete line folding in trailer section"),
                Arguments.of("trailer leading tab", "0\r\n\tVary: a\r\n\r\n", 400, "obsolete line folding in trailer section"),
                Arguments.of("trailer invalid name", "0\r\nV@ry: a\r\n\r\n", 400, "invalid trailer field"),
                Arguments.of("trailer high byte in name", "0\r\nV\u00e9: a\r\n\r\n", 400, "invalid trailer field"),
                Arguments.of("trailer NUL in value", "0\r\nVary: a\0b\r\n\r\n", 400, "control character in trailer field"),
                Arguments.of("trailer DEL in value", "0\r\nVary: a\u007f\r\n\r\n", 400, "control character in trailer field"),
                Arguments.of("trailer bare LF", "0\r\nVary: *\n\r\n", 400, "control character in trailer field"),
                Arguments.of("trailer bare CR", "0\r\nVary: *\rX: y\r\n\r\n", 400, "trailer line not ended by CRLF"),
                Arguments.of("trailer section bare LF", "0\r\n\n", 400, "invalid trailer field"),
                Arguments.of("trailer section CR without LF", "0\r\n\rX", 400, "trailer section not ended by CRLF"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidChunked")
    void malformedChunkedFramingFailsHoweverSplit(String name, String body, int status, String reason) {
        byte[] in = bytes(body + NEXT);
        BodyFeed.Outcome whole = BodyFeed.whole(CHUNKED, in, false);

        assertThat(whole.result()).isEqualTo("FAILED " + status + " " + reason);
        assertSegmentationIndependent(CHUNKED, in, whole, false);
    }

    @Test
    void aFailedDecoderStaysFailed() {
        BodyDecoder d = CHUNKED.get();
        ByteBuffer in = ascii("0\r\n0\r\n\r\n");
        assertThat(d.available(in)).isEqualTo(BodyDecoder.FAILED);
        BadRequest why = d.failure();
        assertThat(d.available(ascii("0\r\n\r\n"))).isEqualTo(BodyDecoder.FAILED);
        assertThat(d.eof()).isEqualTo(BodyDecoder.FAILED);
        assertThat(d.failure()).isSameAs(why);
        assertThat(d.done()).isFalse();
    }

    // ------------------------------------------------------------------ chunked limits

    @Test
    void chunkSizesMayTotalExactlyMaxBody() {
        Supplier<BodyDecoder> ten = () -> BodyDecoder.chunked(10, 100);
        byte[] fits = bytes("5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n");
        assertThat(BodyFeed.whole(ten, fits, false).result()).isEqualTo("END");

        // Refused at the size line that passes the limit, before its data arrives.
        byte[] over = bytes("5\r\nhello\r\n6\r\n");
        BodyFeed.Outcome whole = BodyFeed.whole(ten, over, false);
        assertThat(whole.result()).isEqualTo("FAILED 413 body larger than 10 bytes");
        assertThat(whole.consumed()).isEqualTo(over.length);
        assertSegmentationIndependent(ten, over, whole, false);
    }

    @Test
    void chunkSizesUpToTheGuardAreAcceptedWhenTheBodyIsUnlimited() {
        // A proxy relays upstream bodies with maxBody = Long.MAX_VALUE; the per-chunk guard (2^59) still holds.
        BodyDecoder d = BodyDecoder.chunked(Long.MAX_VALUE, 0);
        ByteBuffer in = ascii(Long.toHexString((1L << 59) - 1) + "\r\nabc");
        assertThat(d.available(in)).isEqualTo(3);
        assertThat(d.failure()).isNull();
        BodyDecoder over = BodyDecoder.chunked(Long.MAX_VALUE, 0);
        assertThat(over.available(ascii(Long.toHexString(1L << 59) + "0\r\n"))).isEqualTo(BodyDecoder.FAILED);
        assertThat(over.failure().status()).isEqualTo(Status.CONTENT_TOO_LARGE);
    }

    @Test
    void trailerSectionIsBoundedByMaxTrailerBytes() {
        // Field lines count with their CRLFs; the final empty line does not.
        Supplier<BodyDecoder> ten = () -> BodyDecoder.chunked(100, 10);
        assertThat(BodyFeed.whole(ten, bytes("0\r\nA: 12345\r\n\r\n"), false).result()).isEqualTo("END");
        assertThat(BodyFeed.whole(ten, bytes("0\r\nA: 1\r\nB:\r\n\r\n"), false).result()).isEqualTo("END");

        byte[] oneLong = bytes("0\r\nA: 123456\r\n\r\n");
        BodyFeed.Outcome r = BodyFeed.whole(ten, oneLong, false);
        assertThat(r.result()).isEqualTo("FAILED 431 trailer section larger than 10 bytes");
        assertThat(r.consumed()).as("refused at the eleventh byte").isEqualTo(3 + 11);
        assertSegmentationIndependent(ten, oneLong, r, false);

        byte[] manyShort = bytes("0\r\nA: 1\r\nB: 2\r\n\r\n");
        assertThat(BodyFeed.whole(ten, manyShort, false).result()).isEqualTo("FAILED 431 trailer section larger than 10 bytes");
        // Without the limit, an endless trailer section would keep the connection reading forever.
        byte[] endless = bytes("0\r\n" + "X: y\r\n".repeat(3000));
        assertThat(BodyFeed.whole(CHUNKED, endless, false).result()).startsWith("FAILED 431");
    }

    // ------------------------------------------------------------------ fixed and until close

    @Test
    void fixedLengthStopsAtTheLength() {
        Supplier<BodyDecoder> five = () -> BodyDecoder.fixed(5);
        byte[] in = bytes("hello" + NEXT);
        BodyFeed.Outcome whole = BodyFeed.whole(five, in, false);
        assertThat(whole).isEqualTo(new BodyFeed.Outcome("hello", "END", 5, 5));
        assertSegmentationIndependent(five, in, whole, false);

        BodyDecoder d = five.get();
        assertThat(d.chunked()).isFalse();
        assertThat(d.length()).isEqualTo(5);
        assertThat(d.done()).isFalse();
    }

    @Test
    void fixedZeroIsCompleteFromTheStart() {
        BodyDecoder d = BodyDecoder.fixed(0);
        assertThat(d.done()).isTrue();
        ByteBuffer in = ascii(NEXT);
        assertThat(d.available(in)).isEqualTo(BodyDecoder.END);
        assertThat(in.position()).isZero();
        assertThat(d.eof()).isEqualTo(BodyDecoder.END);
    }

    @Test
    void truncatedBodiesFailAtEof() {
        assertThat(BodyFeed.whole(() -> BodyDecoder.fixed(10), bytes("hello"), true))
                .isEqualTo(new BodyFeed.Outcome("hello", "FAILED 400 body truncated", 5, 5));
        for (String cut : new String[] {"", "5", "5\r\nhel", "5\r\nhello\r", "5\r\nhello\r\n0\r\n", "5\r\nhello\r\n0\r\nX: y\r\n"}) {
            byte[] in = bytes(cut);
            BodyFeed.Outcome r = BodyFeed.whole(CHUNKED, in, true);
            assertThat(r.result()).as(cut).isEqualTo("FAILED 400 body truncated");
            assertSegmentationIndependent(CHUNKED, in, r, true);
        }
        // Complete bodies stay complete at eof.
        assertThat(BodyFeed.whole(CHUNKED, bytes("0\r\n\r\n"), true).result()).isEqualTo("END");
        BodyDecoder done = BodyDecoder.fixed(2);
        done.consume(ascii("hi"), 2);
        assertThat(done.eof()).isEqualTo(BodyDecoder.END);
    }

    @Test
    void untilCloseTakesEverythingUntilEof() {
        Supplier<BodyDecoder> close = BodyDecoder::untilClose;
        byte[] in = bytes("all of it, \r\n0\r\n\r\n even framing-like bytes");
        BodyFeed.Outcome open = BodyFeed.whole(close, in, false);
        assertThat(open.result()).as("never ends before the close").isEqualTo("NEED_MORE");
        assertThat(open.consumed()).isEqualTo(in.length);

        BodyFeed.Outcome whole = BodyFeed.whole(close, in, true);
        assertThat(whole).isEqualTo(new BodyFeed.Outcome(new String(in, StandardCharsets.ISO_8859_1), "END", in.length, in.length));
        assertSegmentationIndependent(close, in, whole, true);

        BodyDecoder d = BodyDecoder.untilClose();
        assertThat(d.length()).isEqualTo(-1);
        assertThat(d.chunked()).isFalse();
        assertThat(d.eof()).isEqualTo(BodyDecoder.END);
        assertThat(d.available(ascii("late"))).isEqualTo(BodyDecoder.END);
    }

    // ------------------------------------------------------------------ the caller's side

    @Test
    void availableDoesNotConsumeData() {
        BodyDecoder d = CHUNKED.get();
        ByteBuffer in = ascii("5;x\r\nhello\r\n0\r\n\r\n");
        assertThat(d.available(in)).isEqualTo(5);
        assertThat(in.position()).as("framing consumed, data not").isEqualTo(5);
        assertThat(d.available(in)).as("asking again changes nothing").isEqualTo(5);
        d.consume(in, 2);
        assertThat(d.bodyBytes()).isEqualTo(2);
        assertThat(d.available(in)).isEqualTo(3);
        d.consume(in, 3);
        assertThat(d.available(in)).isEqualTo(BodyDecoder.END);
        assertThat(in.hasRemaining()).isFalse();
        assertThat(d.done()).isTrue();
        assertThat(d.chunked()).isTrue();
        assertThat(d.length()).isEqualTo(-1);
    }

    @Test
    void availableIsBoundedByTheBufferAndTheChunk() {
        BodyDecoder d = CHUNKED.get();
        ByteBuffer in = ascii("a\r\n0123");
        assertThat(d.available(in)).isEqualTo(4);
        d.consume(in, 4);
        assertThat(d.available(in)).as("rest of the chunk not here yet").isZero();
        BodyDecoder f = BodyDecoder.fixed(3);
        assertThat(f.available(ascii("abcdef"))).isEqualTo(3);
    }

    @Test
    void consumingMoreThanAvailableIsAProgrammingError() {
        BodyDecoder d = BodyDecoder.fixed(3);
        assertThatThrownBy(() -> d.consume(ascii("abcdef"), 4)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> d.consume(ascii("ab"), 3)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> d.consume(ascii("ab"), -1)).isInstanceOf(IllegalArgumentException.class);
        BodyDecoder c = CHUNKED.get();
        assertThatThrownBy(() -> c.consume(ascii("5\r\nhello"), 1)).as("framing is not data").isInstanceOf(IllegalStateException.class);
        c.consume(ascii("5\r\nhello"), 0); // a no-op anywhere
        assertThatThrownBy(() -> BodyDecoder.fixed(-1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void decodingAllocatesNothing() {
        assumeThat(ManagementFactory.getThreadMXBean()).isInstanceOf(com.sun.management.ThreadMXBean.class);
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assumeThat(mx.isThreadAllocatedMemorySupported() && mx.isThreadAllocatedMemoryEnabled()).isTrue();
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 2000; i++) sb.append("1a;ext=\"v\"\r\n").append("x".repeat(26)).append("\r\n");
        sb.append("0\r\nX-Trailer: value\r\n\r\n");
        byte[] in = bytes(sb.toString());
        ByteBuffer buf = ByteBuffer.wrap(in);
        decodeBytewise(BodyDecoder.chunked(1 << 20, 1024), buf); // warm up: class init, switch maps
        BodyDecoder d = BodyDecoder.chunked(1 << 20, 1024);
        buf.clear();
        long before = mx.getCurrentThreadAllocatedBytes();
        long result = decodeBytewise(d, buf);
        long allocated = mx.getCurrentThreadAllocatedBytes() - before;
        assertThat(result).isEqualTo(BodyDecoder.END);
        assertThat(d.bodyBytes()).isEqualTo(2000 * 26);
        // ~100 000 calls: allocating anything per call would show as megabytes; the slack is for the runtime.
        assertThat(allocated).isLessThan(16 * 1024);
    }

    /** Offers the input one more byte at a time (by moving the limit), taking data as it comes. */
    private static long decodeBytewise(BodyDecoder d, ByteBuffer buf) {
        long r = 0;
        for (int limit = 1; limit <= buf.capacity(); limit++) {
            buf.limit(limit);
            while ((r = d.available(buf)) > 0) d.consume(buf, r);
            if (r < 0) return r;
        }
        return r;
    }

    // ------------------------------------------------------------------ helpers

    /** Every split point, and one byte at a time with one data byte taken at a time, give what whole gave. */
    private static void assertSegmentationIndependent(Supplier<BodyDecoder> d, byte[] in, BodyFeed.Outcome whole, boolean eof) {
        for (int cut = 0; cut <= in.length; cut++) {
            assertThat(BodyFeed.splitAt(d, in, cut, eof)).as("split at %d", cut).isEqualTo(whole);
        }
        assertThat(BodyFeed.bytewise(d, in, eof)).as("one byte at a time").isEqualTo(whole);
    }

    private static byte[] bytes(String s) { return s.getBytes(StandardCharsets.ISO_8859_1); }

    private static ByteBuffer ascii(String s) { return ByteBuffer.wrap(bytes(s)); }
}
