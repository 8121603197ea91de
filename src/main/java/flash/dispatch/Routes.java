package flash.dispatch;

import flash.config.ProxyRoute;
import flash.config.ServerConfig;
import flash.handlers.ProxyHandler;
import flash.upstream.Upstream;
import flash.upstream.UpstreamGroup;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import flash.handlers.StaticHandler;
import flash.handlers.StatusHandler;
import flash.http.RequestTarget;
import flash.pipeline.PipelineContext;
import flash.pipeline.Router;

import java.util.ArrayList;
import java.util.List;

/** Builds the route table from the configuration: the status page, then the configured routes, then static files. */
final class Routes {
    private Routes() {}

    static Router build(ServerConfig config, PipelineContext ctx, ServerMetrics metrics) {
        List<Router.Route> routes = new ArrayList<>();
        if (config.statusPath() != null) {
            Object n = RequestTarget.normalize(config.statusPath());
            String path = n instanceof RequestTarget.Normalized norm ? norm.path() : config.statusPath();
            routes.add(new Router.Route(path, true, new StatusHandler(metrics::render)));
        }
        for (ProxyRoute p : config.proxies()) {
            routes.add(new Router.Route(p.prefix(), false, new ProxyHandler(p, group(p),
                    config.upstreamKeepalive(), config.upstreamConnectTimeout().toNanos(),
                    config.upstreamTimeout().toNanos(), config.tunnelTimeout().toNanos())));
        }
        for (flash.config.CgiRoute c : config.cgis()) {
            routes.add(new Router.Route(flash.cgi.CgiHandler.routePath(c), false,
                    new flash.cgi.CgiHandler(c, config.root(), config.cgiTimeout(), config.limits())));
        }
        return new Router(routes, new StaticHandler(ctx));
    }

    /** Resolves each upstream once, here at start, so DNS never blocks a loop. */
    private static UpstreamGroup group(ProxyRoute p) {
        List<Upstream> ups = new ArrayList<>();
        for (ProxyRoute.Target t : p.targets()) {
            SocketAddress a;
            String authority = t.unixSocket() != null ? "localhost"
                    : (t.host().indexOf(':') >= 0 ? "[" + t.host() + "]" : t.host()) + (t.port() == 80 ? "" : ":" + t.port());
            if (t.unixSocket() != null) {
                a = UnixDomainSocketAddress.of(t.unixSocket());
            } else {
                InetSocketAddress isa = new InetSocketAddress(t.host(), t.port());
                if (isa.isUnresolved()) {
                    throw new IllegalArgumentException("--proxy " + p.prefix() + ": cannot resolve upstream host '" + t.host() + "'");
                }
                a = isa;
            }
            ups.add(new Upstream(t.spec(), authority, a));
        }
        return new UpstreamGroup(ups);
    }
}
