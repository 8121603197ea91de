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
        return build(config, ctx, metrics, List.of());
    }

    /** {@code extra}: an embedding application's routes (flash.embed), after the status page, before the rest. */
    static Router build(ServerConfig config, PipelineContext ctx, ServerMetrics metrics, List<Router.Route> extra) {
        List<Router.Route> routes = new ArrayList<>();
        if (config.statusPath() != null) {
            Object n = RequestTarget.normalize(config.statusPath());
            String path = n instanceof RequestTarget.Normalized norm ? norm.path() : config.statusPath();
            routes.add(new Router.Route(path, true, new StatusHandler(metrics::render)));
        }
        routes.addAll(extra);
        for (ProxyRoute p : config.proxies()) {
            routes.add(new Router.Route(p.prefix(), false, new ProxyHandler(p, group(p),
                    config.upstreamKeepalive(), config.upstreamConnectTimeout().toNanos(),
                    config.upstreamTimeout().toNanos(), config.tunnelTimeout().toNanos())));
        }
        for (flash.config.CgiRoute c : config.cgis()) {
            routes.add(new Router.Route(flash.cgi.CgiHandler.routePath(c), false,
                    new flash.cgi.CgiHandler(c, config.root(), config.cgiTimeout(), config.limits())));
        }
        flash.pipeline.Handler fallback = flash.site.SiteHandler.around(config.site(), ctx, new StaticHandler(ctx));
        if (!config.fastcgi().isEmpty()) fallback = fastcgi(config, fallback);
        return new Router(routes, fallback);
    }

    /** FastCGI sits in front of the static files: a path with a script segment (or a script index) is its. */
    private static flash.fastcgi.FastCgiHandler fastcgi(ServerConfig config, flash.pipeline.Handler next) {
        List<flash.fastcgi.FastCgiHandler.Route> routes = new ArrayList<>();
        java.util.Map<String, Upstream> byAddress = new java.util.HashMap<>();
        for (flash.config.FastCgiRoute f : config.fastcgi()) {
            Upstream u = byAddress.computeIfAbsent(f.address(), a -> {
                if (f.unixSocket() != null) return new Upstream(a, "localhost", UnixDomainSocketAddress.of(f.unixSocket()));
                InetSocketAddress isa = new InetSocketAddress(f.host(), f.port());
                if (isa.isUnresolved()) {
                    throw new IllegalArgumentException("--fastcgi " + f.ext() + ": cannot resolve host '" + f.host() + "'");
                }
                return new Upstream(a, f.host(), isa);
            });
            routes.add(new flash.fastcgi.FastCgiHandler.Route(f.ext(), u));
        }
        var settings = new flash.fastcgi.FastCgiHandler.Settings(config.root(), routes, config.indexNames(),
                config.followSymlinks(), config.dotfiles(),
                flash.fastcgi.FastCgiHandler.perPool(config.fastcgiConnections(), config.arch(), config.loops()),
                config.fastcgiQueue(), config.upstreamConnectTimeout().toNanos(), config.fastcgiTimeout().toNanos(),
                "flash", config.revalidateAfter().toNanos(), config.limits().maxBody());
        return new flash.fastcgi.FastCgiHandler(settings, next);
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
