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

/**
 * Builds the route tables from the configuration: per site (the server's, and each virtual host's), the health and
 * status pages, then the configured routes, then static files. Runs at start and on each reload (off the loops: it resolves
 * upstream host names).
 */
final class Routes {
    private Routes() {}

    /** The tables for {@code config}, whose document root is served from {@code site}. */
    static flash.pipeline.Routing build(ServerConfig config, PipelineContext ctx, ServerMetrics metrics,
                                        flash.pipeline.StaticSite site, java.util.Map<String, Upstream> upstreams,
                                        java.util.function.BooleanSupplier draining) {
        return build(config, ctx, metrics, site, upstreams, draining, List.of());
    }

    /**
     * {@code extra}: an embedding application's routes (flash.embed), in the default table after the status page,
     * before the rest.
     */
    static flash.pipeline.Routing build(ServerConfig config, PipelineContext ctx, ServerMetrics metrics,
                                        flash.pipeline.StaticSite site, java.util.Map<String, Upstream> upstreams,
                                        java.util.function.BooleanSupplier draining, List<Router.Route> extra) {
        List<flash.pipeline.StaticSite> sites = new ArrayList<>();
        sites.add(site);
        Router fallback = table(config, ctx, metrics, site, sites, upstreams, draining, extra);
        java.util.Map<String, Router> byHost = new java.util.HashMap<>();
        for (flash.config.VirtualHost vh : config.vhosts()) {
            ServerConfig v = vh.site();
            flash.pipeline.StaticSite vs = ctx.newSite(v, v.root());
            sites.add(vs);
            Router r = table(v, ctx, null, vs, sites, upstreams, draining, List.of());
            for (String name : vh.names()) {
                if (byHost.putIfAbsent(name, r) != null) throw new IllegalArgumentException("vhost '" + name + "' is given twice");
            }
        }
        return new flash.pipeline.Routing(fallback, byHost, sites);
    }

    /** One site's table; {@code metrics} null: no status page (virtual hosts). */
    private static Router table(ServerConfig config, PipelineContext ctx, ServerMetrics metrics, flash.pipeline.StaticSite site,
                                List<flash.pipeline.StaticSite> sites, java.util.Map<String, Upstream> upstreams,
                                java.util.function.BooleanSupplier draining, List<Router.Route> extra) {
        List<Router.Route> routes = new ArrayList<>();
        if (config.healthPath() != null) { // every host answers it: a load balancer may ask by any name
            routes.add(new Router.Route(normalized(config.healthPath()), true, new flash.handlers.HealthHandler(draining)));
        }
        if (metrics != null && config.statusPath() != null) {
            Object n = RequestTarget.normalize(config.statusPath());
            String path = n instanceof RequestTarget.Normalized norm ? norm.path() : config.statusPath();
            routes.add(new Router.Route(path, true, new StatusHandler(metrics::render)));
        }
        routes.addAll(extra);
        for (ProxyRoute p : config.proxies()) {
            routes.add(new Router.Route(p.prefix(), false, new ProxyHandler(p, group(p, upstreams),
                    config.upstreamKeepalive(), config.upstreamConnectTimeout().toNanos(),
                    config.upstreamTimeout().toNanos(), config.tunnelTimeout().toNanos())));
        }
        for (flash.config.CgiRoute c : config.cgis()) {
            routes.add(new Router.Route(flash.cgi.CgiHandler.routePath(c), false,
                    new flash.cgi.CgiHandler(c, config.root(), config.cgiTimeout(), config.limits())));
        }
        for (flash.config.StaticRoute st : config.statics()) {
            flash.pipeline.StaticSite ss = ctx.newSite(config, st.dir());
            sites.add(ss);
            routes.add(new Router.Route(st.prefix() + "/", false,
                    flash.site.SiteHandler.around(config.site(), ctx, new StaticHandler(ctx, ss, st.prefix()))));
        }
        flash.pipeline.Handler fallback = flash.site.SiteHandler.around(config.site(), ctx, new StaticHandler(ctx, site, ""));
        if (!config.fastcgi().isEmpty()) fallback = fastcgi(config, fallback, upstreams);
        return new Router(routes, fallback, flash.pipeline.HeaderRules.of(config.headerRules()));
    }

    private static String normalized(String path) {
        return RequestTarget.normalize(path) instanceof RequestTarget.Normalized norm ? norm.path() : path;
    }

    /** FastCGI sits in front of the static files: a path with a script segment (or a script index) is its. */
    private static flash.fastcgi.FastCgiHandler fastcgi(ServerConfig config, flash.pipeline.Handler next,
                                                        java.util.Map<String, Upstream> upstreams) {
        List<flash.fastcgi.FastCgiHandler.Route> routes = new ArrayList<>();
        for (flash.config.FastCgiRoute f : config.fastcgi()) {
            Upstream u = upstreams.computeIfAbsent("fastcgi " + f.address(), k -> {
                String a = f.address();
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

    /**
     * Resolves each upstream once, here at start (or reload), so DNS never blocks a loop. {@code upstreams} keeps one
     * Upstream per address for the server's life: pooled connections are keyed by it, so a reload that keeps an
     * upstream keeps its idle connections (and its FastCGI slots) instead of stranding them under a stale key.
     */
    private static UpstreamGroup group(ProxyRoute p, java.util.Map<String, Upstream> upstreams) {
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
            SocketAddress address = a;
            ups.add(upstreams.computeIfAbsent("http " + t.spec() + " " + authority + " " + a, k -> new Upstream(t.spec(), authority, address)));
        }
        return new UpstreamGroup(ups);
    }
}
