package flash.fastcgi;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The record codec: what we send byte for byte, and the responder's records walked whatever their split. */
class RecordsTest {

    @Test
    void beginRequestAsksToKeepTheConnection() {
        ByteBuffer b = Records.begin(List.of(), true);
        byte[] a = new byte[b.remaining()];
        b.get(a);
        assertThat(a).containsExactly(
                1, 1, 0, 1, 0, 8, 0, 0,   // BEGIN_REQUEST, id 1, 8 bytes
                0, 1, 1, 0, 0, 0, 0, 0,   // role RESPONDER, flags KEEP_CONN
                1, 4, 0, 1, 0, 0, 0, 0);  // the empty PARAMS record
    }

    @Test
    void aRequestWithoutABodyEndsStdinInTheSameBuffer() {
        ByteBuffer b = Records.begin(List.of(), true, true);
        byte[] a = new byte[b.remaining()];
        b.get(a);
        assertThat(a).containsExactly(
                1, 1, 0, 1, 0, 8, 0, 0,   // BEGIN_REQUEST, id 1, 8 bytes
                0, 1, 1, 0, 0, 0, 0, 0,   // role RESPONDER, flags KEEP_CONN
                1, 4, 0, 1, 0, 0, 0, 0,   // the empty PARAMS record
                1, 5, 0, 1, 0, 0, 0, 0);  // the empty STDIN record: one write for the whole request
    }

    @Test
    void pairLengthsTakeOneByteBelow128AndFourAbove() {
        String longValue = "v".repeat(300);
        byte[] p = Records.encodePairs(List.<String[]>of(new String[] {"A", "bc"}, new String[] {"LONG", longValue}));
        assertThat(p[0]).isEqualTo((byte) 1);
        assertThat(p[1]).isEqualTo((byte) 2);
        assertThat(new String(p, 2, 3, StandardCharsets.US_ASCII)).isEqualTo("Abc");
        assertThat(p[5]).isEqualTo((byte) 4);
        assertThat(p[6] & 0xff).isEqualTo(0x80);
        assertThat(((p[8] & 0xff) << 8) | (p[9] & 0xff)).isEqualTo(300);
        assertThat(p).hasSize(2 + 3 + 1 + 4 + 4 + 300);
    }

    @Test
    void paramsLongerThanOneRecordAreSplitAndPadded() {
        String big = "x".repeat(100_000);
        ByteBuffer b = Records.begin(List.<String[]>of(new String[] {"BIG", big}), false);
        b.position(16); // past BEGIN_REQUEST
        ByteArrayOutputStream content = new ByteArrayOutputStream();
        while (true) {
            assertThat(b.get(b.position() + 1)).isEqualTo((byte) Records.PARAMS);
            int len = ((b.get(b.position() + 4) & 0xff) << 8) | (b.get(b.position() + 5) & 0xff);
            int pad = b.get(b.position() + 6) & 0xff;
            assertThat((len + pad) % 8).isZero();
            b.position(b.position() + 8);
            if (len == 0) break;
            byte[] c = new byte[len];
            b.get(c);
            content.writeBytes(c);
            b.position(b.position() + pad);
        }
        assertThat(b.hasRemaining()).isFalse();
        assertThat(content.toByteArray()).isEqualTo(Records.encodePairs(List.<String[]>of(new String[] {"BIG", big})));
    }

    /** STDOUT, STDERR (with padding), a record for another id, an empty STDOUT, then END_REQUEST. */
    private static byte[] response() {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        record(o, Records.STDOUT, 1, "Content-Type: text/plain\r\n\r\nhel", 5);
        record(o, Records.STDERR, 1, "warn one\nwarn", 3);
        record(o, Records.STDOUT, 2, "not ours", 0);
        record(o, Records.STDOUT, 1, "lo", 0);
        record(o, Records.STDOUT, 1, "", 0);
        record(o, Records.END_REQUEST, 1, "\0\0\0\7\0\0\0\0", 0);
        return o.toByteArray();
    }

