package flash.http;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Field values a thread parsed lately, given again as the same String when their bytes come again. A browser sends
 * the same User-Agent, Accept, Accept-Language, Accept-Encoding and Sec-Fetch fields with every request, and clients
 * share most of them: a new String for each was most of what parsing a browser's request allocated (about 900 of its
 * 1,184 bytes), and the young generation is collected at the rate the loops allocate (docs/performance.md, sections
 * 26 and 50). Direct-mapped by a hash of the bytes; a value found again is marked, and a marked one is not replaced
 * by the first newcomer to its slot (a Referer or If-None-Match that changes with every request), only unmarked.
 * One per platform thread: event loops parse for thousands of connections; a virtual thread is one connection, and
 * would keep a cache per connection, so it has none.
 */
final class RecentFieldValues {
    static final int SLOTS = 64;
    /** Longer values are not kept: a cookie or a token, which rarely repeats and would hold memory in every slot. */
    static final int MAX_LENGTH = 256;

    private final byte[][] bytes = new byte[SLOTS][];
    private final String[] values = new String[SLOTS];
    private final boolean[] foundAgain = new boolean[SLOTS];

    private static final ThreadLocal<RecentFieldValues> PER_THREAD = ThreadLocal.withInitial(RecentFieldValues::new);

    /** This thread's cache, or null on a virtual thread (see the class). */
    static RecentFieldValues forThisThread() {
        return Thread.currentThread().isVirtual() ? null : PER_THREAD.get();
    }

    /** The value {@code h[from, from + length)} (ISO-8859-1). */
    String value(byte[] h, int from, int length) {
        return value(h, from, length, sample(h, from, length));
    }

    /**
     * A hash of the value's length and four of its bytes: a hash of every byte, one multiply after another, cost more
     * than the collections it saved (about 1.5% more CPU a browser's request). Values it cannot tell apart share a
     * slot, and the comparison of their bytes tells them apart.
     */
    static int sample(byte[] h, int from, int length) {
        if (length == 0) return 0;
        int last = from + length - 1;
        return (((length * 31 + h[from]) * 31 + h[last]) * 31 + h[from + length / 2]) * 31 + h[from + length / 4];
    }

    /** As {@link #value(byte[], int, int)}, with the slot chosen by {@code hash} (tests). */
    String value(byte[] h, int from, int length, int hash) {
        int slot = (hash ^ (hash >>> 16)) & (SLOTS - 1);
        byte[] b = bytes[slot];
        if (b != null && b.length == length && Arrays.equals(b, 0, length, h, from, from + length)) {
            foundAgain[slot] = true;
            return values[slot];
        }
        String v = new String(h, from, length, StandardCharsets.ISO_8859_1);
        if (length <= MAX_LENGTH) {
            if (foundAgain[slot]) {
                foundAgain[slot] = false; // kept this time; replaced by the next newcomer unless found again first
            } else {
                bytes[slot] = Arrays.copyOfRange(h, from, from + length);
                values[slot] = v;
            }
        }
        return v;
    }
}
