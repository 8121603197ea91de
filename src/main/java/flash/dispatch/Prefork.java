package flash.dispatch;

import flash.config.ServerConfig;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.logging.Logger;

/**
 * MP, the paper's Flash-MP / Apache prefork: N worker JVMs, each serving one connection at a time with
 * blocking I/O ({@code --arch mt --threads 1}) and its own small caches. The parent opens the listening socket
 * and hands it to every worker ({@link ListenerHandoff}), so all accept from one queue and an idle worker takes
 * the oldest connection; a worker accepts only between connections. The parent never accepts itself: it
 * replaces a worker that dies (connections wait in the backlog meanwhile) and on SIGTERM passes the signal on
 * and waits for every worker to drain.
 */
public final class Prefork {
    private static final Logger LOG = Logger.getLogger(Prefork.class.getName());

    /**
     * Requests per connection before an mp worker closes it. A worker serves one connection at a time, so without
     * a cap a few busy keep-alive clients hold their workers forever and new clients wait (Apache's prefork uses
     * MaxKeepAliveRequests 100 for the same reason).
     */
    public static final int DEFAULT_MAX_KEEPALIVE_REQUESTS = 100;

    private final ServerConfig config;
    private final int port;
    private final Path handoff;
    private final List<String> workerArgs;
    private final Process[] workers;
    private volatile boolean stopping;

    private Prefork(ServerConfig config, int port, List<String> workerArgs, Path handoff) {
        this.config = config;
        this.port = port;
        this.handoff = handoff;
        this.workerArgs = workerArgs;
        this.workers = new Process[config.processes()];
    }

    /**
     * Runs until {@code stop} opens (SIGTERM/SIGINT). Each worker gets this configuration as serve options
     * ({@link #workerArgs}) plus its own architecture, port and bind address.
     */
    public static int run(ServerConfig config, BiConsumer<ServerConfig, Integer> announce, CountDownLatch stop,
                          java.util.function.Consumer<Runnable> onReopen, List<String> logArgs) throws Exception {
        return run(config, null, announce, stop, onReopen, logArgs, null, hurry -> { });
    }

    /**
     * Serving on {@code inherited} (systemd's socket, see {@link SocketActivation}) instead of binding, when it is not
     * null. {@code serveArgs}: the workers' serve options instead of this configuration's ({@link #workerArgs}); a
     * server started from a config file passes the file, so that its workers reload it on SIGHUP. Null: derived.
     * {@code onHurry} receives what a second SIGTERM does: it passes the signal on to every worker, whose drain delay
     * (if one is under way) ends at once.
     */
    public static int run(ServerConfig config, ServerSocketChannel inherited, BiConsumer<ServerConfig, Integer> announce,
                          CountDownLatch stop, java.util.function.Consumer<Runnable> onReopen, List<String> logArgs,
                          List<String> serveArgs, java.util.function.Consumer<Runnable> onHurry) throws Exception {
        // Mode 0700 (the JDK's default for temp directories): only our own user can reach the handoff socket and
        // take the listening socket from it.
        Path handoffDir = Files.createTempDirectory("flash-mp-");
        try (ServerSocketChannel listener = inherited != null ? inherited : ServerSocketChannel.open()) {
            if (inherited == null) {
                listener.setOption(StandardSocketOptions.SO_REUSEADDR, true);
                if (config.reusePort()) listener.setOption(StandardSocketOptions.SO_REUSEPORT, true);
                listener.bind(new InetSocketAddress(config.bind(), config.port()), config.backlog());
            }
            int port = ((InetSocketAddress) listener.getLocalAddress()).getPort();
            try (ServerSocketChannel handoff = ListenerHandoff.offer(listener, handoffDir.resolve("listener"))) {
                List<String> args = new ArrayList<>(serveArgs != null ? serveArgs : workerArgs(config));
                args.addAll(logArgs);
                Prefork p = new Prefork(config, port, args, handoffDir.resolve("listener"));
                p.spawnAll();
                HttpsRedirect redirect = config.tlsEnabled() && config.httpRedirectPort() != ServerConfig.NO_REDIRECT
                        ? HttpsRedirect.start(config.bind(), config.httpRedirectPort(), port, config.headerTimeout()) : null;
                onReopen.accept(p::reopenLogs);
                onHurry.accept(() -> p.signalWorkers("TERM"));
                Thread supervisor = Thread.ofPlatform().name("flash-mp-supervisor").daemon(true).start(p::supervise);
                announce.accept(config, port);
                stop.await();
                // With the workers' copies closed as they drain (after their drain delay), the port stops taking
                // connections.
                listener.close();
                if (redirect != null) redirect.close();
                p.stopping = true;
                supervisor.interrupt();
                LOG.info("drain started: stopping " + p.workers.length + " mp worker(s)"
                        + (config.drainDelay().toMillis() > 0 ? " after a drain delay of " + seconds(config.drainDelay()) + " s" : ""));
                for (Process w : p.workers) if (w != null) w.destroy(); // SIGTERM: each worker drains
                long deadline = System.nanoTime() + config.drainDelay().toNanos() + config.drainTimeout().toNanos()
                        + TimeUnit.SECONDS.toNanos(2);
                for (Process w : p.workers) {
                    if (w == null) continue;
                    long left = deadline - System.nanoTime();
                    if (left <= 0 || !w.waitFor(left, TimeUnit.NANOSECONDS)) w.destroyForcibly();
                }
                return 0;
            }
        } finally {
            Files.deleteIfExists(handoffDir.resolve("listener"));
            Files.deleteIfExists(handoffDir);
        }
    }

