package flash.config;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Response headers for the paths that match {@code pattern} (a config file's {@code [[headers]]} table): each
 * header of {@code set} replaces any the handler produced under that name; each name in {@code remove} is dropped.
 * The pattern is a normalised URL path in which {@code *} stands for any run of characters, '/' included:
 * {@code /assets/*} matches every path under /assets/, {@code *.css} every CSS file, {@code /} only the root.
 */
public record HeaderRule(String pattern, Map<String, String> set, List<String> remove) {
    public HeaderRule {
        if (pattern.isEmpty() || (pattern.charAt(0) != '/' && pattern.charAt(0) != '*')) {
            throw new IllegalArgumentException("path pattern must start with '/' or '*', not '" + pattern + "'");
        }
        set = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(set));
        remove = List.copyOf(remove);
        for (var e : set.entrySet()) {
            checkName(e.getKey());
            String v = e.getValue();
            for (int i = 0; i < v.length(); i++) {
                char c = v.charAt(i);
                if (c == '\r' || c == '\n' || c == 0 || c > 0xff) {
                    throw new IllegalArgumentException("header '" + e.getKey() + "' has a character not allowed in a field value");
                }
            }
        }
        for (String n : remove) checkName(n);
    }

    private static void checkName(String n) {
        if (n.isEmpty()) throw new IllegalArgumentException("empty header name");
        for (int i = 0; i < n.length(); i++) {
            char c = n.charAt(i);
            boolean tchar = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
            if (!tchar) throw new IllegalArgumentException("'" + n + "' is not a valid header name");
        }
        String lower = n.toLowerCase(java.util.Locale.ROOT);
        if (lower.equals("content-length") || lower.equals("transfer-encoding") || lower.equals("connection")) {
            // the connection frames the body with these: a rule that changed them would corrupt the response
            throw new IllegalArgumentException("'" + n + "' frames the response and cannot be set by a rule");
        }
    }

    /** Whether a normalised path matches the pattern ('*' matches any run of characters). */
    public boolean matches(String path) { return glob(pattern, 0, path, 0); }

    private static boolean glob(String p, int pi, String s, int si) {
        while (pi < p.length()) {
            char c = p.charAt(pi);
            if (c == '*') {
                while (pi < p.length() && p.charAt(pi) == '*') pi++;
                if (pi == p.length()) return true;
                for (int k = si; k <= s.length(); k++) if (glob(p, pi, s, k)) return true;
                return false;
            }
            if (si >= s.length() || s.charAt(si) != c) return false;
            pi++;
            si++;
        }
        return si == s.length();
    }
}
