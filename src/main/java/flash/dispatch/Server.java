package flash.dispatch;

import flash.config.Architecture;
import flash.config.ServerConfig;
import flash.content.Residency;
import flash.net.Adopter;
import flash.net.PlainTransport;
import flash.pipeline.Http1Connection;
import flash.pipeline.Outgoing;
import flash.log.AccessLog;
import flash.pipeline.Completion;
import flash.pipeline.PipelineContext;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A running Flash server: the listening socket, one acceptor thread, and the dispatcher of the chosen
 * architecture. The acceptor enforces the connection limit: past it, a new connection gets a short 503 and
 * is closed at once, and the connections already open never notice. Where the dispatcher's capacity is bounded
 * (a thread pool), it accepts only when there is room, leaving the rest in the listen backlog; under mt, the next
 * connection is taken and a keep-alive connection idle between requests is closed to make room for it.
 */
public final class Server implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Server.class.getName());
    private static final byte[] BUSY = ("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n"
            + "Retry-After: 1\r\n\r\n").getBytes(StandardCharsets.US_ASCII);

    private volatile ServerConfig config;
    private final PipelineContext ctx;
    private final ServerSocketChannel listener;
    private final Dispatcher dispatcher;
    private final AtomicInteger open = new AtomicInteger();
    private final Runnable uncountConnections; // takes this server's connections out of the kept descriptors' room
    private final Thread acceptor;
    private final ServerMetrics metrics;
    private final Refuser refuser;
    private final flash.net.ChannelFootprint footprint = new flash.net.ChannelFootprint(); // the acceptor's alone
    private final AccessLog accessLog; // null: none
    private HttpsRedirect redirect;    // --http-redirect-port, or null
    /** Free places when the dispatcher's capacity is bounded (mt, mp workers); null when it is not. */
    private final Semaphore slots;
    /**
     * Whether a connection waiting for a place has an idle one shed for it: mt with a listener of its own. Not an
     * mp worker: its one thread's place is taken whenever it serves, and a connection it took off the shared
     * backlog would wait behind its client while sibling workers sit idle; left there, an idle sibling takes it.
     */
    private final boolean shedsIdle;
    /** How often a connection waiting for mt's thread checks on the idle one shed for it (the watchdog's tick). */
    static final long SHED_CHECK_MS = 250;
    private volatile boolean stopping;
    private final java.util.List<flash.pipeline.Router.Route> extraRoutes; // flash.embed's, kept across reloads
    /** Upstreams by address, kept across reloads (see Routes#group). */
    private final java.util.Map<String, flash.upstream.Upstream> upstreams = new java.util.concurrent.ConcurrentHashMap<>();
    /** A drain has begun (SIGTERM): the health path answers 503, while the drain delay lasts and after. */
    private volatile boolean draining;
    /** Opens when the drain delay is cut short: a second SIGTERM, or {@link #close}. */
    private final java.util.concurrent.CountDownLatch delayOver = new java.util.concurrent.CountDownLatch(1);

    private Server(ServerConfig config, ServerSocketChannel listener, java.util.List<flash.pipeline.Router.Route> extraRoutes,
                   boolean sharedListener) throws IOException {
        this.config = config;
        this.listener = listener;
        this.extraRoutes = java.util.List.copyOf(extraRoutes);
        Residency residency = config.arch() == Architecture.AMPED ? Residency.detect() : null;
        Outgoing.ResidencyCheck check = residency == null ? null
                : residency::isResidentFile;
        this.ctx = new PipelineContext(config, check);
        this.uncountConnections = ctx.descriptors().countConnections(open::get);
        Runnable closed = this::connectionClosed;
        flash.tls.TlsEngineFactory tls = config.tlsEnabled()
                ? flash.tls.TlsEngineFactory.load(config.tlsEngine(), config.tls(), config.tlsProtocols()) : null;
        Adopter adopter = tls != null ? tlsAdopter(tls, config, ctx)
                : (ch, driver, reg) -> new Http1Connection(new PlainTransport(ch), driver, reg, ctx);
        this.dispatcher = switch (config.arch()) {
            case AMPED, SPED -> new EventDriven(ctx, config.arch(), adopter, closed);
            case MT, VT -> new ThreadPerConnection(ctx, config.arch(), adopter, closed);
            case MP -> throw new IllegalArgumentException("the mp architecture is started by Prefork, not in-process");
        };
        int capacity = dispatcher.capacity();
        this.slots = capacity == Integer.MAX_VALUE ? null : new Semaphore(capacity);
        this.shedsIdle = slots != null && !sharedListener;
        // Once per process, here at start (it reads /proc and opens sockets): the status page only reads the answer.
        this.metrics = new ServerMetrics(this, residency, tls == null ? null : flash.net.TlsEngineProbe.get(),
                tls == null ? null : tls.engineName());
        ctx.routing(Routes.build(config, ctx, metrics, ctx.site(), upstreams, this::draining, extraRoutes));
        this.accessLog = openAccessLog(config);
        ErrorLog errorLog = new ErrorLog();
        ctx.listener(c -> {
            metrics.completed(c);
            errorLog.completed(c);
            if (accessLog != null) accessLog.completed(c);
        });
        this.acceptor = Thread.ofPlatform().name("flash-acceptor").unstarted(this::acceptLoop);
        this.refuser = new Refuser(BUSY); // last: it starts a thread
    }

    /**
     * HTTPS: the same codec over a TLS transport, behind the connection that turns TLS's needs into readiness
     * interest. The handshake must end within the header timeout (what a slow or half-open handshake may hold).
     */
    private static Adopter tlsAdopter(flash.tls.TlsEngineFactory tls, ServerConfig config, PipelineContext ctx) {
        long handshakeNanos = config.headerTimeout().toNanos();
        return (ch, driver, reg) -> {
            flash.net.TlsTransport t = new flash.net.TlsTransport(ch, tls.newEngine(), driver.seam());
            flash.net.TlsConnection c = new flash.net.TlsConnection(t, driver, reg, handshakeNanos);
            return c.attach(new Http1Connection(t, driver, c, ctx));
        };
    }

    private static AccessLog openAccessLog(ServerConfig config) throws IOException {
        if (config.accessLog() == null) return null;
        return new AccessLog("-".equals(config.accessLog()) ? null : Path.of(config.accessLog()), config.accessLogFormat());
    }

    /** SIGHUP, SIGUSR1: the access log is opened again, at the same path (logrotate renamed the old file). */
    public void reopenLogs() {
        if (accessLog != null) accessLog.reopen();
    }

    /**
     * SIGHUP with a config file: serve {@code requested} from the next exchange on, without touching a connection.
     * Exchanges in flight finish on the route tables they were given. What was sized or bound at start (see
     * {@link Reload#RESTART_ONLY}) keeps its old value, with a warning. Throws IllegalArgumentException, leaving the
     * old configuration in force, when a route cannot be set up (an upstream host that does not resolve).
     */
    public synchronized ServerConfig reload(ServerConfig requested) {
        ServerConfig next = Reload.keepRestartOnly(config, requested);
        flash.pipeline.StaticSite site = ctx.newSite(next, next.root());
        flash.pipeline.Routing routing = Routes.build(next, ctx, metrics, site, upstreams, this::draining, extraRoutes);
        flash.pipeline.Routing old = ctx.routing();
        ctx.swap(next, site, routing);
        config = next;
        // The old tables' path caches hold file references: released once the exchanges routed by them are surely
        // done translating (a lookup that raced the swap could otherwise re-fill a cleared cache).
        Thread.ofVirtual().name("flash-reload-release").start(() -> {
            sleepQuietly(30_000);
            old.clear();
        });
        return next;
    }

    /** Lines the access log lost (its writer fell behind, or a write failed); 0 without an access log. */
    public long accessLogDropped() { return accessLog == null ? 0 : accessLog.dropped(); }

    /** Binds and starts serving. Throws {@link BindException} when the address is in use. */
    public static Server start(ServerConfig config) throws IOException {
        return start(config, java.util.List.of());
    }

    /** Starts serving on a listening socket bound elsewhere (systemd's socket activation). */
    public static Server start(ServerConfig config, ServerSocketChannel listening) throws IOException {
        return start(config, listening, java.util.List.of(), false);
    }

    /**
     * An mp worker: serves a listening socket its parent shares with the other workers. A connection waits in that
     * backlog for any free worker; none sheds an idle connection for it ({@link #shedsIdle}).
     */
    public static Server startWorker(ServerConfig config, ServerSocketChannel shared) throws IOException {
        return start(config, shared, java.util.List.of(), true);
    }

    /**
     * Binds and starts serving with {@code extraRoutes} (an embedding application's, {@code flash.embed}) ahead of
     * the configured routes and the static files. In-process only: an mp worker JVM would not have them.
     */
    public static Server start(ServerConfig config, java.util.List<flash.pipeline.Router.Route> extraRoutes) throws IOException {
        ServerSocketChannel ssc = ServerSocketChannel.open();
        try {
            ssc.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            if (config.reusePort()) ssc.setOption(StandardSocketOptions.SO_REUSEPORT, true);
            ssc.bind(new InetSocketAddress(config.bind(), config.port()), config.backlog());
        } catch (IOException | RuntimeException e) {
            ssc.close();
            throw e;
        }
        return start(config, ssc, extraRoutes, false);
    }

    private static Server start(ServerConfig config, ServerSocketChannel listening,
                                java.util.List<flash.pipeline.Router.Route> extraRoutes, boolean shared) throws IOException {
        Server s;
        try {
            listening.configureBlocking(true);
            s = new Server(config, listening, extraRoutes, shared);
        } catch (IOException | RuntimeException e) {
            listening.close();
            throw e;
        }
        s.dispatcher.start();
        s.acceptor.start();
        if (config.tlsEnabled() && config.httpRedirectPort() != ServerConfig.NO_REDIRECT) {
            try {
                s.redirect = HttpsRedirect.start(config.bind(), config.httpRedirectPort(), s.port(), config.headerTimeout());
            } catch (IOException | RuntimeException e) {
                s.close();
                throw e;
            }
        }
        return s;
    }

    public int port() {
        try {
            return ((InetSocketAddress) listener.getLocalAddress()).getPort();
        } catch (IOException e) {
            return -1;
        }
    }

    public ServerConfig config() { return config; }
    /** The plain port that redirects to https, or -1. */
    public int redirectPort() { return redirect == null ? -1 : redirect.port(); }
    public PipelineContext context() { return ctx; }
    public Dispatcher dispatcher() { return dispatcher; }
    public int openConnections() { return open.get(); }
    public ServerMetrics metrics() { return metrics; }

    private void connectionClosed() {
        open.decrementAndGet();
        if (slots != null) slots.release();
    }

    private void acceptLoop() {
        try {
            while (!stopping) {
                SocketChannel ch = slots == null ? accept() : acceptWhenFree();
                if (ch != null) serve(ch);
            }
        } catch (ClosedChannelException | InterruptedException e) {
            // close(): the listener is closed, or the acceptor was waiting for a free thread
        }
    }

    /** Bounded capacity (mt, mp workers): a connection once a place is free for it; null after a failed accept. */
    private SocketChannel acceptWhenFree() throws ClosedChannelException, InterruptedException {
        if (!slots.tryAcquire()) {
            if (shedsIdle) return acceptThenShed();
            slots.acquire(); // wait for a free thread before taking the next connection off the backlog
        }
        return acceptInPlace();
    }

    /** With a place taken: the next connection, or null with the place given back after a failed accept. */
    private SocketChannel acceptInPlace() throws ClosedChannelException {
        SocketChannel ch = accept();
        if (ch == null) slots.release();
        return ch;
    }

    /**
     * mt with every thread taken: the next connection is taken off the backlog (one descriptor held here, never
     * more), and the connection idle longest between requests is shed for it ({@link Dispatcher#shedIdle}). Checked
     * each {@link #SHED_CHECK_MS}: another is shed only if a request came on that one first, so one waiting
     * connection costs at most one idle one. Without idle ones it waits for a thread, as before. Not in an mp
     * worker (see {@link #startWorker}).
     */
    private SocketChannel acceptThenShed() throws ClosedChannelException, InterruptedException {
        SocketChannel ch = accept();
        if (ch == null) { // failed and logged: wait for a thread (one shed for it), rather than retry at once
            dispatcher.shedIdle();
            slots.acquire();
            return acceptInPlace();
        }
        try {
            flash.net.IoHandler shed = null;
            while (!slots.tryAcquire()) {
                if (shed == null || !shed.shedPending()) shed = dispatcher.shedIdle();
                if (slots.tryAcquire(SHED_CHECK_MS, java.util.concurrent.TimeUnit.MILLISECONDS)) break;
            }
        } catch (InterruptedException e) {
            // close() began with no thread free for it: closed, as the connections still in the backlog are
            try {
                ch.close();
            } catch (IOException ignored) {
                // nothing to do
            }
            throw e;
        }
        return ch;
    }

    /** The next connection from the backlog; null after a failure that was logged and waited out. */
    private SocketChannel accept() throws ClosedChannelException {
        try {
            return listener.accept();
        } catch (ClosedChannelException e) {
            throw e;
        } catch (IOException e) {
            // EMFILE and friends: back off briefly rather than spin; existing connections keep going. Files kept
            // open only to save an open go first.
            LOG.log(Level.WARNING, "accept failed: " + e.getMessage());
            ctx.descriptors().shedAll();
            sleepQuietly(50);
            return null;
        }
    }

    private void serve(SocketChannel ch) {
        metrics.accepted.increment();
        // A connection accepted while the drain begins is served (its request is answered with Connection:
        // close), not refused: a load balancer has already sent the request on it, and a 503 would reach the
        // client, where a closed listener makes the balancer retry elsewhere.
        if (open.incrementAndGet() > config.maxConnections()) {
            connectionClosed();
            metrics.refused.increment();
            if (accessLog != null) logRefused(ch);
            refuser.refuse(ch);
            return;
        }
        ctx.descriptors().shedIfShort(); // a kept file never holds a descriptor a connection needs
        try {
            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
        } catch (IOException ignored) {
            // only a latency optimisation
        }
        footprint.trim(ch); // the JDK's objects were most of an idle connection's heap
        dispatcher.adopt(ch);
    }

    /** True from the moment a drain begins: the health path ({@code --health-path}) answers 503. */
    public boolean draining() { return draining; }

    /**
     * SIGTERM: the health path answers 503 at once, while everything else is served as before (new connections
     * too) for the drain delay, the time a load balancer needs to notice and stop sending; then {@link #close}.
     */
    public void shutdown() {
        long delay = config.drainDelay().toMillis();
        if (delay > 0 && !draining && !stopping) {
            draining = true;
            LOG.info("drain delay started: " + (config.healthPath() == null ? "" : config.healthPath() + " answers 503, ")
                    + "serving on for " + delay / 1000.0 + " s before the listener closes");
            try {
                delayOver.await(delay, java.util.concurrent.TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        close();
    }

    /** Ends a drain delay under way at once (a second SIGTERM): {@link #shutdown} goes on to drain. */
    public void endDrainDelay() { delayOver.countDown(); }

    /**
     * Stops accepting, lets responses in flight finish for up to the drain timeout, then closes everything. A drain
     * delay under way ends; a second caller returns once the first has closed everything.
     */
    @Override
    public void close() {
        delayOver.countDown();
        closeNow();
    }

    private synchronized void closeNow() {
        if (stopping) return;
        draining = true;
        stopping = true;
        try {
            listener.close();
        } catch (IOException ignored) {
            // closing the listener only stops new connections
        }
        acceptor.interrupt(); // it may be waiting for a free slot rather than in accept
        try {
            // Every connection it accepted is adopted before the drain, so the drain reaches it too.
            acceptor.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (redirect != null) redirect.close();
        uncountConnections.run();
        int inFlight = dispatcher.openConnections();
        LOG.info("drain started: " + inFlight + " connection(s) open, up to " + config.drainTimeout().toMillis() / 1000.0 + " s");
        dispatcher.drain();
        long deadline = System.nanoTime() + config.drainTimeout().toNanos();
        while (dispatcher.openConnections() > 0 && System.nanoTime() < deadline) sleepQuietly(20);
        int cut = dispatcher.openConnections();
        if (cut > 0) LOG.warning(cut + " connection(s) cut at the drain timeout");
        dispatcher.stop();
        refuser.close();
        ctx.close();
        if (accessLog != null) accessLog.close(); // last: every exchange has completed (or been cut) by now
    }

    /** A connection refused with 503 at --max-connections is an exchange too. */
    private void logRefused(SocketChannel ch) {
        java.net.SocketAddress remote;
        try {
            remote = ch.getRemoteAddress();
        } catch (IOException e) {
            remote = null;
        }
        long now = System.nanoTime();
        accessLog.completed(new Completion(null, remote, 503, 0, false, now, now, -1, null, null));
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
