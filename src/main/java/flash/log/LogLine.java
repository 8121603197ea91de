package flash.log;

/**
 * A reusable byte buffer one log line is formatted into, one per thread, so that logging an exchange allocates
 * nothing once it has grown. Text is ISO-8859-1 (as header values are); the escapes keep every line on one line
 * and the JSON pure ASCII.
 */
final class LogLine {
    private static final byte[] HEX = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private byte[] buf = new byte[512];
    private int len;

    LogLine reset() {
        len = 0;
        return this;
    }

    byte[] bytes() { return buf; }
    int length() { return len; }

    private void ensure(int n) {
        if (len + n > buf.length) buf = java.util.Arrays.copyOf(buf, Math.max(buf.length * 2, len + n));
    }

    LogLine ascii(String s) {
        ensure(s.length());
        for (int i = 0; i < s.length(); i++) buf[len++] = (byte) s.charAt(i);
        return this;
    }

    LogLine bytes(byte[] b) {
        ensure(b.length);
        System.arraycopy(b, 0, buf, len, b.length);
        len += b.length;
        return this;
    }

    LogLine ch(char c) {
        ensure(1);
        buf[len++] = (byte) c;
        return this;
    }

    LogLine number(long v) {
        if (v < 0) {
            ch('-');
            v = -v;
        }
        ensure(20);
        int start = len;
        do {
            buf[len++] = (byte) ('0' + v % 10);
            v /= 10;
        } while (v > 0);
        for (int i = start, j = len - 1; i < j; i++, j--) {
            byte t = buf[i];
            buf[i] = buf[j];
            buf[j] = t;
        }
        return this;
    }

    /** Nanoseconds as milliseconds with three decimals ("12.345"). */
    LogLine millis(long nanos) {
        long micros = Math.max(0, nanos) / 1_000;
        number(micros / 1_000).ch('.');
        long frac = micros % 1_000;
        ensure(3);
        buf[len++] = (byte) ('0' + frac / 100);
        buf[len++] = (byte) ('0' + frac / 10 % 10);
        buf[len++] = (byte) ('0' + frac % 10);
        return this;
    }

    /**
     * nginx's escaping for its quoted log fields: '"', '\' and every byte outside printable ASCII become \xHH, so
     * a header value cannot end the field or the line.
     */
    LogLine clf(String s) {
        ensure(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
                ensure(4 + s.length() - i);
                buf[len++] = '\\';
                buf[len++] = 'x';
                buf[len++] = HEX[(c >> 4) & 0xf];
                buf[len++] = HEX[c & 0xf];
            } else {
                buf[len++] = (byte) c;
            }
        }
        return this;
    }

    /** A JSON string literal, or null; everything outside printable ASCII as \\u00XX (RFC 8259). */
    LogLine json(String s) {
        if (s == null) return ascii("null");
        ensure(s.length() + 2);
        buf[len++] = '"';
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                ensure(2 + s.length() - i);
                buf[len++] = '\\';
                buf[len++] = (byte) c;
            } else if (c < 0x20 || c >= 0x7f) {
                ensure(7 + s.length() - i);
                buf[len++] = '\\';
                buf[len++] = 'u';
                buf[len++] = HEX[(c >> 12) & 0xf];
                buf[len++] = HEX[(c >> 8) & 0xf];
                buf[len++] = HEX[(c >> 4) & 0xf];
                buf[len++] = HEX[c & 0xf];
            } else {
                buf[len++] = (byte) c;
            }
        }
        ensure(1);
        buf[len++] = '"';
        return this;
    }
}
