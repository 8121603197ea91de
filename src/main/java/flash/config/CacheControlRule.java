package flash.config;

import java.util.regex.Pattern;

/**
 * One {@code --cache-control GLOB=VALUE} rule: static responses (200, 206, 304) whose URL path matches GLOB carry
 * {@code Cache-Control: VALUE}. The glob is matched against the whole normalised (percent-decoded) path:
 * {@code *} matches within one segment (never a '/'), {@code **} matches across segments, {@code ?} is one character
 * other than '/'; everything else is literal. So {@code /assets/*} matches {@code /assets/app.js} but not
 * {@code /assets/img/x.png}, which {@code /assets/**} matches.
 */
public record CacheControlRule(String glob, String value, Pattern pattern) {
    public static CacheControlRule parse(String spec) {
        int eq = spec.indexOf('=');
        if (eq <= 0 || eq == spec.length() - 1) {
            throw new IllegalArgumentException("--cache-control expects GLOB=VALUE, not '" + spec + "'");
        }
        String glob = spec.substring(0, eq);
        String value = spec.substring(eq + 1).strip();
        if (!glob.startsWith("/")) throw new IllegalArgumentException("--cache-control glob must start with '/', not '" + glob + "'");
        if (value.isEmpty()) throw new IllegalArgumentException("--cache-control " + glob + ": the value is empty");
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x20 && c != '\t' || c >= 0x7f) {
                throw new IllegalArgumentException("--cache-control " + glob + ": the value may hold printable ASCII only");
            }
        }
        return new CacheControlRule(glob, value, compile(glob));
    }

    public boolean matches(String normalizedPath) { return pattern.matcher(normalizedPath).matches(); }

    /** The flag value (for mp workers, which get the configuration as arguments). */
    public String spec() { return glob + "=" + value; }

    static Pattern compile(String glob) {
        StringBuilder re = new StringBuilder();
        StringBuilder lit = new StringBuilder();
        for (int i = 0; i < glob.length(); i++) {
            char c = glob.charAt(i);
            if (c == '*' || c == '?') {
                if (!lit.isEmpty()) {
                    re.append(Pattern.quote(lit.toString()));
                    lit.setLength(0);
                }
                if (c == '?') re.append("[^/]");
                else if (i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
                    re.append(".*");
                    i++;
                } else re.append("[^/]*");
            } else {
                lit.append(c);
            }
        }
        if (!lit.isEmpty()) re.append(Pattern.quote(lit.toString()));
        return Pattern.compile(re.toString(), Pattern.DOTALL);
    }
}
