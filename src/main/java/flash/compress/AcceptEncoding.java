package flash.compress;

import java.util.Locale;

/**
 * A parsed Accept-Encoding (RFC 9110 12.5.3) and the choice it makes among the codings on offer.
 *
 * <ul>
 *   <li>Each coding gets its own q, else the q of {@code *}, else 0 (not acceptable): a coding the client did not
 *       name is never sent unless {@code *} allows it.</li>
 *   <li>The highest q wins; among equal q, the server's order ({@link Coding}: br, zstd, gzip).</li>
 *   <li>Identity is always acceptable unless refused ({@code identity;q=0}, or {@code *;q=0} without naming it). When
 *       it is named with a q, it competes with that q and wins only with a strictly higher one
 *       ({@code gzip;q=0.5, identity} gives identity); unnamed, it is the last resort.</li>
 *   <li>No Accept-Encoding field, or an empty one: identity (what nginx and most servers do; RFC 9110 allows any).</li>
 *   <li>Nothing acceptable on offer, identity refused: identity all the same (RFC 9110 allows this or 406; a file the
 *       client can read uncompressed beats an error page it cannot use).</li>
 * </ul>
 */
public final class AcceptEncoding {
    /** q in thousandths per {@link Coding}; -1 when the coding is not named. */
    private final int[] q = new int[Coding.all().length];
    private int star = -1;
    private int identity = -1;

    private AcceptEncoding() {
        java.util.Arrays.fill(q, -1);
    }

    private static final AcceptEncoding IDENTITY_ONLY = new AcceptEncoding();

    public static AcceptEncoding parse(String field) {
        if (field == null || field.isBlank()) return IDENTITY_ONLY;
        AcceptEncoding a = new AcceptEncoding();
        for (String element : field.split(",")) {
            String[] parts = element.split(";");
            String token = parts[0].trim().toLowerCase(Locale.ROOT);
            if (token.isEmpty()) continue;
            int qv = 1000;
            for (int i = 1; i < parts.length; i++) {
                String p = parts[i].trim();
                if (p.length() > 1 && (p.charAt(0) == 'q' || p.charAt(0) == 'Q') && p.substring(1).trim().startsWith("=")) {
                    qv = qvalue(p.substring(p.indexOf('=') + 1).trim());
                }
            }
            if (qv < 0) continue; // a malformed q: the element is ignored rather than guessed at
            if (token.equals("*")) a.star = Math.max(a.star, qv);
            else if (token.equals("identity")) a.identity = Math.max(a.identity, qv);
            else {
                Coding c = Coding.forToken(token);
                if (c != null) a.q[c.ordinal()] = Math.max(a.q[c.ordinal()], qv);
            }
        }
        return a;
    }

    /** RFC 9110 12.4.2 qvalue in thousandths: 0, 0.5, 1, 1.000 ...; -1 when malformed. */
    static int qvalue(String s) {
        if (s.isEmpty() || s.length() > 5) return -1;
        char first = s.charAt(0);
        if (first != '0' && first != '1') return -1;
        int v = (first - '0') * 1000;
        if (s.length() == 1) return v;
        if (s.charAt(1) != '.') return -1;
        int scale = 100;
        for (int i = 2; i < s.length(); i++, scale /= 10) {
            char d = s.charAt(i);
            if (d < '0' || d > '9') return -1;
            v += (d - '0') * scale;
        }
        return v > 1000 ? -1 : v;
    }

    /** The q (thousandths) this client gives {@code c}: named, else {@code *}'s, else 0. */
    public int q(Coding c) {
        int v = q[c.ordinal()];
        if (v >= 0) return v;
        return Math.max(star, 0);
    }

    /**
     * The coding to send among those {@code offered} (indexed by {@link Coding#ordinal()}), or null for identity.
     */
    public Coding choose(boolean[] offered) {
        Coding best = null;
        int bestQ = identity > 0 ? identity - 1 : 0; // a coding must beat a named identity's q or tie it; any q > 0 otherwise
        for (Coding c : Coding.all()) {
            if (!offered[c.ordinal()]) continue;
            int v = q(c);
            if (v > bestQ) {
                best = c;
                bestQ = v;
            }
        }
        return best;
    }
}
