package flash.config;

import java.util.List;

/**
 * How the static site answers beyond "the file at the path": Cache-Control per path glob, custom error pages, a
 * fallback for paths that do not exist (single-page apps, front controllers), which dot-names may be served, and
 * extra media types. One component of {@link ServerConfig}; every default is declared here.
 *
 * @param cacheControl  first matching rule wins (--cache-control)
 * @param errorPages    at most one per status (--error-page)
 * @param fallback      URL path served for GET/HEAD of a path that does not exist, or null (--fallback)
 * @param dotfilesAllow URL path prefixes whose dot-names are served even without --dotfiles (--dotfiles-allow)
 * @param mime          extensions added to (or overriding) the built-in table (--mime)
 */
public record SiteRules(List<CacheControlRule> cacheControl, List<ErrorPageRule> errorPages, String fallback,
                        List<String> dotfilesAllow, List<MimeRule> mime) {
    /** ACME (RFC 8555) HTTP-01 challenges and other RFC 8615 well-known URIs are served out of the box. */
    public static final List<String> DEFAULT_DOTFILES_ALLOW = List.of("/.well-known/");

    public static final SiteRules DEFAULTS = new SiteRules(List.of(), List.of(), null, DEFAULT_DOTFILES_ALLOW, List.of());

    public SiteRules {
        cacheControl = List.copyOf(cacheControl);
        errorPages = List.copyOf(errorPages);
        dotfilesAllow = List.copyOf(dotfilesAllow);
        mime = List.copyOf(mime);
    }

    public SiteRules withCacheControl(List<CacheControlRule> v) { return new SiteRules(v, errorPages, fallback, dotfilesAllow, mime); }
    public SiteRules withErrorPages(List<ErrorPageRule> v) { return new SiteRules(cacheControl, v, fallback, dotfilesAllow, mime); }
    public SiteRules withFallback(String v) { return new SiteRules(cacheControl, errorPages, v, dotfilesAllow, mime); }
    public SiteRules withDotfilesAllow(List<String> v) { return new SiteRules(cacheControl, errorPages, fallback, v, mime); }
    public SiteRules withMime(List<MimeRule> v) { return new SiteRules(cacheControl, errorPages, fallback, dotfilesAllow, v); }

    /** The Cache-Control value for a path, or null. */
    public String cacheControlFor(String normalizedPath) {
        for (CacheControlRule r : cacheControl) if (r.matches(normalizedPath)) return r.value();
        return null;
    }

    /** The error page path for a status, or null. */
    public String errorPageFor(int status) {
        for (ErrorPageRule r : errorPages) if (r.status() == status) return r.path();
        return null;
    }

    /** Whether the rules change any response at all: when not, the static handler runs exactly as before. */
    public boolean shapesResponses() { return !cacheControl.isEmpty() || !errorPages.isEmpty() || fallback != null; }

    /**
     * A path given on the command line that names a file under the root: starts with '/', no query, no '..' or '.'
     * segments, no '%' escapes, no control characters.
     */
    static boolean plainPath(String p) {
        if (!p.startsWith("/") || p.contains("?") || p.contains("#") || p.contains("%") || p.contains("\\") || p.contains("//")) return false;
        for (String seg : p.substring(1).split("/", -1)) if (seg.equals("..") || seg.equals(".")) return false;
        for (int i = 0; i < p.length(); i++) if (p.charAt(i) < 0x21 || p.charAt(i) == 0x7f) return false;
        return true;
    }

    /** Parses a --fallback value. */
    public static String parseFallback(String p) {
        if (!plainPath(p) || p.endsWith("/")) {
            throw new IllegalArgumentException("--fallback must be the URL path of a file such as /index.html, not '" + p + "'");
        }
        return p;
    }

    /** Parses a --dotfiles-allow value: a URL path prefix. */
    public static String parseDotfilesAllow(String p) {
        if (!plainPath(p) || p.equals("/")) {
            throw new IllegalArgumentException("--dotfiles-allow must be a URL path prefix such as /.well-known/, not '" + p + "'");
        }
        return p;
    }
}
