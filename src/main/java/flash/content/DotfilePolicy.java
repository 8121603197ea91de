package flash.content;

import flash.http.RequestTarget;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Which names starting with '.' may be served. Without {@code --dotfiles} none may, except under an allowed prefix
 * ({@code --dotfiles-allow}, {@code /.well-known/} by default, for ACME HTTP-01 challenges); with it, all may. In
 * both cases the names that hold secrets or history stay hidden (404) wherever they appear: {@code .git},
 * {@code .env} and {@code .env.*}, {@code .htpasswd}, {@code .svn}, {@code .hg}. Segment-wise: an allowed prefix
 * {@code /.well-known/} covers the dot-segment {@code .well-known} itself, not a dot-name below it
 * ({@code /.well-known/.secret} stays hidden unless allowed too).
 */
public final class DotfilePolicy {
    private final boolean all;
    private final List<List<String>> allowed; // each prefix as its segments

    public DotfilePolicy(boolean all, List<String> allowPrefixes) {
        this.all = all;
        List<List<String>> a = new ArrayList<>();
        for (String p : allowPrefixes) {
            List<String> segs = new ArrayList<>();
            for (String s : p.split("/")) if (!s.isEmpty()) segs.add(s);
            a.add(List.copyOf(segs));
        }
        this.allowed = List.copyOf(a);
    }

    /** Whether any segment of the path is one of the always-hidden names. */
    public static boolean hasHiddenSegment(RequestTarget.Normalized target) {
        if (!target.hasDotSegment()) return false;
        for (String s : target.segments()) if (s.startsWith(".") && alwaysHidden(s)) return true;
        return false;
    }

    /** Whether a normalised path may be served as far as dot-names go. */
    public boolean allows(RequestTarget.Normalized target) {
        if (!target.hasDotSegment()) return true;
        List<String> segs = target.segments();
        for (String s : segs) if (s.startsWith(".") && alwaysHidden(s)) return false;
        if (all) return true;
        int covered = 0; // leading segments covered by the longest allowed prefix
        for (List<String> prefix : allowed) {
            if (prefix.size() <= segs.size() && prefix.size() > covered && segs.subList(0, prefix.size()).equals(prefix)) {
                covered = prefix.size();
            }
        }
        for (int i = covered; i < segs.size(); i++) if (segs.get(i).startsWith(".")) return false;
        return true;
    }

    /** Secrets and version-control history: never served, whatever the options say. */
    public static boolean alwaysHidden(String segment) {
        String s = segment.toLowerCase(Locale.ROOT);
        return s.equals(".git") || s.equals(".env") || s.startsWith(".env.") || s.equals(".htpasswd")
                || s.equals(".svn") || s.equals(".hg");
    }
}
