package flash.hardening;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32;

/**
 * Self-checking file contents: a first line {@code FLASH <label> <length> <crc32>\n} followed by a payload derived
 * from the label. A body either verifies whole (and says which version it is) or it was cut, mixed or desynchronised.
 */
final class Content {
    private Content() { }

    static byte[] make(String label, int payloadBytes) {
        byte[] payload = new byte[payloadBytes];
        long x = label.hashCode() * 0x9E3779B97F4A7C15L + 1;
        for (int i = 0; i < payload.length; i++) {
            x ^= x << 13; x ^= x >>> 7; x ^= x << 17;
            payload[i] = (byte) ('a' + (x & 15));
        }
        CRC32 crc = new CRC32();
        crc.update(payload);
        byte[] head = ("FLASH " + label + " " + payloadBytes + " " + Long.toHexString(crc.getValue()) + "\n")
                .getBytes(StandardCharsets.US_ASCII);
        byte[] all = Arrays.copyOf(head, head.length + payload.length);
        System.arraycopy(payload, 0, all, head.length, payload.length);
        return all;
    }

    /** The label of a body that verifies whole, or null if it does not. */
    static String verify(byte[] body) {
        int nl = -1;
        for (int i = 0; i < Math.min(body.length, 200); i++) if (body[i] == '\n') { nl = i; break; }
        if (nl < 0) return null;
        String[] f = new String(body, 0, nl, StandardCharsets.US_ASCII).split(" ");
        if (f.length != 4 || !f[0].equals("FLASH")) return null;
        int len;
        try {
            len = Integer.parseInt(f[2]);
        } catch (NumberFormatException e) {
            return null;
        }
        if (body.length - nl - 1 != len) return null;
        CRC32 crc = new CRC32();
        crc.update(body, nl + 1, len);
        return Long.toHexString(crc.getValue()).equals(f[3]) ? f[1] : null;
    }
}
