package flash.handlers;

import flash.config.ProxyRoute;
import flash.pipeline.Exchange;
import flash.pipeline.Handler;
import flash.upstream.UpstreamGroup;

/**
 * {@code --proxy PREFIX=URL[,URL...]}: every method goes to the route's upstreams, over pooled HTTP/1.1
 * connections on the client connection's own driver. Each request becomes a {@link ProxyExchange}.
 */
public final class ProxyHandler implements Handler {
    /** What every exchange of this route shares: the rewrite rule, the upstreams and the limits. */
    record Settings(String prefix, String path, UpstreamGroup group, int keepalive, long connectTimeoutNanos,
                    long timeoutNanos, long tunnelTimeoutNanos) {}

    private final Settings settings;

    public ProxyHandler(ProxyRoute route, UpstreamGroup group, int keepalive, long connectTimeoutNanos,
                        long timeoutNanos, long tunnelTimeoutNanos) {
        this.settings = new Settings(route.prefix(), route.path(), group, keepalive, connectTimeoutNanos, timeoutNanos,
                tunnelTimeoutNanos);
    }

    @Override
    public void handle(Exchange ex) {
        new ProxyExchange(ex, settings).start();
    }

    /**
     * The target to send upstream: unchanged without a path; else PREFIX replaced by the path, as nginx's
     * proxy_pass with a URI does. Routing matched the normalised path; the raw target keeps the client's encoding
     * when it starts with the prefix, otherwise the normalised path is re-encoded.
     */
    static String target(Settings s, flash.http.Request req, flash.http.RequestTarget.Normalized normalized) {
        if (s.path() == null) return req.target().startsWith("/") ? req.target() : originForm(req);
        String raw = req.rawPath();
        String rest = raw.startsWith(s.prefix()) ? raw.substring(s.prefix().length())
                : flash.http.RequestTarget.encodePath(normalized.path()).substring(Math.min(s.prefix().length(),
                        flash.http.RequestTarget.encodePath(normalized.path()).length()));
        String path = s.path() + rest;
        if (path.startsWith("//")) path = path.substring(1);
        return req.query() == null ? path : path + "?" + req.query();
    }

    /** An absolute-form target (a request meant for a proxy) is sent on in origin form. */
    private static String originForm(flash.http.Request req) {
        return req.query() == null ? req.rawPath() : req.rawPath() + "?" + req.query();
    }
}
