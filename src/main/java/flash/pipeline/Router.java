package flash.pipeline;

import java.util.List;

/**
 * The ordered route table: the first route whose path matches the request's normalised path chooses the handler;
 * the fallback (static files) takes the rest. Built from the configuration, at start and on
 * each reload; never changed once built.
 */
public final class Router {
    /**
     * {@code exact}: only this path (the status page); otherwise a prefix, matched as nginx's {@code location}
     * prefix is: {@code /api/} matches {@code /api/x}, and {@code /api} matches {@code /api}, {@code /api/x} and
     * {@code /apix}.
     */
    public record Route(String path, boolean exact, Handler handler) {
        boolean matches(String p) { return exact ? p.equals(path) : p.startsWith(path); }
    }

    private final Route[] routes;
    private final Handler fallback;
    private final HeaderRules headers; // null: no [[headers]] rules for this table

    public Router(List<Route> routes, Handler fallback) {
        this(routes, fallback, null);
    }

    public Router(List<Route> routes, Handler fallback, HeaderRules headers) {
        this.routes = routes.toArray(Route[]::new);
        this.fallback = fallback;
        this.headers = headers;
    }

    /** The response-header rules of this table's site, or null. */
    public HeaderRules headers() { return headers; }

    /** The route for a normalised path; null means the fallback. */
    public Route route(String normalizedPath) {
        for (Route r : routes) if (r.matches(normalizedPath)) return r;
        return null;
    }

    public Handler fallback() { return fallback; }

    public Handler handler(String normalizedPath) {
        Route r = route(normalizedPath);
        return r == null ? fallback : r.handler();
    }
}
