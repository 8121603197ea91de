package flash.embed;

import flash.config.Architecture;
import flash.config.ServerConfig;
import flash.dispatch.Server;
import flash.http.RequestTarget;
import flash.pipeline.Router;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Flash embedded in a Java application: the application's routes, each a {@link Handler} on a virtual thread, in
 * front of static files served from a document root, all on the same server and architecture as {@code flash serve}.
 *
 * <pre>{@code
 * try (Flash flash = Flash.builder()
 *         .root(Path.of("www"))
 *         .port(0)
 *         .route("/api", ex -> ex.send(200, "text/plain", ("hello " + ex.path()).getBytes()))
 *         .build()) {
 *     flash.start();
 *     System.out.println("http://127.0.0.1:" + flash.port() + "/");
 *     ...
 * }
 * }</pre>
 *
 * <p>Defaults are the server's ({@link ServerConfig#defaults}): bound to 127.0.0.1 on port 8080, architecture
 * {@code amped}. The architectures {@code amped}, {@code sped}, {@code mt} and {@code vt} are supported; {@code mp}
 * is refused, because its worker processes are other JVMs that cannot run this application's handlers.
 */
public final class Flash implements AutoCloseable {
    private final ServerConfig config;
    private final List<Router.Route> routes;
    private final Set<Thread> running = ConcurrentHashMap.newKeySet();
    private Server server;
    private boolean closed;

    private Flash(ServerConfig config, List<Route> routes) {
        this.config = config;
        List<Router.Route> table = new ArrayList<>();
        for (Route r : routes) {
            EmbedRoute h = new EmbedRoute(r.handler(), running);
            if (r.prefix().endsWith("/")) {
                table.add(new Router.Route(r.prefix(), false, h));
            } else { // "/api" is "/api" and everything under "/api/", never "/apix"
                table.add(new Router.Route(r.prefix(), true, h));
                table.add(new Router.Route(r.prefix() + "/", false, h));
            }
        }
        this.routes = List.copyOf(table);
    }

    /** A builder with the server's defaults and no routes. */
    public static Builder builder() { return new Builder(); }

    /**
     * Binds the port and starts serving; returns this. Throws {@link java.net.BindException} when the port is taken,
     * and {@link IllegalStateException} when started twice or after {@link #close}.
     */
    public synchronized Flash start() throws IOException {
        if (closed) throw new IllegalStateException("this Flash was closed");
        if (server != null) throw new IllegalStateException("already started");
        server = Server.start(config, routes);
        return this;
    }

    /** The port it listens on: the one the system picked when port 0 was asked for. Only once started. */
    public synchronized int port() {
        if (server == null) throw new IllegalStateException("not started");
        return server.port();
    }

    /**
     * Stops gracefully: no new connections; the requests in flight (handlers included) finish, for up to the drain
     * timeout, then what is left is closed and the handlers still running are interrupted. Idempotent.
     */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        if (server == null) return;
        server.close();
        for (Thread t : running) t.interrupt();
    }

    private record Route(String prefix, Handler handler) {}

    /**
     * Configures an embedded server. Every setting has the server's default; {@link #root} is required.
     */
    public static final class Builder {
        private Path root;
        private String bind;
        private Integer port;
        private Architecture arch;
        private Boolean listDirs;
        private Duration drainTimeout;
        private final List<Route> routes = new ArrayList<>();

        private Builder() {}

        /** The document root for static files: everything no route takes. Must be an existing directory. */
        public Builder root(Path root) {
            this.root = java.util.Objects.requireNonNull(root, "root");
            return this;
        }

        /** The address to listen on (default 127.0.0.1; "0.0.0.0" for every interface). */
        public Builder bind(String address) {
            this.bind = java.util.Objects.requireNonNull(address, "bind");
            return this;
        }

        /** The port (default 8080); 0 lets the system pick one, which {@link Flash#port()} then tells. */
        public Builder port(int port) {
            if (port < 0 || port > 65535) throw new IllegalArgumentException("port " + port + " is not 0 to 65535");
            this.port = port;
            return this;
        }

        /**
         * The architecture: "amped" (the default), "sped", "mt" or "vt". "mp" is refused: its workers are separate
         * JVMs, and the handlers live in this one.
         */
        public Builder arch(String arch) {
            Architecture a;
            try {
                a = Architecture.valueOf(arch.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException | NullPointerException e) {
                throw new IllegalArgumentException("arch '" + arch + "': expected amped, sped, mt or vt");
            }
            if (a == Architecture.MP) {
                throw new IllegalArgumentException("arch 'mp' cannot embed: its worker processes are other JVMs, which "
                        + "cannot run this JVM's handlers; use amped, sped, mt or vt");
            }
            this.arch = a;
            return this;
        }

        /** Directory listings for directories without an index (as {@code --list-dirs}); off by default. */
        public Builder listDirs(boolean on) {
            this.listDirs = on;
            return this;
        }

        /** How long {@link Flash#close()} lets requests in flight finish (default 10 s). */
        public Builder drainTimeout(Duration d) {
            if (d == null || d.isNegative()) throw new IllegalArgumentException("drain timeout must be zero or more");
            this.drainTimeout = d;
            return this;
        }

        /**
         * Sends requests under {@code prefix} to {@code handler}, before static files. {@code "/api"} takes
         * {@code /api} and every path under {@code /api/} (not {@code /apix}); {@code "/api/"} takes only the paths
         * under it; {@code "/"} takes everything. The longest matching prefix wins. Paths are matched after
         * percent-decoding and normalisation.
         */
        public Builder route(String prefix, Handler handler) {
            java.util.Objects.requireNonNull(handler, "handler");
            if (prefix == null || !prefix.startsWith("/")) throw new IllegalArgumentException("route prefix must start with '/': " + prefix);
            if (!(RequestTarget.normalize(prefix) instanceof RequestTarget.Normalized n)) {
                throw new IllegalArgumentException("route prefix is not a valid path: " + prefix);
            }
            String p = n.path().length() > 1 && !prefix.endsWith("/") && n.path().endsWith("/")
                    ? n.path().substring(0, n.path().length() - 1) : n.path();
            for (Route r : routes) {
                if (r.prefix().equals(p)) throw new IllegalArgumentException("route " + p + " is given twice");
            }
            routes.add(new Route(p, handler));
            return this;
        }

        /** Checks the settings and makes the server, not yet started. */
        public Flash build() {
            if (root == null) throw new IllegalStateException("root(Path) is required: the directory static files come from");
            if (!Files.isDirectory(root)) throw new IllegalArgumentException("root " + root + " is not a directory");
            ServerConfig c = ServerConfig.defaults(root);
            if (bind != null) c = c.withBind(bind);
            if (port != null) c = c.withPort(port);
            if (arch != null) c = c.withArch(arch);
            if (listDirs != null) c = c.withListDirs(listDirs);
            if (drainTimeout != null) c = c.withDrainTimeout(drainTimeout);
            List<Route> ordered = new ArrayList<>(routes);
            ordered.sort(Comparator.comparingInt((Route r) -> r.prefix().length()).reversed());
            return new Flash(c, ordered);
        }
    }
}
