package flash.http;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Request field values a thread parsed lately, given again as the same String when their bytes come again. A browser
 * sends the same User-Agent, Accept, Accept-Language, Accept-Encoding and Sec-Fetch fields with every request, and
 * clients share most of them: a new String for each was most of what parsing a browser's request allocated (about
 * 900 of its 1,208 bytes), and the young generation is collected at the rate the loops allocate (docs/performance.md,
 * sections 26 and 50).
 *
 * <p>Up to {@link #SLOTS} values in sets of two, chosen by a hash of the value's length and six of its bytes. Once
 * both places of its set are taken, a value is kept the second time its hash comes to the set (the set remembers the
 * last four hashes it did not keep, so newcomers taking turns are kept too), and a value seen once (a request id, a
 * changing Referer) costs its String and no copy. A value kept or found again is marked, and a newcomer takes only a
 * place not marked since the last newcomer, the less recent first: values a client sends with every request stay.
 * At most about 36 KiB a thread ({@link #MAX_LENGTH}-byte values in every place, as copy and String). The arrays
 * are written one after the other: a cache must stay with its thread.
 * One per platform thread: event loops parse for thousands of connections; a virtual thread is one connection, and
 * would keep a cache per connection, so it has none.
 */
final class RecentFieldValues {
    static final int SLOTS = 64;
    /** Longer values are not kept: a cookie or a token, which rarely repeats and would hold memory in every place. */
    static final int MAX_LENGTH = 256;

    static final int SETS = SLOTS / 2;
    /** Hashes a set remembers of values it did not keep: three newcomers taking turns (two kept) need three. */
    static final int SEEN = 4;

    private final byte[][] bytes = new byte[SLOTS][];
    private final String[] values = new String[SLOTS];
    private final boolean[] foundAgain = new boolean[SLOTS];
    private final int[] seenHashes = new int[SEEN * SETS]; // by set: hashes of the last values seen there, not kept
    private final byte[] seenTurn = new byte[SETS];         // which of a set's the next one replaces
    private final byte[] recent = new byte[SETS];           // the place of a set last found or filled (0 or 1)

    private static final ThreadLocal<RecentFieldValues> PER_THREAD = ThreadLocal.withInitial(RecentFieldValues::new);

    /** This thread's cache, or null on a virtual thread (see the class). */
    static RecentFieldValues forThisThread() {
        return Thread.currentThread().isVirtual() ? null : PER_THREAD.get();
    }

    /**
     * Whether a field's values stay out of the cache: credentials and cookies, which are one user's, would otherwise
     * outlive their request in every loop's heap.
     */
    static boolean neverKept(String name) {
        return switch (name.length()) {
            case 6 -> name.equalsIgnoreCase("cookie");
            case 13 -> name.equalsIgnoreCase("authorization");
            case 19 -> name.equalsIgnoreCase("proxy-authorization");
            default -> false;
        };
    }

    /** The value {@code h[from, from + length)} (ISO-8859-1). */
    String value(byte[] h, int from, int length) {
        return value(h, from, length, sample(h, from, length));
    }

    /**
     * A hash of the value's length and six of its bytes (the first, the last three, where a counter or a path
     * differs, and two inside, where a token does): a hash of every byte, one multiply after another, cost more
     * than the collections it saved (about 1.5% more CPU a browser's request, section 50). Values it cannot tell
     * apart share a set, and the comparison of their bytes tells them apart; one it takes for a value seen before
     * is copied a sighting early.
     */
    static int sample(byte[] h, int from, int length) {
        if (length == 0) return 0;
        int last = from + length - 1;
        int x = (length * 31 + h[from]) * 31 + h[last];
        x = (x * 31 + h[Math.max(from, last - 1)]) * 31 + h[Math.max(from, last - 2)];
        return (x * 31 + h[from + length / 2]) * 31 + h[from + length / 4];
    }

    /** As {@link #value(byte[], int, int)}, with the set chosen by {@code hash} (tests). */
    String value(byte[] h, int from, int length, int hash) {
        int set = (hash ^ (hash >>> 16)) & (SETS - 1);
        int w0 = 2 * set;
        if (holds(w0, h, from, length)) return found(set, w0);
        if (holds(w0 + 1, h, from, length)) return found(set, w0 + 1);
        String v = new String(h, from, length, StandardCharsets.ISO_8859_1);
        if (length > MAX_LENGTH) return v;
        int victim = place(set);
        boolean seen = seen(set, hash);
        if (victim >= 0 && (bytes[victim] == null || seen)) {
            bytes[victim] = Arrays.copyOfRange(h, from, from + length); // a free place, or the second sighting
            values[victim] = v;
            foundAgain[victim] = true; // a newcomer's grace: not taken by the next one before it is asked for again
            recent[set] = (byte) (victim - w0);
            return v;
        }
        if (victim < 0) foundAgain[w0] = foundAgain[w0 + 1] = false; // both kept this time
        if (!seen) {
            seenHashes[SEEN * set + seenTurn[set]] = hash;
            seenTurn[set] = (byte) ((seenTurn[set] + 1) % SEEN);
        }
        return v;
    }

    private boolean holds(int way, byte[] h, int from, int length) {
        byte[] b = bytes[way];
        return b != null && b.length == length && Arrays.equals(b, 0, length, h, from, from + length);
    }

    private String found(int set, int way) {
        foundAgain[way] = true;
        recent[set] = (byte) (way & 1);
        return values[way];
    }

    /** Where a newcomer to {@code set} may go: a free place, else one not found again, the older first; or -1. */
    private int place(int set) {
        int w0 = 2 * set;
        if (bytes[w0] == null) return w0;
        if (bytes[w0 + 1] == null) return w0 + 1;
        int older = w0 + (recent[set] ^ 1);
        if (!foundAgain[older]) return older;
        int newer = older ^ 1;
        return foundAgain[newer] ? -1 : newer;
    }

    /** Whether {@code hash} is one of the last {@link #SEEN} seen in {@code set} and not kept. */
    private boolean seen(int set, int hash) {
        for (int i = SEEN * set, end = i + SEEN; i < end; i++) if (seenHashes[i] == hash) return true;
        return false;
    }
}
