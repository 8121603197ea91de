package flash.http;

import java.nio.charset.StandardCharsets;

/**
 * The method names and header field names nearly every request carries, as shared strings: a head that spells one
 * exactly (same case) gets the constant instead of a new String and its byte array. Names keep the case they came
 * in, so a name in another case is still a new String.
 */
final class KnownTokens {
    private static final String[] METHODS = {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"};
    private static final String[] FIELDS = {
            "Host", "host", "User-Agent", "user-agent", "Accept", "accept", "Accept-Encoding", "accept-encoding",
            "Accept-Language", "accept-language", "Connection", "connection", "Cookie", "cookie", "Referer", "referer",
            "Content-Length", "content-length", "Content-Type", "content-type", "Cache-Control", "cache-control",
            "If-None-Match", "if-none-match", "If-Modified-Since", "if-modified-since", "Range", "range",
            "Upgrade-Insecure-Requests", "Origin", "origin", "Pragma", "Priority", "priority", "Authorization",
            "Sec-Fetch-Site", "Sec-Fetch-Mode", "Sec-Fetch-Dest", "Sec-Fetch-User", "sec-fetch-site", "sec-fetch-mode",
            "sec-fetch-dest", "sec-fetch-user", "Transfer-Encoding", "Expect", "X-Forwarded-For", "X-Real-IP",
            "X-Forwarded-Proto", "Forwarded", "DNT", "TE", "Upgrade", "Via", "Keep-Alive"};
    private static final int MAX = 32;
    /** By length: the known tokens of that length. */
    private static final String[][] METHODS_BY_LENGTH = byLength(METHODS);
    private static final String[][] FIELDS_BY_LENGTH = byLength(FIELDS);

    private KnownTokens() {}

    /** {@code h[from, from+len)} as a string: the shared one when it is a known method. */
    static String method(byte[] h, int from, int len) {
        return lookup(METHODS_BY_LENGTH, h, from, len);
    }

    /** {@code h[from, from+len)} as a string: the shared one when it is a known field name in that case. */
    static String fieldName(byte[] h, int from, int len) {
        return lookup(FIELDS_BY_LENGTH, h, from, len);
    }

    private static String lookup(String[][] table, byte[] h, int from, int len) {
        if (len < MAX) {
            for (String known : table[len]) if (same(known, h, from, len)) return known;
        }
        return new String(h, from, len, StandardCharsets.US_ASCII);
    }

    private static boolean same(String known, byte[] h, int from, int len) {
        for (int i = 0; i < len; i++) if (known.charAt(i) != (h[from + i] & 0xff)) return false;
        return true;
    }

    private static String[][] byLength(String[] tokens) {
        String[][] t = new String[MAX][];
        for (int len = 0; len < MAX; len++) {
            int n = 0;
            for (String s : tokens) if (s.length() == len) n++;
            t[len] = new String[n];
            n = 0;
            for (String s : tokens) if (s.length() == len) t[len][n++] = s;
        }
        return t;
    }
}
