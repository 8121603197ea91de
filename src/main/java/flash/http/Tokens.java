package flash.http;

/** RFC 9110 token characters. */
public final class Tokens {
    private static final boolean[] TCHAR = new boolean[128];
    static {
        for (char c = '0'; c <= '9'; c++) TCHAR[c] = true;
        for (char c = 'a'; c <= 'z'; c++) TCHAR[c] = true;
        for (char c = 'A'; c <= 'Z'; c++) TCHAR[c] = true;
        for (char c : "!#$%&'*+-.^_`|~".toCharArray()) TCHAR[c] = true;
    }

    private Tokens() {}

    public static boolean isTchar(byte b) { return b >= 0 && TCHAR[b]; }

    public static boolean isToken(String s) {
        if (s.isEmpty()) return false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 128 || !TCHAR[c]) return false;
        }
        return true;
    }

    /** 1*DIGIT as a non-negative long, or -1: "+1", "-1", "0x1", " 1", empty and over 18 digits are all refused. */
    public static long parseDigits(String s) {
        if (s.isEmpty() || s.length() > 18) return -1;
        long n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') return -1;
            n = n * 10 + (c - '0');
        }
        return n;
    }
}
