package flash.fastcgi;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The FastCGI 1.0 record layer, request side: every record is an 8-byte header (version 1, type, request id,
 * content length, padding length, reserved), its content and its padding. We send one request at a time on a
 * connection (php-fpm does not multiplex), so the request id is always {@link #REQUEST_ID}.
 */
public final class Records {
    public static final int VERSION = 1;
    public static final int BEGIN_REQUEST = 1, ABORT_REQUEST = 2, END_REQUEST = 3, PARAMS = 4, STDIN = 5, STDOUT = 6,
            STDERR = 7, DATA = 8, GET_VALUES = 9, GET_VALUES_RESULT = 10, UNKNOWN_TYPE = 11;
    public static final int REQUEST_ID = 1;
    public static final int RESPONDER = 1;
    public static final int KEEP_CONN = 1;
    /** END_REQUEST protocol statuses. */
    public static final int REQUEST_COMPLETE = 0, CANT_MPX_CONN = 1, OVERLOADED = 2, UNKNOWN_ROLE = 3;
    /** The largest content of one record. */
    public static final int MAX_CONTENT = 0xffff;
    public static final int HEADER = 8;

    private Records() {}

    /** Writes a record header for {@code length} bytes of content and no padding. */
    public static void header(ByteBuffer out, int type, int length) {
        out.put((byte) VERSION).put((byte) type).put((byte) 0).put((byte) REQUEST_ID)
                .put((byte) (length >> 8)).put((byte) length).put((byte) 0).put((byte) 0);
    }

    /**
     * BEGIN_REQUEST (responder role, KEEP_CONN when the connection is to be reused), the params as PARAMS records,
     * and the empty PARAMS record that ends them: everything before STDIN, in one buffer (read mode).
     */
    public static ByteBuffer begin(List<String[]> params, boolean keepConn) { return begin(params, keepConn, false); }

    /**
     * As {@link #begin(List, boolean)}, and with {@code endStdin} the empty STDIN record too (a request without a
     * body): the whole request is then one buffer, one write, where two writes would cost a system call each time.
     */
    public static ByteBuffer begin(List<String[]> params, boolean keepConn, boolean endStdin) {
        byte[] pairs = encodePairs(params);
        int records = (pairs.length + MAX_CONTENT - 1) / MAX_CONTENT;
        ByteBuffer b = ByteBuffer.allocate(HEADER + 8 + records * HEADER + pairs.length + HEADER + 7 * records
                + (endStdin ? HEADER : 0));
        header(b, BEGIN_REQUEST, 8);
        b.put((byte) 0).put((byte) RESPONDER).put((byte) (keepConn ? KEEP_CONN : 0)).put(new byte[5]);
        for (int off = 0; off < pairs.length; off += MAX_CONTENT) {
            int n = Math.min(MAX_CONTENT, pairs.length - off);
            int pad = (8 - n % 8) % 8; // aligned records, as the spec recommends
            b.put((byte) VERSION).put((byte) PARAMS).put((byte) 0).put((byte) REQUEST_ID)
                    .put((byte) (n >> 8)).put((byte) n).put((byte) pad).put((byte) 0);
            b.put(pairs, off, n).put(new byte[pad]);
        }
        header(b, PARAMS, 0);
        if (endStdin) header(b, STDIN, 0);
        return b.flip();
    }

    /** Name-value pairs: each length in 1 byte below 128, else in 4 bytes with the top bit set. */
    public static byte[] encodePairs(List<String[]> params) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(1024);
        for (String[] p : params) {
            byte[] name = p[0].getBytes(StandardCharsets.ISO_8859_1);
            byte[] value = p[1].getBytes(StandardCharsets.ISO_8859_1);
            length(out, name.length);
            length(out, value.length);
            out.writeBytes(name);
            out.writeBytes(value);
        }
        return out.toByteArray();
    }

    private static void length(ByteArrayOutputStream out, int n) {
        if (n < 128) {
            out.write(n);
        } else {
            out.write((n >>> 24) | 0x80);
            out.write(n >>> 16);
            out.write(n >>> 8);
            out.write(n);
        }
    }

    /** An 8-byte STDIN header (read mode) for {@code length} bytes; 0 is the empty record that ends STDIN. */
    public static ByteBuffer stdinHeader(ByteBuffer reuse, int length) {
        reuse.clear();
        header(reuse, STDIN, length);
        return reuse.flip();
    }
}
