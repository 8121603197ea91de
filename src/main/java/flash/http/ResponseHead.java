package flash.http;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Builds a response head as bytes. Fixed fields (Server, Date) come first so a cached head can have its
 * Date patched in place at {@link #DATE_OFFSET_AFTER_STATUS} without re-encoding.
 */
public final class ResponseHead {
    public static final String SERVER = "flash";
    private static final byte[] SERVER_LINE = ("Server: " + SERVER + "\r\n").getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DATE_NAME = "Date: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CRLF = {'\r', '\n'};
    /** Offset of the Date value, counted from the end of the status line. */
    public static final int DATE_OFFSET_AFTER_STATUS = SERVER_LINE.length + DATE_NAME.length;

    private byte[] buf = new byte[256];
    private int len;
    private int dateOffset;

    public ResponseHead(Status status, boolean http10) {
        append(status.statusLine(http10));
        serverAndDate();
    }

    /** A head for any status code (a proxied response may carry one Flash never generates itself). */
    public ResponseHead(int code, String reason, boolean http10) {
        append(((http10 ? "HTTP/1.0 " : "HTTP/1.1 ") + code + " ").getBytes(StandardCharsets.US_ASCII));
        header0(reason);
        serverAndDate();
    }

    private void header0(String reason) {
        ensure(reason.length() + 2);
        for (int i = 0; i < reason.length(); i++) {
            char c = reason.charAt(i);
            buf[len++] = (byte) (c < 0x20 || c > 0xff ? '?' : c);
        }
        buf[len++] = '\r';
        buf[len++] = '\n';
    }

    private void serverAndDate() {
        append(SERVER_LINE);
        append(DATE_NAME);
        dateOffset = len;
        append(HttpDate.nowBytes());
        append(CRLF);
    }

    public ResponseHead header(String name, String value) {
        ensure(name.length() + value.length() + 4);
        for (int i = 0; i < name.length(); i++) buf[len++] = (byte) name.charAt(i);
        buf[len++] = ':';
        buf[len++] = ' ';
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            // Never let a CR/LF from a file name or a config value split the head.
            buf[len++] = (byte) (c < 0x20 || c > 0xff ? '?' : c);
        }
        buf[len++] = '\r';
        buf[len++] = '\n';
        return this;
    }

    public ResponseHead header(String name, long value) { return header(name, Long.toString(value)); }

    /**
     * The Connection field, only where the default does not already say it: "close" when this response ends the
     * connection, "keep-alive" for an HTTP/1.0 client that keeps it (1.0 closes by default, 1.1 keeps).
     */
    public ResponseHead connection(boolean http10, boolean close) {
        if (close) return header("Connection", "close");
        if (http10) return header("Connection", "keep-alive");
        return this;
    }

    /** Ends the head; {@code padTo} > 1 pads with a filler header so the head length is a multiple of it. */
    public byte[] finish(int padTo) {
        if (padTo > 1) {
            int total = len + 2;
            int pad = (padTo - total % padTo) % padTo;
            if (pad > 0 && pad < 5) pad += padTo; // "X: \r\n" needs 5 bytes at least
            if (pad > 0) {
                ensure(pad);
                buf[len++] = 'X';
                buf[len++] = ':';
                buf[len++] = ' ';
                for (int i = 0; i < pad - 5; i++) buf[len++] = 'x';
                buf[len++] = '\r';
                buf[len++] = '\n';
            }
        }
        append(CRLF);
        return Arrays.copyOf(buf, len);
    }

    public byte[] finish() { return finish(0); }

    public int dateOffset() { return dateOffset; }

    private void append(byte[] b) {
        ensure(b.length);
        System.arraycopy(b, 0, buf, len, b.length);
        len += b.length;
    }

    private void ensure(int extra) {
        if (len + extra > buf.length) buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + extra));
    }
}
