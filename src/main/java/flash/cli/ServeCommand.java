package flash.cli;

import flash.config.Architecture;
import flash.config.ServerConfig;
import flash.dispatch.ListenerHandoff;
import flash.dispatch.Prefork;
import flash.dispatch.Server;
import flash.dispatch.SocketActivation;
import flash.http.HttpLimits;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.logging.Level;
import java.util.logging.Logger;
import flash.log.ErrorLogHandler;

/** {@code flash serve [DIR]}: serve a directory until SIGTERM or SIGINT, then drain and exit 0. */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Serve the files under DIR over HTTP/1.1, reverse-proxy path prefixes to upstreams (--proxy), run CGI",
                "programs (--cgi), and run scripts on FastCGI backends such as php-fpm (--fastcgi).",
                "Prints 'flash listening on http://ADDR:PORT/ (arch=..., root=...)' when ready.",
                "SIGTERM or SIGINT: after --drain-delay (if any), stop accepting, finish responses in flight (up to",
                "--drain-timeout), exit 0. SIGHUP reopens the logs and, with --config, reloads the file (see README:",
                "Configuration file)."})
public final class ServeCommand implements Callable<Integer> {
    private static final Logger LOG = Logger.getLogger("flash.serve");

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--config", paramLabel = "FILE",
            description = {"Read options from a TOML file whose keys are these long option names (port = 8080,",
                    "list-dirs = true, index = [\"index.html\"], root = \"/srv/www\"), plus [[proxy]], [[cgi]], [[fastcgi]],",
                    "[[static]], [[headers]] and [[vhost]] tables. Options given here win over the file's.",
                    "SIGHUP reloads it without dropping connections. Check a file with 'flash check-config FILE'."})
    Path configFile;

    @Parameters(index = "0", arity = "0..1", paramLabel = "DIR", description = "Document root (default: the current directory).")
    Path dir = Path.of(".");

    @Option(names = {"-d", "--directory"}, paramLabel = "DIR", description = "Document root, as jwebserver's -d (instead of the DIR argument).")
    Path directory;

    @Option(names = {"--port", "-p"}, paramLabel = "N", description = "TCP port; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int port = 8080;

    @Option(names = {"--bind", "-b", "--bind-address"}, paramLabel = "ADDR", description = "Address to listen on (default: ${DEFAULT-VALUE}).")
    String bind = "127.0.0.1";

    @Option(names = "--arch", paramLabel = "ARCH", description = "amped (default), sped, mt, mp or vt.",
            converter = ArchConverter.class)
    Architecture arch = Architecture.AMPED;

    @Option(names = "--loops", paramLabel = "N", description = "Event loops for amped/sped (default: number of CPUs).")
    int loops = ServerConfig.DEFAULT_LOOPS;

    @Option(names = "--helpers", paramLabel = "N", description = "Helper threads for amped (default: ${DEFAULT-VALUE}).")
    int helpers = ServerConfig.DEFAULT_HELPERS;

    @Option(names = "--threads", paramLabel = "N", description = "Threads for mt (default: ${DEFAULT-VALUE}).")
    int threads = ServerConfig.DEFAULT_THREADS;

    @Option(names = "--processes", paramLabel = "N", description = "Worker processes for mp (default: ${DEFAULT-VALUE}).")
    int processes = ServerConfig.DEFAULT_PROCESSES;

    @Option(names = "--list-dirs", description = "List directories without an index file: an HTML table (directories first, sizes, dates; sorted by ?sort=name|size|date&order=asc|desc), or a JSON array for Accept: application/json.")
    boolean listDirs;

    @Option(names = "--follow-symlinks", description = "Serve symlinks that resolve outside DIR (off: they are 404).")
    boolean followSymlinks;

    @Option(names = "--dotfiles", description = "Serve names starting with '.' (off: they are 404).")
    boolean dotfiles;

    @Option(names = "--path-cache", paramLabel = "N", description = "Pathname-translation cache entries per site (default: ${DEFAULT-VALUE}: a sixteenth of this machine's memory,"
            + " and at most a quarter of the heap, at about 1.1 KiB each, 20,000-200,000; W-TinyLFU eviction). Set it"
            + " above the site's file count: a miss costs a translation on a helper. Small files' bytes held count"
            + " against a quarter of --cache-mb.")
    int pathCache = ServerConfig.DEFAULT_PATH_CACHE;


    @Option(names = "--no-path-cache", description = "Disable the pathname-translation cache.")
    boolean noPathCache;

    @Option(names = "--no-header-cache", description = "Disable the response-header cache.")
    boolean noHeaderCache;

    @Option(names = "--no-file-cache", description = "Disable the file-data cache: no file's bytes cached, every body read or sent from the file.")
    boolean noFileCache;

    @Option(names = "--cache-mb", paramLabel = "MB", description = "File-data cache budget in MiB (default: ${DEFAULT-VALUE}: 256, or a sixteenth of the machine's memory when that is less, at least 16).")
    long cacheMb = ServerConfig.DEFAULT_CACHE_BYTES >> 20;

    @Option(names = "--revalidate", paramLabel = "MODE", converter = RevalidationConverter.class,
            description = {"How a cached file translation notices a change on disk. watch (default): the directories it was",
                    "read from are watched with inotify and a change drops it at once; it is re-checked on disk only after",
                    "--revalidate-watched-ms (changes inotify cannot report: writes through a shared mapping, another host",
                    "on a network file system). Entries that cannot be watched (inotify limits) fall back to",
                    "--revalidate-ms. stat: every entry is re-checked on disk after --revalidate-ms."})
    flash.config.Revalidation revalidation = ServerConfig.DEFAULT_REVALIDATION;

    @Option(names = "--revalidate-ms", paramLabel = "MS", description = {"A cached translation older than this is re-checked on disk (a small",
            "file at its literal path: openat2 and fstat on the loop; others: stat, realpath, open on a helper): every one under",
            "--revalidate stat, those that could not be watched under watch (default: ${DEFAULT-VALUE})."})
    long revalidateMs = ServerConfig.DEFAULT_REVALIDATE_AFTER.toMillis();

    @Option(names = "--revalidate-watched-ms", paramLabel = "MS", description = {"Under --revalidate watch, a watched translation is still",
            "re-checked on disk after this long, never sooner than --revalidate-ms (default: ${DEFAULT-VALUE})."})
    long revalidateWatchedMs = ServerConfig.DEFAULT_REVALIDATE_WATCHED.toMillis();

    @Option(names = "--status-path", paramLabel = "PATH", description = "Serve Prometheus counters at this URL path (off by default).")
    String statusPath;

    @Option(names = "--health-path", paramLabel = "PATH",
            description = {"Answer load balancer health checks at this URL path: 200 while serving, 503 from the moment",
                    "a drain begins (SIGTERM), never cached. Off by default."})
    String healthPath;

    @Option(names = "--drain-delay", paramLabel = "SEC",
            description = {"On SIGTERM, serve on normally (new connections too) for SEC seconds while --health-path already",
                    "answers 503, so a load balancer stops sending before the listener closes; then drain (default: ${DEFAULT-VALUE})."})
    double drainDelay = ServerConfig.DEFAULT_DRAIN_DELAY.toMillis() / 1000.0;

    @Option(names = "--max-connections", paramLabel = "N", description = "Open connections past which new ones get 503 (default: ${DEFAULT-VALUE}).")
    int maxConnections = 10_000;

    @Option(names = "--header-timeout", paramLabel = "SEC", description = "Seconds to receive a request head before 408 (default: ${DEFAULT-VALUE}).")
    double headerTimeout = 10;

    @Option(names = "--idle-timeout", paramLabel = "SEC", description = "Seconds a keep-alive connection may stay idle (default: ${DEFAULT-VALUE}).")
    double idleTimeout = 60;

    @Option(names = "--write-timeout", paramLabel = "SEC", description = "Seconds without write progress before a client is dropped (default: ${DEFAULT-VALUE}).")
    double writeTimeout = 60;

    @Option(names = "--drain-timeout", paramLabel = "SEC", description = "Seconds to finish responses in flight on shutdown (default: ${DEFAULT-VALUE}).")
    double drainTimeout = 10;

    @Option(names = "--max-body", paramLabel = "BYTES", description = "Largest request body accepted before 413: discarded for static files, forwarded by --proxy (default: ${DEFAULT-VALUE}).")
    long maxBody = HttpLimits.DEFAULTS.maxBody();

    @Option(names = "--max-keepalive-requests", paramLabel = "N", description = "Close a connection after N requests; 0 = no limit (default: ${DEFAULT-VALUE}; mp workers default to 100).")
    int maxKeepAliveRequests;

    @Option(names = "--proxy", paramLabel = "PREFIX=URL[,URL...]",
            description = {"Reverse-proxy requests whose path starts with PREFIX (repeatable). URL is http://host[:port][/path]",
                    "or unix:/path/to.sock. Without a path the target passes unchanged; with one, PREFIX is replaced by it",
                    "(/p/=http://127.0.0.1:9000/ maps /p/x?q to /x?q). Several URLs: round-robin, an upstream whose connect",
                    "fails is skipped for 10 s. Every method is passed; hosts are resolved once at start."})
    java.util.List<String> proxies = new java.util.ArrayList<>();

    @Option(names = "--upstream-keepalive", paramLabel = "N", description = "Idle connections kept per upstream (per event loop under amped/sped; 0 = none) (default: ${DEFAULT-VALUE}).")
    int upstreamKeepalive = ServerConfig.DEFAULT_UPSTREAM_KEEPALIVE;

    @Option(names = "--upstream-connect-timeout", paramLabel = "SEC", description = "Seconds to connect to an upstream before trying the next, or 504 (default: ${DEFAULT-VALUE}).")
    double upstreamConnectTimeout = ServerConfig.DEFAULT_UPSTREAM_CONNECT_TIMEOUT.toMillis() / 1000.0;

    @Option(names = "--upstream-timeout", paramLabel = "SEC", description = "Seconds without progress reading from or writing to an upstream before 504 (default: ${DEFAULT-VALUE}).")
    double upstreamTimeout = ServerConfig.DEFAULT_UPSTREAM_TIMEOUT.toMillis() / 1000.0;

    @Option(names = "--tunnel-timeout", paramLabel = "SEC", description = "Seconds an upgraded (WebSocket) connection may carry no traffic either way (default: ${DEFAULT-VALUE}).")
    double tunnelTimeout = ServerConfig.DEFAULT_TUNNEL_TIMEOUT.toMillis() / 1000.0;

    @Option(names = "--access-log", paramLabel = "PATH",
            description = {"Log every exchange to PATH (appended; '-' for stdout), written by its own thread so a slow disk",
                    "never stalls serving: lines the writer cannot keep up with are dropped and counted",
                    "(flash_access_log_dropped_total). SIGHUP or SIGUSR1 reopens the file (for logrotate). Off by default."})
    String accessLog;

    @Option(names = "--access-log-format", paramLabel = "FORMAT",
            description = {"combined (default: nginx's and Apache's), verbose (combined, then each request header as '> Name: value'), or json (one object per line: time, remote, method,",
                    "target, protocol, status, bytes, duration_ms, referer, user_agent, aborted, upstream_ms when proxied)."})
    String accessLogFormat = "combined";

    @Option(names = {"-o", "--output"}, paramLabel = "LEVEL",
            description = {"jwebserver's output levels: none (default), info (the access log on stdout, as --access-log -),",
                    "verbose (info plus each request's headers, as --access-log-format verbose)."})
    String output;

    @Option(names = "--error-log", paramLabel = "PATH",
            description = "Write the error log (time, level, source, message) to PATH instead of stderr; reopened on SIGHUP/SIGUSR1.")
    Path errorLog;

    @Option(names = "--log-level", paramLabel = "LEVEL",
            description = "error, warn, info (default: start, drain and exit are logged) or debug.")
    String logLevel = "info";

    @Option(names = "--cgi", paramLabel = "PREFIX=DIR",
            description = {"Run CGI/1.1 programs (RFC 3875) for paths under PREFIX (repeatable): PREFIX/name/extra?q runs DIR/name",
                    "with PATH_INFO=/extra. The program must be an executable regular file that stays inside DIR after",
                    "symlinks (else 404 or 403); DIR's files are never served as static content. Every method is passed."})
    java.util.List<String> cgis = new java.util.ArrayList<>();

    @Option(names = "--cgi-timeout", paramLabel = "SEC", description = {"Seconds a CGI program may go without output progress: then 504 (or the",
            "connection closes, once the response started) and its process group gets SIGTERM, then SIGKILL (default: ${DEFAULT-VALUE})."})
    double cgiTimeout = ServerConfig.DEFAULT_CGI_TIMEOUT.toMillis() / 1000.0;

    @Option(names = "--fastcgi", paramLabel = "EXT=ADDRESS",
            description = {"Run scripts ending in EXT on the FastCGI responder at ADDRESS (repeatable): unix:/path/to.sock or",
                    "host:port, e.g. --fastcgi .php=unix:/run/php/php8.2-fpm.sock. A path with a segment ending in EXT runs",
                    "that file (it must exist under DIR, else 404, and the backend is never asked); the rest is PATH_INFO."})
    java.util.List<String> fastcgi = new java.util.ArrayList<>();

    @Option(names = "--index", paramLabel = "NAMES", split = ",",
            description = "Files tried, in order, for a URL ending in '/': comma-separated, e.g. index.php,index.html (default: index.html).")
    java.util.List<String> index = new java.util.ArrayList<>(ServerConfig.DEFAULT_INDEX);

    @Option(names = "--cache-control", paramLabel = "GLOB=VALUE",
            description = {"Send Cache-Control: VALUE with static files (200, 206, 304) whose URL path matches GLOB (repeatable; the",
                    "first match wins). '*' matches within a path segment, '**' across segments, '?' one character:",
                    "--cache-control '/assets/**=public, max-age=31536000, immutable' --cache-control '/**=no-cache'."})
    java.util.List<String> cacheControl = new java.util.ArrayList<>();

    @Option(names = "--error-page", paramLabel = "STATUS=PATH",
            description = {"Answer the static errors with STATUS (400-599) with the file at URL path PATH under DIR, keeping the",
                    "status (repeatable): --error-page 404=/404.html. If PATH cannot be served, the built-in page is sent."})
    java.util.List<String> errorPages = new java.util.ArrayList<>();

    @Option(names = "--fallback", paramLabel = "PATH",
            description = {"Answer a GET or HEAD for a path that does not exist with URL path PATH instead, with its status (200):",
                    "single-page apps (--fallback /index.html) and front controllers (--fallback /index.php with --fastcgi,",
                    "which then sees the original REQUEST_URI). Existing files and directories are served as usual."})
    String fallback;

    @Option(names = "--dotfiles-allow", paramLabel = "PREFIX",
            description = {"Serve dot-names under this URL path prefix even without --dotfiles (repeatable; /.well-known/ is",
                    "allowed by default, for ACME; 'none' clears the list). .git, .env, .env.*, .htpasswd, .svn and .hg",
                    "stay hidden (404) whatever the options."})
    java.util.List<String> dotfilesAllow = new java.util.ArrayList<>();

    @Option(names = "--mime", paramLabel = "EXT=TYPE",
            description = "Send files ending in .EXT as TYPE, ahead of the built-in table (repeatable): --mime md=text/markdown.")
    java.util.List<String> mime = new java.util.ArrayList<>();

    @Option(names = "--fastcgi-connections", paramLabel = "N",
            description = {"FastCGI connections per backend for the whole server (default: ${DEFAULT-VALUE}); each holds a php-fpm worker,",
                    "so keep N at or below pm.max_children. Split between event loops (amped/sped) and mp workers, at least 1 each."})
    int fastcgiConnections = ServerConfig.DEFAULT_FASTCGI_CONNECTIONS;

    @Option(names = "--fastcgi-queue", paramLabel = "N",
            description = "Requests that may wait in the server for a busy FastCGI backend (per pool); past that, 503 with Retry-After (default: ${DEFAULT-VALUE}).")
    int fastcgiQueue = ServerConfig.DEFAULT_FASTCGI_QUEUE;

    @Option(names = "--fastcgi-timeout", paramLabel = "SEC",
            description = "Seconds without progress from a FastCGI backend before 504 (or a close, once the response started) (default: ${DEFAULT-VALUE}).")
    double fastcgiTimeout = ServerConfig.DEFAULT_FASTCGI_TIMEOUT.toMillis() / 1000.0;

    @Option(names = "--precompressed",
            description = {"Serve x.br, x.zst or x.gz in place of x when it exists next to it and Accept-Encoding allows it (q-values",
                    "honoured), with x's Content-Type, the sidecar's own ETag, Vary: Accept-Encoding, ranges and conditionals."})
    boolean precompressed;

    @Option(names = "--compress",
            description = {"Compress text-like files (text/*, JavaScript, JSON, XML, SVG, WASM...) of at least --compress-min-size",
                    "bytes with zstd or gzip, as Accept-Encoding prefers; each result is cached (--compress-cache-mb), so a hot",
                    "file is compressed once. Range requests get the uncompressed file."})
    boolean compress;

    @Option(names = "--compress-level", paramLabel = "N", description = "gzip level for --compress, 1 (fastest) to 9 (smallest) (default: ${DEFAULT-VALUE}).")
    int compressLevel = flash.config.CompressionConfig.DEFAULT_GZIP_LEVEL;

    @Option(names = "--zstd-level", paramLabel = "N", description = "zstd level for --compress, 1 to 19 (default: ${DEFAULT-VALUE}).")
    int zstdLevel = flash.config.CompressionConfig.DEFAULT_ZSTD_LEVEL;

    @Option(names = "--compress-min-size", paramLabel = "BYTES", description = "Smaller files are sent uncompressed (default: ${DEFAULT-VALUE}).")
    int compressMinSize = flash.config.CompressionConfig.DEFAULT_MIN_SIZE;

    @Option(names = "--compress-cache-mb", paramLabel = "MB",
            description = {"Memory for compressed bodies, least recently used dropped first; a file larger than an eighth of it",
                    "is sent uncompressed (default: ${DEFAULT-VALUE}; split between the workers under mp)."})
    long compressCacheMb = flash.config.CompressionConfig.DEFAULT_CACHE_BYTES >> 20;

    @Option(names = "--tls-cert", paramLabel = "FILE",
            description = {"Serve HTTPS with this PEM certificate chain (leaf first), RSA or ECDSA; with --tls-key (repeatable,",
                    "in pairs). Several pairs: each client gets the one whose names (subjectAltName DNS names, wildcards",
                    "included; else the CN) match the name it asks for by SNI; no match: the first pair."})
    java.util.List<Path> tlsCerts = new java.util.ArrayList<>();

    @Option(names = "--tls-key", paramLabel = "FILE",
            description = "The PEM private key of the --tls-cert before it: PKCS#8 or traditional (EC/RSA PRIVATE KEY), unencrypted.")
    java.util.List<Path> tlsKeys = new java.util.ArrayList<>();

    @Option(names = "--tls-protocols", paramLabel = "LIST", split = ",",
            description = "TLS versions offered, comma-separated, from TLSv1.3 and TLSv1.2 (default: TLSv1.3,TLSv1.2; nothing older).")
    java.util.List<String> tlsProtocols = new java.util.ArrayList<>(ServerConfig.DEFAULT_TLS_PROTOCOLS);

    @Option(names = "--tls-engine", paramLabel = "ENGINE",
            description = {"Who runs TLS: openssl (libssl.so.3 through FFM: a full handshake costs about a third of the JDK's CPU),",
                    "jdk (the JDK's SSLEngine), or auto: openssl when libssl.so.3 loads, else jdk (default: auto)."})
    String tlsEngine = flash.config.TlsEngine.AUTO.cliName();

    @Option(names = "--http-redirect-port", paramLabel = "N",
            description = "With --tls-cert: also listen for plain HTTP on port N and answer every request 301 to https (same host, path and query).")
    Integer httpRedirectPort;

    @Option(names = "--listener-from", hidden = true, paramLabel = "SOCKET",
            description = "MP worker: take the listening socket from the parent's Unix socket at SOCKET.")
    Path listenerFrom;

    @Option(names = "--reuse-port", description = "Set SO_REUSEPORT so several processes can share the port.")
    boolean reusePort;

    @Option(names = "--proxy-protocol",
            description = {"Every connection starts with a PROXY protocol header, v1 or v2 (haproxy's send-proxy or send-proxy-v2):",
                    "its client address is the one logged, sent in X-Forwarded-For and Forwarded, and given to CGI and FastCGI as",
                    "REMOTE_ADDR/REMOTE_PORT. A LOCAL header (health checks) keeps the proxy's own address. A connection without a",
                    "valid header within --header-timeout is closed unanswered: only a proxy may connect. Off by default."})
    boolean proxyProtocol;

    @Option(names = "--static", paramLabel = "PREFIX=DIR",
            description = {"Serve the files under DIR for paths under PREFIX (repeatable), as nginx's alias does: with",
                    "--static /docs=/usr/share/doc, /docs/x is /usr/share/doc/x. Same rules as the document root (symlinks,",
                    "dotfiles, index, listings); /docs itself stays the document root's."})
    java.util.List<String> statics = new java.util.ArrayList<>();

    @Option(names = "--mp-worker-of", hidden = true, paramLabel = "N",
            description = "MP worker started with --config: one of N workers (splits --fastcgi-connections, caps keep-alive).")
    int mpWorkerOf;

    /** [[headers]] rules and [[vhost]] tables: only a config file has them. */
    private java.util.List<flash.config.HeaderRule> headerRules = java.util.List.of();
    private java.util.List<flash.config.VirtualHost> vhosts = java.util.List.of();

    void fromFile(java.util.List<flash.config.HeaderRule> rules, java.util.List<flash.config.VirtualHost> hosts) {
        this.headerRules = java.util.List.copyOf(rules);
        this.vhosts = java.util.List.copyOf(hosts);
    }

    @Option(names = "--header-align", paramLabel = "N", description = "Pad cached response heads to a multiple of N bytes (the paper's 32-byte alignment; 0 = off, the default).")
    int headerAlign;

    @Override
    public Integer call() throws Exception {
        if (configFile == null) return serve(config(), null);
        java.util.List<ConfigFile.Arg> cli = commandLineArgs(spec.commandLine().getParseResult());
        ConfigFile.Loaded loaded = ConfigFile.read(configFile).load(cli);
        Path file = configFile.toAbsolutePath();
        return loaded.command().serve(loaded.config(), new Reloader(file, cli, loaded.command()));
    }

    /** SIGHUP with --config: the file read again, with the same command-line options on top. */
    private record Reloader(Path file, java.util.List<ConfigFile.Arg> cli, ServeCommand running) {
        ConfigFile.Loaded load() { return ConfigFile.read(file).load(cli); }
    }

    /** The options given on this command line, as the config file's keys (they replace the file's values). */
    static java.util.List<ConfigFile.Arg> commandLineArgs(picocli.CommandLine.ParseResult pr) {
        java.util.List<ConfigFile.Arg> out = new java.util.ArrayList<>();
        for (picocli.CommandLine.Model.OptionSpec o : pr.matchedOptions()) {
            String key = o.longestName().substring(2);
            if (key.equals("config")) continue;
            java.util.List<String> tokens = new java.util.ArrayList<>();
            if (o.arity().max() == 0) {
                tokens.add(o.longestName());
            } else {
                for (String v : o.originalStringValues()) {
                    tokens.add(o.longestName());
                    tokens.add(v);
                }
            }
            out.add(new ConfigFile.Arg(key, tokens, "--" + key, 0));
        }
        for (picocli.CommandLine.Model.PositionalParamSpec p : pr.matchedPositionals()) {
            out.add(new ConfigFile.Arg("root", java.util.List.copyOf(p.originalStringValues()), "DIR", 0));
        }
        return out;
    }

    private Integer serve(ServerConfig cfg, Reloader reloader) throws Exception {
        ErrorLogHandler errors = installErrorLog();
        java.nio.channels.ServerSocketChannel activated = listenerFrom == null ? socketActivated() : null;
        if (activated != null) { // --bind and --port give way to the socket systemd passed: announce its address
            InetSocketAddress a = (InetSocketAddress) activated.getLocalAddress();
            cfg = cfg.withBind(a.getAddress().getHostAddress()).withPort(a.getPort());
            LOG.info("socket activation: serving on the socket systemd passed (" + cfg.bind() + ":" + cfg.port() + ")");
        }
        CountDownLatch stop = new CountDownLatch(1);
        Signals.onTermination(stop::countDown);
        if (cfg.arch() == Architecture.MP) {
            java.util.List<String> workerArgs = reloader == null ? null : configWorkerArgs(reloader, cfg);
            int status;
            try {
                status = Prefork.run(cfg, activated, this::announce, stop, workers -> Signals.onReopen(() -> {
                    errors.reopen();
                    workers.run(); // each worker reopens its logs and, with --config, reloads the file itself
                }, () -> { }), reloader == null ? errorLogArgs() : java.util.List.of(), workerArgs, workers -> {
                    java.util.concurrent.atomic.AtomicInteger signals = new java.util.concurrent.atomic.AtomicInteger();
                    Signals.onTermination(() -> { // a second one is passed on: the workers' drain delay ends
                        stop.countDown();
                        if (signals.incrementAndGet() > 1) workers.run();
                    });
                });
            } catch (java.nio.channels.UnresolvedAddressException e) {
                throw new UsageError("--bind '" + cfg.bind() + "' is not an address or a host name that resolves");
            } catch (BindException e) {
                throw new UsageError("cannot listen on " + cfg.bind() + ":" + cfg.port() + ": " + e.getMessage());
            }
            LOG.info("exit");
            errors.close();
            return status;
        }
        Server server;
        java.util.concurrent.atomic.AtomicReference<Server> started = new java.util.concurrent.atomic.AtomicReference<>();
        try {
            if (listenerFrom != null) {
                ListenerHandoff.Received shared = ListenerHandoff.receive(listenerFrom);
                exitWithParent(shared, stop, started);
                server = Server.startWorker(cfg, shared.listener());
            } else if (activated != null) {
                server = Server.start(cfg, activated);
            } else {
                server = Server.start(cfg);
            }
        } catch (java.nio.channels.UnresolvedAddressException e) {
            throw new UsageError("--bind '" + cfg.bind() + "' is not an address or a host name that resolves");
        } catch (IllegalArgumentException e) {
            throw new UsageError(e.getMessage()); // a configured route that cannot be set up (an unknown upstream host)
        } catch (BindException e) {
            throw new UsageError("cannot listen on " + cfg.bind() + ":" + cfg.port() + ": " + e.getMessage());
        } catch (IOException e) {
            throw new UsageError("cannot listen on " + cfg.bind() + ":" + cfg.port() + ": " + e);
        }
        Signals.onReopen(() -> {
            errors.reopen();
            server.reopenLogs();
        }, reloader == null ? () -> { } : () -> reload(server, reloader));
        // A second SIGTERM or SIGINT cuts a drain delay short. (Counted here: stop may have opened for another reason.)
        started.set(server);
        java.util.concurrent.atomic.AtomicInteger signals = new java.util.concurrent.atomic.AtomicInteger();
        Signals.onTermination(() -> {
            stop.countDown();
            if (signals.incrementAndGet() > 1) server.endDrainDelay();
        });
        announce(cfg, server.port());
        if (listenerFrom == null) LOG.info("serving " + cfg.root() + " on " + cfg.bind() + ":" + server.port() + " (arch "
                + cfg.arch().cliName() + ")");
        stop.await();
        server.shutdown(); // the drain delay, if any, then the drain
        if (listenerFrom == null) LOG.info("exit");
        errors.close();
        return 0;
    }

    /** systemd's listening socket (LISTEN_FDS/LISTEN_PID), or null when not socket-activated. */
    private static java.nio.channels.ServerSocketChannel socketActivated() {
        try {
            return SocketActivation.listener();
        } catch (IOException e) {
            throw new UsageError("socket activation: " + e.getMessage());
        }
    }

    /**
     * SIGHUP: read the file again and swap the new routes and options in; exchanges in flight finish on the old ones.
     * A file that does not load leaves the running configuration in force, and the error log says why.
     */
    private void reload(Server server, Reloader reloader) {
        ConfigFile.Loaded next;
        try {
            next = reloader.load();
        } catch (UsageError e) {
            LOG.severe("reload failed, keeping the running configuration: " + e.getMessage());
            return;
        } catch (RuntimeException e) {
            LOG.severe("reload failed, keeping the running configuration: " + e);
            return;
        }
        ServeCommand now = reloader.running();
        if (!java.util.Objects.equals(now.errorLog, next.command().errorLog) || !now.logLevel.equals(next.command().logLevel)) {
            LOG.warning("reload: error-log and log-level need a restart; keeping error-log " + (now.errorLog == null ? "stderr" : now.errorLog)
                    + " and log-level " + now.logLevel);
        }
        try {
            server.reload(next.config());
        } catch (IllegalArgumentException e) {
            LOG.severe("reload failed, keeping the running configuration: " + e.getMessage());
            return;
        }
        LOG.info("reloaded " + reloader.file());
    }

    /**
     * MP workers started from a config file read it themselves (so SIGHUP, which the parent passes on, reloads
     * them): they get the file, this command line less what Prefork sets for each worker, and the worker count.
     */
    private static java.util.List<String> configWorkerArgs(Reloader reloader, ServerConfig cfg) {
        java.util.Set<String> perWorker = java.util.Set.of("arch", "threads", "port", "bind", "listener-from", "mp-worker-of",
                "error-log", "log-level");
        java.util.List<String> a = new java.util.ArrayList<>(java.util.List.of("--config", reloader.file().toString()));
        ConfigFile.Arg root = null;
        for (ConfigFile.Arg arg : reloader.cli()) {
            if (arg.key().equals("root")) root = arg;
            else if (!perWorker.contains(arg.key())) a.addAll(arg.tokens());
        }
        a.addAll(java.util.List.of("--mp-worker-of", Integer.toString(cfg.processes())));
        // the parent's error log settings (file and command line merged), as workerArgs would pass them
        a.addAll(reloader.running().errorLogArgs());
        if (root != null) {
            a.add(cfg.root().toString()); // absolute: the worker's working directory is ours, but be plain about it
        }
        return a;
    }

    /** Replaces JUL's synchronous console handler by the error log's own writer thread. */
    private ErrorLogHandler installErrorLog() {
        Level level = parsed("--log-level: ", () -> ErrorLogHandler.level(logLevel));
        boolean stderr = errorLog == null || errorLog.toString().equals("-");
        if (!stderr) checkWritable("--error-log", errorLog.toString());
        try {
            return ErrorLogHandler.install(stderr ? null : errorLog.toAbsolutePath(), level);
        } catch (IOException e) {
            throw new UsageError("--error-log '" + errorLog + "' cannot be opened for writing: " + e.getMessage());
        }
    }

    /** mp workers log as their parent does. */
    private java.util.List<String> errorLogArgs() {
        java.util.List<String> a = new java.util.ArrayList<>(java.util.List.of("--log-level", logLevel));
        if (errorLog != null && !errorLog.toString().equals("-")) a.addAll(java.util.List.of("--error-log", errorLog.toAbsolutePath().toString()));
        return a;
    }

    /**
     * An MP worker's old stdin is a pipe from its parent, which never writes to it: EOF means the parent is gone
     * (even killed with SIGKILL), and a worker must not outlive it holding the port.
     */
    private static void exitWithParent(ListenerHandoff.Received shared, CountDownLatch stop,
                                       java.util.concurrent.atomic.AtomicReference<Server> server) {
        java.util.Optional<ProcessHandle> parent = ProcessHandle.current().parent();
        Thread.ofPlatform().daemon(true).name("flash-mp-parent-watch").start(() -> {
            shared.awaitParentExit();
            stop.countDown();
            // The pipe closes too when the parent stops us (Process.destroy closes it as it sends SIGTERM): then a
            // drain delay runs its course. A parent that is gone (killed) leaves nobody to wait for: drain now.
            while (parent.map(ProcessHandle::isAlive).orElse(false)) {
                try {
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    return;
                }
            }
            Server s = server.get();
            if (s != null) s.endDrainDelay();
        });
    }

    private void announce(ServerConfig cfg, int actualPort) {
        String host = cfg.bind().contains(":") ? "[" + cfg.bind() + "]" : cfg.bind();
        System.out.println("flash listening on " + (cfg.tlsEnabled() ? "https" : "http") + "://" + host + ":" + actualPort + "/ (arch=" + cfg.arch().cliName()
                + ", root=" + cfg.root() + ")");
        System.out.flush();
        // One line per server, from the process the user started (not from each mp worker): which TLS engine runs,
        // and what stops kernel TLS here.
        if (cfg.tlsEnabled() && listenerFrom == null) {
            LOG.info(flash.net.TlsEngineProbe.get().startupLine(flash.tls.TlsEngineFactory.resolve(cfg.tlsEngine())));
        }
    }

    ServerConfig config() throws IOException {
        if (directory != null) {
            if (!dir.equals(Path.of("."))) throw new UsageError("-d/--directory and the DIR argument both name the document root; give one");
            dir = directory;
        }
        if (dir.toString().isEmpty()) throw new UsageError("document root '' is empty: give a directory");
        if (!Files.exists(dir)) throw new UsageError("document root '" + dir + "' does not exist");
        if (!Files.isDirectory(dir)) throw new UsageError("document root '" + dir + "' is not a directory");
        if (!Files.isReadable(dir) || !Files.isExecutable(dir)) throw new UsageError("document root '" + dir + "' is not readable");
        if (port < 0 || port > 65535) throw new UsageError("--port must be between 0 and 65535, not " + port);
        checkBind(bind);
        if (revalidateMs < 0) throw new UsageError("--revalidate-ms must not be negative, not " + revalidateMs);
        if (revalidateWatchedMs < 0) throw new UsageError("--revalidate-watched-ms must not be negative, not " + revalidateWatchedMs);
        positive("--loops", loops);
        positive("--helpers", helpers);
        positive("--threads", threads);
        positive("--processes", processes);
        positive("--max-connections", maxConnections);
        if (pathCache < 0) throw new UsageError("--path-cache must not be negative");
        if (cacheMb < 0) throw new UsageError("--cache-mb must not be negative, not " + cacheMb);
        if (cacheMb > (1L << 30)) throw new UsageError("--cache-mb must be at most " + (1L << 30) + " (a pebibyte), not " + cacheMb);
        if (maxBody < 0) throw new UsageError("--max-body must not be negative");
        if (maxKeepAliveRequests < 0) throw new UsageError("--max-keepalive-requests must not be negative");
        if (headerAlign < 0 || headerAlign > 4096) throw new UsageError("--header-align must be between 0 and 4096");
        if (statusPath != null && !statusPath.startsWith("/")) throw new UsageError("--status-path must start with '/'");
        if (healthPath != null && !healthPath.startsWith("/")) throw new UsageError("--health-path must start with '/', not '" + healthPath + "'");
        if (healthPath != null && healthPath.equals(statusPath)) throw new UsageError("--health-path and --status-path must differ");
        if (!(drainDelay >= 0) || drainDelay > 86_400) throw new UsageError("--drain-delay must be between 0 and 86400 seconds, not " + drainDelay);
        if (upstreamKeepalive < 0) throw new UsageError("--upstream-keepalive must not be negative");
        java.util.List<flash.config.ProxyRoute> routes = parseAll(proxies, flash.config.ProxyRoute::parse);
        flash.config.AccessLogFormat logFormat =
                parsed("--access-log-format: ", () -> flash.config.AccessLogFormat.parse(accessLogFormat));
        String accessLog = this.accessLog;
        if (output != null) {
            switch (output) {
                case "none" -> { }
                case "info", "verbose" -> {
                    if (accessLog != null && !accessLog.equals("-")) {
                        throw new UsageError("-o/--output " + output + " writes the access log to stdout, and --access-log names '" + accessLog + "': give one");
                    }
                    accessLog = "-";
                    if (output.equals("verbose")) logFormat = flash.config.AccessLogFormat.VERBOSE;
                }
                default -> throw new UsageError("-o/--output must be none, info or verbose, not '" + output + "'");
            }
        }
        if (accessLog != null) checkWritable("--access-log", accessLog);
        java.util.List<flash.config.CgiRoute> cgiRoutes = parseAll(cgis, flash.config.CgiRoute::parse);
        java.util.List<flash.config.StaticRoute> staticRoutes = parseAll(statics, flash.config.StaticRoute::parse);
        java.util.List<flash.config.FastCgiRoute> fcgi = parseAll(fastcgi, flash.config.FastCgiRoute::parse);
        checkResolvable(routes, fcgi);
        java.util.Set<String> exts = new java.util.HashSet<>();
        for (flash.config.FastCgiRoute r : fcgi) {
            if (!exts.add(r.ext())) throw new UsageError("--fastcgi " + r.ext() + " is given twice");
        }
        if (index.isEmpty()) throw new UsageError("--index needs at least one name");
        for (String n : index) {
            if (n.isEmpty() || n.indexOf('/') >= 0 || n.equals(".") || n.equals("..")) {
                throw new UsageError("--index names are file names, not '" + n + "'");
            }
        }
        positive("--fastcgi-connections", fastcgiConnections);
        if (mpWorkerOf < 0) throw new UsageError("--mp-worker-of must not be negative");
        int fcgiConnections = mpWorkerOf > 0 ? Math.max(1, fastcgiConnections / mpWorkerOf) : fastcgiConnections;
        boolean mpLimits = arch == Architecture.MP || mpWorkerOf > 0;
        if (fastcgiQueue < 0) throw new UsageError("--fastcgi-queue must not be negative");
        if (compressLevel < 1 || compressLevel > 9) throw new UsageError("--compress-level must be between 1 and 9, not " + compressLevel);
        if (zstdLevel < 1 || zstdLevel > 19) throw new UsageError("--zstd-level must be between 1 and 19, not " + zstdLevel);
        if (compressMinSize < 0) throw new UsageError("--compress-min-size must not be negative");
        if (compressCacheMb < 0 || compressCacheMb > (1L << 20)) throw new UsageError("--compress-cache-mb must be between 0 and 1048576, not " + compressCacheMb);
        flash.config.CompressionConfig compression = new flash.config.CompressionConfig(precompressed, compress,
                compressLevel, zstdLevel, compressMinSize, compressCacheMb << 20);
        flash.config.SiteRules site = siteRules();
        java.util.List<flash.config.TlsPair> tls = tlsPairs();
        if (httpRedirectPort != null) {
            if (tls.isEmpty()) throw new UsageError("--http-redirect-port needs --tls-cert and --tls-key");
            if (httpRedirectPort < 0 || httpRedirectPort > 65535) {
                throw new UsageError("--http-redirect-port must be between 0 and 65535, not " + httpRedirectPort);
            }
        }
        for (String p : tlsProtocols) {
            if (!flash.tls.TlsContext.KNOWN_PROTOCOLS.contains(p)) {
                throw new UsageError("--tls-protocols: '" + p + "' is not offered (choose from TLSv1.3, TLSv1.2)");
            }
        }
        if (tlsProtocols.isEmpty()) throw new UsageError("--tls-protocols needs at least one protocol");
        // Read the certificates and keys now: a bad file is a usage error before anything listens (mp workers too).
        flash.config.TlsEngine engine = parsed("", () -> flash.config.TlsEngine.parse(tlsEngine));
        if (engine == flash.config.TlsEngine.OPENSSL && !flash.tls.OpenSsl.available()) {
            throw new UsageError("--tls-engine openssl: " + flash.tls.OpenSsl.unavailableReason());
        }
        if (!tls.isEmpty()) parsed("", () -> flash.tls.TlsEngineFactory.load(engine, tls, tlsProtocols));
        HttpLimits d = HttpLimits.DEFAULTS;
        return ServerConfig.defaults(dir.toRealPath())
                .withPort(port).withBind(bind).withArch(arch)
                .withLoops(loops).withHelpers(helpers).withThreads(threads).withProcesses(processes)
                .withListDirs(listDirs).withFollowSymlinks(followSymlinks).withDotfiles(dotfiles)
                .withPathCache(noPathCache ? 0 : pathCache).withHeaderCache(!noHeaderCache).withFileCache(!noFileCache)
                .withCacheBytes(cacheMb << 20).withRevalidateAfter(Duration.ofMillis(revalidateMs))
                .withRevalidation(revalidation).withRevalidateWatched(Duration.ofMillis(revalidateWatchedMs))
                .withStatusPath(statusPath).withMaxConnections(maxConnections)
                .withTimeouts(seconds("--header-timeout", headerTimeout), seconds("--idle-timeout", idleTimeout),
                        seconds("--write-timeout", writeTimeout))
                .withDrainTimeout(seconds("--drain-timeout", drainTimeout))
                .withLimits(new HttpLimits(d.maxRequestLine(), d.maxHeaderBytes(), d.maxHeaderCount(), maxBody,
                        maxKeepAliveRequests == 0 && mpLimits ? Prefork.DEFAULT_MAX_KEEPALIVE_REQUESTS : maxKeepAliveRequests))
                .withReusePort(reusePort).withHeaderAlign(headerAlign)
                .withProxies(routes).withUpstreamKeepalive(upstreamKeepalive)
                .withUpstreamTimeouts(seconds("--upstream-connect-timeout", upstreamConnectTimeout),
                        seconds("--upstream-timeout", upstreamTimeout))
                .withTunnelTimeout(seconds("--tunnel-timeout", tunnelTimeout))
                .withAccessLog(accessLog == null ? null : accessLog.equals("-") ? "-" : Path.of(accessLog).toAbsolutePath().toString(),
                        logFormat)
                .withCgis(cgiRoutes).withCgiTimeout(seconds("--cgi-timeout", cgiTimeout))
                .withFastcgi(fcgi).withIndexNames(index).withFastcgiConnections(fcgiConnections)
                .withFastcgiQueue(fastcgiQueue).withFastcgiTimeout(seconds("--fastcgi-timeout", fastcgiTimeout))
                .withCompression(compression)
                .withSite(site)
                .withProxyProtocol(proxyProtocol)
                .withStatics(staticRoutes).withHeaderRules(headerRules).withVhosts(vhosts)
                .withTls(tls).withTlsProtocols(tlsProtocols).withTlsEngine(engine)
                .withHttpRedirectPort(httpRedirectPort == null ? ServerConfig.NO_REDIRECT : httpRedirectPort)
                .withHealthPath(healthPath).withDrainDelay(Duration.ofMillis(Math.round(drainDelay * 1000)));
    }

    /** --cache-control, --error-page, --fallback, --dotfiles-allow and --mime, each value checked now. */
    private flash.config.SiteRules siteRules() {
        flash.config.SiteRules site = flash.config.SiteRules.DEFAULTS;
        java.util.List<flash.config.ErrorPageRule> pages = parseAll(errorPages, flash.config.ErrorPageRule::parse);
        java.util.Set<Integer> statuses = new java.util.HashSet<>();
        for (flash.config.ErrorPageRule p : pages) {
            if (!statuses.add(p.status())) throw new UsageError("--error-page " + p.status() + " is given twice");
        }
        java.util.List<String> allow = new java.util.ArrayList<>(site.dotfilesAllow());
        for (String a : dotfilesAllow) {
            if (a.equals("none")) allow.clear();
            else allow.add(parsed("", () -> flash.config.SiteRules.parseDotfilesAllow(a)));
        }
        return site.withCacheControl(parseAll(cacheControl, flash.config.CacheControlRule::parse))
                .withErrorPages(pages)
                .withFallback(fallback == null ? null : parsed("", () -> flash.config.SiteRules.parseFallback(fallback)))
                .withDotfilesAllow(allow)
                .withMime(parseAll(mime, flash.config.MimeRule::parse));
    }

    /**
     * The listening address must be a literal or resolve now: the socket layer would only say
     * UnresolvedAddressException. (A name is resolved once, here at start, as upstream names are.)
     */
    private static void checkBind(String bind) {
        if (bind.isEmpty()) throw new UsageError("--bind needs an address, e.g. 127.0.0.1, 0.0.0.0 or ::");
        try {
            java.net.InetAddress.getByName(bind);
        } catch (java.net.UnknownHostException | SecurityException e) {
            throw new UsageError("--bind '" + bind + "' is not an address or a host name that resolves");
        }
    }

    /**
     * Upstream names are resolved once when the server starts; one that does not resolve is a usage error now, under
     * every architecture (an mp parent would otherwise only see its workers fail to start).
     */
    private static void checkResolvable(java.util.List<flash.config.ProxyRoute> proxies, java.util.List<flash.config.FastCgiRoute> fcgi) {
        for (flash.config.ProxyRoute p : proxies) {
            for (flash.config.ProxyRoute.Target t : p.targets()) {
                if (t.host() != null && new java.net.InetSocketAddress(t.host(), t.port()).isUnresolved()) {
                    throw new UsageError("--proxy " + p.prefix() + ": cannot resolve upstream host '" + t.host() + "'");
                }
            }
        }
        for (flash.config.FastCgiRoute f : fcgi) {
            if (f.unixSocket() == null && new java.net.InetSocketAddress(f.host(), f.port()).isUnresolved()) {
                throw new UsageError("--fastcgi " + f.ext() + ": cannot resolve host '" + f.host() + "'");
            }
        }
    }

    /** --tls-cert and --tls-key in pairs, each file readable now (their contents are checked when the server starts). */
    private java.util.List<flash.config.TlsPair> tlsPairs() {
        if (tlsCerts.size() != tlsKeys.size()) {
            throw new UsageError("--tls-cert and --tls-key come in pairs: " + tlsCerts.size() + " certificate(s), "
                    + tlsKeys.size() + " key(s)");
        }
        java.util.List<flash.config.TlsPair> pairs = new java.util.ArrayList<>();
        for (int i = 0; i < tlsCerts.size(); i++) {
            for (String opt : new String[] {"--tls-cert", "--tls-key"}) {
                Path f = opt.equals("--tls-cert") ? tlsCerts.get(i) : tlsKeys.get(i);
                if (!Files.isRegularFile(f) || !Files.isReadable(f)) throw new UsageError(opt + " '" + f + "' is not a readable file");
            }
            pairs.add(new flash.config.TlsPair(tlsCerts.get(i).toAbsolutePath(), tlsKeys.get(i).toAbsolutePath()));
        }
        return pairs;
    }

    /** Fails now, with a sentence, rather than at the first request: the file must open for appending. */
    private static void checkWritable(String option, String path) {
        if (path.equals("-")) return;
        if (path.isEmpty()) throw new UsageError(option + " needs a file name" + (option.equals("--access-log") ? ", or '-' for stdout" : ""));
        Path p = Path.of(path);
        if (Files.isDirectory(p)) throw new UsageError(option + " '" + path + "' is a directory");
        try (var ch = java.nio.channels.FileChannel.open(p, java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.WRITE, java.nio.file.StandardOpenOption.APPEND)) {
            // opened (and created when missing): the server opens it again when it starts
        } catch (IOException | RuntimeException e) {
            throw new UsageError(option + " '" + path + "' cannot be opened for writing: " + e.getMessage());
        }
    }

    /** A value through its parser; one it refuses is a usage error: {@code prefix} and the parser's sentence. */
    private static <T> T parsed(String prefix, java.util.function.Supplier<T> parse) {
        try {
            return parse.get();
        } catch (IllegalArgumentException e) {
            throw new UsageError(prefix + e.getMessage());
        }
    }

    /** Every value of a repeatable option through its parser (whose messages name the option). */
    private static <T> java.util.List<T> parseAll(java.util.List<String> values, java.util.function.Function<String, T> parse) {
        java.util.List<T> out = new java.util.ArrayList<>(values.size());
        for (String v : values) out.add(parsed("", () -> parse.apply(v)));
        return out;
    }

    private static void positive(String name, long v) {
        if (v < 1) throw new UsageError(name + " must be at least 1, not " + v);
    }

    private static Duration seconds(String name, double v) {
        if (!(v > 0) || v > 86_400) throw new UsageError(name + " must be more than 0 and at most 86400 seconds, not " + v);
        return Duration.ofMillis(Math.round(v * 1000));
    }

    static final class RevalidationConverter implements picocli.CommandLine.ITypeConverter<flash.config.Revalidation> {
        @Override
        public flash.config.Revalidation convert(String value) {
            for (flash.config.Revalidation r : flash.config.Revalidation.values()) if (r.cliName().equalsIgnoreCase(value)) return r;
            throw new picocli.CommandLine.TypeConversionException("unknown revalidation '" + value + "' (choose watch or stat)");
        }
    }

    static final class ArchConverter implements picocli.CommandLine.ITypeConverter<Architecture> {
        @Override
        public Architecture convert(String value) {
            for (Architecture a : Architecture.values()) if (a.cliName().equalsIgnoreCase(value)) return a;
            throw new picocli.CommandLine.TypeConversionException("unknown architecture '" + value + "' (choose amped, sped, mt, mp or vt)");
        }
    }
}