    private static void record(ByteArrayOutputStream o, int type, int id, String content, int pad) {
        byte[] c = content.getBytes(StandardCharsets.ISO_8859_1);
        o.writeBytes(new byte[] {1, (byte) type, (byte) (id >> 8), (byte) id, (byte) (c.length >> 8), (byte) c.length, (byte) pad, 0});
        o.writeBytes(c);
        o.writeBytes(new byte[pad]);
    }

    @Test
    void walksTheResponseSplitAtEveryByte() {
        byte[] all = response();
        for (int split = 0; split <= all.length; split++) {
            StringBuilder out = new StringBuilder(), err = new StringBuilder();
            int[] end = {-1, -1};
            RecordReader r = new RecordReader();
            RecordReader.Sink sink = new RecordReader.Sink() {
                @Override public void stderr(ByteBuffer piece) { err.append(StandardCharsets.ISO_8859_1.decode(piece)); }
                @Override public void end(int app, int proto) { end[0] = app; end[1] = proto; }
            };
            ByteBuffer buf = ByteBuffer.allocate(all.length);
            int fed = 0;
            int[] steps = {split, all.length};
            for (int limit : steps) {
                buf.put(all, fed, limit - fed);
                fed = limit;
                buf.flip();
                int n;
                while ((n = r.next(buf, sink)) > 0) {
                    byte[] got = new byte[n];
                    buf.get(buf.position(), got);
                    out.append(new String(got, StandardCharsets.ISO_8859_1));
                    r.consume(buf, n);
                }
                assertThat(n).isNotEqualTo(RecordReader.FAILED);
                buf.compact();
            }
            assertThat(out.toString()).as("split at %d", split).isEqualTo("Content-Type: text/plain\r\n\r\nhello");
            assertThat(err.toString()).isEqualTo("warn one\nwarn");
            assertThat(end).containsExactly(7, Records.REQUEST_COMPLETE);
            assertThat(r.ended()).isTrue();
            assertThat(buf.position()).isZero();
        }
    }

    /**
     * The look-ahead finds the response whole only once END_REQUEST and its padding are in the buffer, counts only
     * this request's STDOUT bytes, consumes nothing, and works from mid-record (after the CGI head was taken).
     */
    @Test
    void looksAheadForAWholeResponseAtEverySplit() {
        byte[] all = response();
        RecordReader.Sink none = new RecordReader.Sink() {
            @Override public void stderr(ByteBuffer piece) { }
            @Override public void end(int app, int proto) { }
        };
        for (int split = 0; split <= all.length; split++) {
            ByteBuffer buf = ByteBuffer.wrap(all, 0, split);
            RecordReader r = new RecordReader();
            assertThat(r.wholeStdout(buf)).as("split at %d", split).isEqualTo(split == all.length ? 33 : -1);
            assertThat(buf.position()).isZero();
        }
        // From inside the first STDOUT record, as after the head: the rest of it, and "lo".
        ByteBuffer buf = ByteBuffer.wrap(all);
        RecordReader r = new RecordReader();
        assertThat(r.next(buf, none)).isEqualTo(31);
        r.consume(buf, 28); // "Content-Type: text/plain\r\n\r\n"
        int at = buf.position();
        assertThat(r.wholeStdout(buf)).isEqualTo(5);
        assertThat(buf.position()).isEqualTo(at);
        assertThat(r.wholeStdout(ByteBuffer.wrap(all, 0, all.length - 1).position(at))).isEqualTo(-1);
        // Something that is not FastCGI is never "whole".
        assertThat(new RecordReader().wholeStdout(ByteBuffer.wrap("HTTP/1.1 200 OK\r\n\r\n".getBytes(StandardCharsets.US_ASCII))))
                .isEqualTo(-1);
    }

    @Test
    void somethingThatIsNotFastCgiFails() {
        ByteBuffer b = ByteBuffer.wrap("HTTP/1.1 200 OK\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        RecordReader r = new RecordReader();
        assertThat(r.next(b, new RecordReader.Sink() {
            @Override public void stderr(ByteBuffer piece) { }
            @Override public void end(int app, int proto) { }
        })).isEqualTo(RecordReader.FAILED);
        assertThat(r.failure()).contains("version");
    }
}