    /** Launches every worker at once (JVM start-up dominates, so in parallel), then waits until each listens. */
    private void spawnAll() throws IOException {
        Process[] started = new Process[workers.length];
        try {
            for (int i = 0; i < workers.length; i++) started[i] = launch(i);
            for (int i = 0; i < workers.length; i++) {
                awaitListening(i, started[i]);
                workers[i] = started[i];
            }
        } catch (IOException | RuntimeException e) {
            for (Process w : started) if (w != null) w.destroyForcibly(); // no orphaned workers on a failed start
            throw e;
        }
    }

    private void spawn(int i) throws IOException {
        Process p = launch(i);
        awaitListening(i, p);
        workers[i] = p;
    }

    /** The -D measurement knobs of the body paths (docs/performance.md sections 2, 11): passed on to every worker. */
    static final List<String> MEASUREMENT_KNOBS = List.of("flash.smallFileMax", "flash.mapMax", "flash.sendfile",
            "flash.sendfileMin", "flash.sendfileMax", "flash.sendfileBlocking", "flash.sendfileTurn", "flash.headMore",
            "flash.residency");

    private Process launch(int i) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
                "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED", "-Xmx" + workerHeapMb(config.pathCacheEntries()) + "m",
                "-Xss512k", "-XX:+UseSerialGC",
                "-Dflash.mp.worker=" + i));
        for (String knob : MEASUREMENT_KNOBS) { // A/B runs under mp move the workers' boundaries, not only ours
            String v = System.getProperty(knob);
            if (v != null) cmd.add("-D" + knob + "=" + v);
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "flash.cli.FlashMain", "serve"));
        cmd.addAll(workerArgs);
        cmd.addAll(List.of("--arch", "mt", "--threads", "1", "--listener-from", handoff.toString(),
                "--port", Integer.toString(port), "--bind", config.bind()));
        // stdin stays a pipe from this process: a worker exits when it reads EOF there, i.e. when we die.
        return new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }

    /**
     * SIGHUP/SIGUSR1 reach the parent: each worker owns its access-log descriptor and must reopen it itself (and,
     * started with --config, reloads the file on the HUP). Workers without a config file get SIGUSR1, which only
     * reopens: a parent started under nohup passes its ignored SIGHUP on to its workers, where it would be lost.
     */
    private void reopenLogs() { signalWorkers(workerArgs.contains("--config") ? "HUP" : "USR1"); }

    private void signalWorkers(String signal) {
        for (Process w : workers) {
            if (w == null || !w.isAlive()) continue;
            try {
                new ProcessBuilder("kill", "-" + signal, Long.toString(w.pid())).inheritIO().start();
            } catch (IOException e) {
                System.err.println("flash: cannot send SIG" + signal + " to mp worker " + w.pid() + ": " + e.getMessage());
            }
        }
    }

    private static void awaitListening(int i, Process p) throws IOException {
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.ISO_8859_1));
        String line = out.readLine(); // the worker's "listening" line: it is accepting now
        if (line != null && line.startsWith("flash listening")) relayOutput(i, out);
        if (line == null || !line.startsWith("flash listening")) {
            p.destroyForcibly();
            throw new IOException("mp worker " + i + " failed to start (exit " + waitQuietly(p) + ")");
        }
    }

    /** Replaces workers that exit while the server is running. */
    private void supervise() {
        while (!stopping) {
            for (int i = 0; i < workers.length && !stopping; i++) {
                Process w = workers[i];
                if (w != null && !w.isAlive()) {
                    LOG.warning("mp worker " + i + " exited with status " + w.exitValue() + "; starting a replacement");
                    try {
                        spawn(i);
                    } catch (IOException e) {
                        LOG.warning(e.getMessage());
                    }
                }
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private static int waitQuietly(Process p) {
        try {
            return p.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /**
     * What a worker prints after its listening line (its access log, with --access-log -) goes on to our stdout,
     * line by line: an unread pipe would fill and stall the worker's log writer.
     */
    private static void relayOutput(int i, BufferedReader out) {
        Thread.ofPlatform().daemon(true).name("flash-mp-stdout-" + i).start(() -> {
            try {
                String l;
                while ((l = out.readLine()) != null) {
                    synchronized (System.out) {
                        System.out.print(l + "\n");
                        System.out.flush();
                    }
                }
            } catch (IOException ignored) {
                // the worker exited
            }
        });
    }

    /**
     * A worker's heap ceiling: 64 MiB for the rest, plus room for its path cache when full (about 1.1 KiB an entry,
     * docs/performance.md section 22). A fixed 64 MiB fitted the old 50,000-entry default only just, and not the
     * default of up to 200,000 sized by the machine. A ceiling, not a reservation: the heap grows as entries are made.
     */
    static long workerHeapMb(int pathCacheEntries) {
        return 64 + ((long) pathCacheEntries * ServerConfig.PATH_CACHE_ENTRY_BYTES + (1 << 20) - 1) / (1 << 20);
    }

    /** This configuration as `flash serve` options, less what each worker gets from Prefork itself. */
    static List<String> workerArgs(ServerConfig c) {
        List<String> a = new ArrayList<>(List.of(c.root().toString(),
                "--path-cache", Integer.toString(c.pathCacheEntries()),
                "--cache-mb", Long.toString(c.cacheBytes() >> 20),
                "--revalidate-ms", Long.toString(c.revalidateAfter().toMillis()),
                "--revalidate", c.revalidation().cliName(),
                "--revalidate-watched-ms", Long.toString(c.revalidateWatched().toMillis()),
                "--max-connections", Integer.toString(c.maxConnections()),
                "--header-timeout", seconds(c.headerTimeout()), "--idle-timeout", seconds(c.idleTimeout()),
                "--write-timeout", seconds(c.writeTimeout()), "--drain-timeout", seconds(c.drainTimeout()),
                "--max-body", Long.toString(c.limits().maxBody()),
                "--max-keepalive-requests", Integer.toString(c.limits().maxKeepAliveRequests() > 0
                        ? c.limits().maxKeepAliveRequests() : DEFAULT_MAX_KEEPALIVE_REQUESTS),
                "--header-align", Integer.toString(c.headerAlign())));
        if (c.pathCacheEntries() == 0) a.add("--no-path-cache");
        if (!c.headerCache()) a.add("--no-header-cache");
        if (!c.fileCache()) a.add("--no-file-cache");
        if (c.listDirs()) a.add("--list-dirs");
        if (c.followSymlinks()) a.add("--follow-symlinks");
        if (c.dotfiles()) a.add("--dotfiles");
        if (c.statusPath() != null) a.addAll(List.of("--status-path", c.statusPath()));
        if (c.proxyProtocol()) a.add("--proxy-protocol");
        if (c.healthPath() != null) a.addAll(List.of("--health-path", c.healthPath()));
        // Each worker runs the drain delay itself (it gets the SIGTERM at once), so every one says 503 meanwhile.
        if (c.drainDelay().toMillis() > 0) a.addAll(List.of("--drain-delay", seconds(c.drainDelay())));
        for (flash.config.ProxyRoute r : c.proxies()) a.addAll(List.of("--proxy", r.spec()));
        a.addAll(List.of("--upstream-keepalive", Integer.toString(c.upstreamKeepalive()),
                "--upstream-connect-timeout", seconds(c.upstreamConnectTimeout()),
                "--upstream-timeout", seconds(c.upstreamTimeout()),
                "--tunnel-timeout", seconds(c.tunnelTimeout())));
        if (c.accessLog() != null) a.addAll(List.of("--access-log", c.accessLog(), "--access-log-format", c.accessLogFormat().cliName()));
        for (flash.config.CgiRoute r : c.cgis()) a.addAll(List.of("--cgi", r.spec()));
        for (flash.config.StaticRoute r : c.statics()) a.addAll(List.of("--static", r.spec()));
        a.addAll(List.of("--cgi-timeout", seconds(c.cgiTimeout())));
        for (flash.config.FastCgiRoute f : c.fastcgi()) a.addAll(List.of("--fastcgi", f.spec()));
        // Each worker has its own pool: the server-wide FastCGI bound is split between them, at least 1 each.
        a.addAll(List.of("--index", String.join(",", c.indexNames()),
                "--fastcgi-connections", Integer.toString(Math.max(1, c.fastcgiConnections() / Math.max(1, c.processes()))),
                "--fastcgi-queue", Integer.toString(c.fastcgiQueue()),
                "--fastcgi-timeout", seconds(c.fastcgiTimeout())));
        compressionArgs(c, a);
        siteArgs(c.site(), a);
        // Every worker speaks TLS itself. The redirect listener is the parent's alone (one port, one listener).
        for (flash.config.TlsPair t : c.tls()) a.addAll(List.of("--tls-cert", t.cert().toString(), "--tls-key", t.key().toString()));
        if (c.tlsEnabled()) {
            a.addAll(List.of("--tls-protocols", String.join(",", c.tlsProtocols()), "--tls-engine", c.tlsEngine().cliName()));
        }
        return a;
    }

    /** Each worker has its own compressed-body cache: the budget is split between them, at least 1 MiB each. */
    private static void compressionArgs(ServerConfig c, List<String> a) {
        flash.config.CompressionConfig z = c.compression();
        if (z.precompressed()) a.add("--precompressed");
        if (z.compress()) a.add("--compress");
        a.addAll(List.of("--compress-level", Integer.toString(z.gzipLevel()), "--zstd-level", Integer.toString(z.zstdLevel()),
                "--compress-min-size", Integer.toString(z.minSize()),
                "--compress-cache-mb", Long.toString(z.cacheBytes() == 0 ? 0 : Math.max(1, (z.cacheBytes() >> 20) / Math.max(1, c.processes())))));
    }

    /** The site rules as serve options; the dot-name allow-list is given whole ('none' first clears the default). */
    private static void siteArgs(flash.config.SiteRules s, List<String> a) {
        for (flash.config.CacheControlRule r : s.cacheControl()) a.addAll(List.of("--cache-control", r.spec()));
        for (flash.config.ErrorPageRule r : s.errorPages()) a.addAll(List.of("--error-page", r.spec()));
        if (s.fallback() != null) a.addAll(List.of("--fallback", s.fallback()));
        a.addAll(List.of("--dotfiles-allow", "none"));
        for (String p : s.dotfilesAllow()) a.addAll(List.of("--dotfiles-allow", p));
        for (flash.config.MimeRule r : s.mime()) a.addAll(List.of("--mime", r.spec()));
    }

    private static String seconds(java.time.Duration d) { return Double.toString(d.toMillis() / 1000.0); }
}
