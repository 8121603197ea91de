package flash.pipeline;

import flash.config.VirtualHost;
import flash.http.Request;

import java.util.Map;

/**
 * {@code sites}: the static trees built for these tables (virtual hosts, --static routes), so a reload can release
 * their caches.
 * The route tables of a server: one per virtual host, chosen by the request's Host header, and the default one for
 * every other host (and for requests without Host). Immutable: a reload builds a new Routing and swaps it in whole,
 * so an exchange routed by the old one finishes on the old handlers.
 */
public record Routing(Router fallback, Map<String, Router> byHost, java.util.List<StaticSite> sites) {
    public Routing {
        byHost = Map.copyOf(byHost);
        sites = java.util.List.copyOf(sites);
    }

    public static Routing of(Router only) { return new Routing(only, Map.of(), java.util.List.of()); }

    /** Releases the cached files of every site these tables built (once no exchange routed by them is left). */
    public void clear() {
        for (StaticSite s : sites) s.clear();
    }

    /** The table for this request's Host (RFC 9112 section 3.2: an absolute-form target's authority wins). */
    public Router forRequest(Request req) {
        if (byHost.isEmpty() || req == null) return fallback;
        String host = req.header("Host");
        String target = req.target();
        if (target != null && target.regionMatches(true, 0, "http://", 0, 7)) {
            int end = target.indexOf('/', 7);
            host = end < 0 ? target.substring(7) : target.substring(7, end);
        }
        if (host == null) return fallback;
        Router r = byHost.get(VirtualHost.canonical(host));
        return r == null ? fallback : r;
    }
}
