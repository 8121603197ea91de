package flash.config;

import flash.http.HttpLimits;

import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * Everything a running server needs to know, immutable. Every default lives here, documented once; the CLI
 * and the tests start from {@link #defaults(Path)} and change what they need with the withers.
 */
public record ServerConfig(
        Path root,
        String bind,
        int port,
        Architecture arch,
        int loops,
        int helpers,
        int threads,
        int processes,
        boolean listDirs,
        boolean followSymlinks,
        boolean dotfiles,
        HttpLimits limits,
        Duration headerTimeout,
        Duration idleTimeout,
        Duration writeTimeout,
        Duration drainTimeout,
        int maxConnections,
        int backlog,
        int pathCacheEntries,
        boolean headerCache,
        boolean fileCache,
        long cacheBytes,
        Duration revalidateAfter,
        int smallFileMax,
        String statusPath,
        boolean reusePort,
        int headerAlign,
        java.util.List<ProxyRoute> proxies,
        int upstreamKeepalive,
        Duration upstreamConnectTimeout,
        Duration upstreamTimeout,
        Duration tunnelTimeout,
        String accessLog,
        AccessLogFormat accessLogFormat,
        java.util.List<CgiRoute> cgis,
        Duration cgiTimeout,
        java.util.List<FastCgiRoute> fastcgi,
        java.util.List<String> indexNames,
        int fastcgiConnections,
        int fastcgiQueue,
        Duration fastcgiTimeout,
        CompressionConfig compression,
        SiteRules site,
        boolean proxyProtocol,
        java.util.List<StaticRoute> statics,
        java.util.List<HeaderRule> headerRules,
        java.util.List<VirtualHost> vhosts,
        java.util.List<TlsPair> tls,
        java.util.List<String> tlsProtocols,
        TlsEngine tlsEngine,
        int httpRedirectPort,
        String healthPath,
        Duration drainDelay,
        Revalidation revalidation,
        Duration revalidateWatched) {

    /** Event loops: one per core, as the paper ran one Flash process per CPU. */
    public static final int DEFAULT_LOOPS = Runtime.getRuntime().availableProcessors();
    /** Helpers: enough outstanding disk operations to keep a disk queue full. */
    public static final int DEFAULT_HELPERS = 16;
    /** MT pool size and MP process count: the paper's configurations. */
    public static final int DEFAULT_THREADS = 64;
    public static final int DEFAULT_PROCESSES = 32;
    /** The files a container's memory limit is read from: cgroup v2's, then v1's (Docker on an older host). */
    static final java.util.List<java.nio.file.Path> CGROUP_LIMITS = java.util.List.of(
            java.nio.file.Path.of("/sys/fs/cgroup/memory.max"),
            java.nio.file.Path.of("/sys/fs/cgroup/memory/memory.limit_in_bytes"));

    /** The machine's memory (see {@link #physicalMemory}), read once for the defaults sized by it. */
    private static final long MACHINE_BYTES = physicalMemory();

    /**
     * Path-translation cache entries, per site: as many as a sixteenth of the machine's memory (or cgroup limit), and
     * a quarter of the heap, hold at about 1.1 KiB of heap per cached small file (docs/performance.md, "Cache
     * policy"), between 20,000 and 200,000 (the most from 3.4 GiB up under the launcher's 1 GiB heap; 116,000 on
     * 2 GiB). The paper's 6,000 was for 1999. A translation is served until its revalidation bound (a minute under a
     * watch), so every path of a site can hit, and a site with more files than entries pays a translation on a
     * helper for each miss: 100,000 files under 50,000 entries served 0.30 of what they did under 200,000 (section
     * 22). Entries are made as paths are asked for, so a small site costs no more.
     */
    public static final int DEFAULT_PATH_CACHE = pathCacheFor(MACHINE_BYTES, Runtime.getRuntime().maxMemory());
    /** Heap per path-cache entry of a small file, as measured (about 1.1 KiB), for sizing the cache and its heap. */
    public static final int PATH_CACHE_ENTRY_BYTES = 1152;

    static int pathCacheFor(long machineBytes, long heapBytes) {
        long budget = Long.MAX_VALUE;
        if (machineBytes > 0) budget = machineBytes / 16;
        if (heapBytes > 0 && heapBytes != Long.MAX_VALUE) budget = Math.min(budget, heapBytes / 4); // MAX_VALUE: no bound
        if (budget == Long.MAX_VALUE) return 50_000; // neither known
        return (int) Math.clamp(budget / PATH_CACHE_ENTRY_BYTES, 20_000, 200_000);
    }
    /**
     * File-data cache budget (--cache-mb): 256 MiB, or a sixteenth of the memory the machine (or the container's
     * cgroup limit, as the JVM reports it) has when that is less, but at least 16 MiB. The cache's bytes are resident
     * (small files copied, larger ones mapped), so on a 1 GiB host the paper's large cache would be a quarter of it.
     */
    public static final long DEFAULT_CACHE_BYTES = cacheBytesFor(MACHINE_BYTES);

    static long cacheBytesFor(long machineBytes) {
        if (machineBytes <= 0) return 256L << 20;
        return Math.clamp(machineBytes / 16, 16L << 20, 256L << 20);
    }

    private static long physicalMemory() {
        return physicalMemory(java.nio.file.Path.of("/proc/meminfo"), CGROUP_LIMITS);
    }

    /**
     * MemTotal, or the lowest cgroup memory limit when lower; -1 when none can be read. Read from /proc and /sys
     * rather than through the management beans, whose classes would cost the footprint this default is about. An
     * unlimited cgroup reads "max" (v2) or a figure near 2^63 (v1): neither is below MemTotal.
     */
    static long physicalMemory(java.nio.file.Path meminfo, java.util.List<java.nio.file.Path> cgroupLimits) {
        long total = -1;
        try {
            for (String l : java.nio.file.Files.readAllLines(meminfo)) {
                if (l.startsWith("MemTotal:")) total = Long.parseLong(l.replaceAll("[^0-9]", "")) * 1024;
            }
        } catch (java.io.IOException | RuntimeException e) {
            // not Linux, or no /proc: the cgroup's limit, if any, or the fixed default
        }
        for (java.nio.file.Path limit : cgroupLimits) {
            try {
                if (!java.nio.file.Files.isReadable(limit)) continue;
                String v = java.nio.file.Files.readString(limit).trim();
                if (v.matches("[0-9]{1,18}") && (total < 0 || Long.parseLong(v) < total)) total = Long.parseLong(v);
            } catch (java.io.IOException | RuntimeException e) {
                // no limit of this cgroup version to read
            }
        }
        return total;
    }

    /**
     * The memory the defaults are sized from: MemTotal, or the cgroup (v2 or v1) limit when lower; -1 when none can be
     * read. The launcher picks the JVM's memory flags from the same figure (its machine_mib).
     */
    public static long machineBytes() { return MACHINE_BYTES; }
    /** Files up to this size are held in memory and go out with their header in one gathering write. */
    public static final int DEFAULT_SMALL_FILE_MAX = 64 * 1024;
    /** Idle keep-alive connections kept per upstream (per event loop under amped and sped). */
    public static final int DEFAULT_UPSTREAM_KEEPALIVE = 32;
    public static final Duration DEFAULT_UPSTREAM_CONNECT_TIMEOUT = Duration.ofSeconds(5);
    /** Upstream reads and writes: no progress for this long gives 504 (nginx's proxy_read_timeout). */
    public static final Duration DEFAULT_UPSTREAM_TIMEOUT = Duration.ofSeconds(60);
    /** An upgraded (WebSocket) tunnel with no traffic either way for this long is closed. */
    public static final Duration DEFAULT_TUNNEL_TIMEOUT = Duration.ofSeconds(300);
    /** A CGI script that makes no output progress for this long gets 504 (or its connection closed) and is killed. */
    public static final Duration DEFAULT_CGI_TIMEOUT = Duration.ofSeconds(60);

    /** Names tried, in order, for a directory URL ending in '/' (--index). */
    public static final java.util.List<String> DEFAULT_INDEX = java.util.List.of("index.html");
    /**
     * FastCGI connections per backend for the whole server (split between the event loops under amped and sped, and
     * between the workers under mp). Each open connection holds a php-fpm worker, so keep it at or below the pool's
     * pm.max_children: Debian's default pool has 5.
     */
    public static final int DEFAULT_FASTCGI_CONNECTIONS = 4;
    /** Requests that may wait, in FIFO order, for a FastCGI connection (per pool); past that, 503 with Retry-After. */
    public static final int DEFAULT_FASTCGI_QUEUE = 256;
    /** FastCGI reads and writes: no progress for this long gives 504. */
    public static final Duration DEFAULT_FASTCGI_TIMEOUT = Duration.ofSeconds(60);
    /**
     * On SIGTERM, how long the server serves on, its health path already answering 503, before it closes the
     * listener and drains: the time a load balancer needs to see the 503 and stop sending (--drain-delay).
     */
    public static final Duration DEFAULT_DRAIN_DELAY = Duration.ZERO;
    /**
     * A cached translation is re-checked on disk after this long (--revalidate-ms): under --revalidate stat, every
     * one; under watch, only those that could not be watched (inotify limits). Today's freshness guarantee.
     */
    public static final Duration DEFAULT_REVALIDATE_AFTER = Duration.ofSeconds(1);
    /** Cached translations are invalidated by inotify events, not re-checked every second (issue #11). */
    public static final Revalidation DEFAULT_REVALIDATION = Revalidation.WATCH;
    /**
     * Under --revalidate watch, a watched translation is still re-checked after this long (--revalidate-watched-ms):
     * the safety net for changes inotify does not report (writes through a shared mapping, another host writing to a
     * network file system, a FUSE file system without notifications). A minute costs one stat per hot file a minute.
     */
    public static final Duration DEFAULT_REVALIDATE_WATCHED = Duration.ofSeconds(60);

    /** TLS versions offered (--tls-protocols): nothing older than 1.2. */
    public static final java.util.List<String> DEFAULT_TLS_PROTOCOLS = java.util.List.of("TLSv1.3", "TLSv1.2");
    /** --http-redirect-port: no plain listener redirecting to https unless asked for. */
    public static final int NO_REDIRECT = -1;

    public static ServerConfig defaults(Path root) {
        return new ServerConfig(root, "127.0.0.1", 8080, Architecture.AMPED, DEFAULT_LOOPS, DEFAULT_HELPERS,
                DEFAULT_THREADS, DEFAULT_PROCESSES, false, false, false, HttpLimits.DEFAULTS,
                Duration.ofSeconds(10),   // header read (slowloris) timeout
                Duration.ofSeconds(60),   // keep-alive idle timeout
                Duration.ofSeconds(60),   // write timeout: a client that stops reading
                Duration.ofSeconds(10),   // drain on SIGTERM
                10_000,                   // open connections
                1024,                     // listen backlog (the JDK's default of 50 drops bursts)
                DEFAULT_PATH_CACHE, true, true, DEFAULT_CACHE_BYTES,
                DEFAULT_REVALIDATE_AFTER, // cached translations are revalidated after this long
                DEFAULT_SMALL_FILE_MAX, null, false, 0, java.util.List.of(), DEFAULT_UPSTREAM_KEEPALIVE,
                DEFAULT_UPSTREAM_CONNECT_TIMEOUT, DEFAULT_UPSTREAM_TIMEOUT, DEFAULT_TUNNEL_TIMEOUT,
                null, AccessLogFormat.COMBINED, // no access log unless asked for
                java.util.List.of(), DEFAULT_CGI_TIMEOUT,
                java.util.List.of(), DEFAULT_INDEX, DEFAULT_FASTCGI_CONNECTIONS, DEFAULT_FASTCGI_QUEUE,
                DEFAULT_FASTCGI_TIMEOUT, CompressionConfig.DEFAULTS, SiteRules.DEFAULTS,
                false,                    // no PROXY protocol header expected
                java.util.List.of(), java.util.List.of(), java.util.List.of(), // no extra static roots, header rules or vhosts
                java.util.List.of(), DEFAULT_TLS_PROTOCOLS, TlsEngine.AUTO, NO_REDIRECT, // plain HTTP unless a certificate is given
                null, DEFAULT_DRAIN_DELAY, // no health path unless asked for
                DEFAULT_REVALIDATION, DEFAULT_REVALIDATE_WATCHED);
    }

    /** Whether the listener speaks HTTPS. */
    public boolean tlsEnabled() { return !tls.isEmpty(); }

    public ServerConfig withRoot(Path v) { return edit(e -> e.root = v); }
    public ServerConfig withBind(String v) { return edit(e -> e.bind = v); }
    public ServerConfig withPort(int v) { return edit(e -> e.port = v); }
    public ServerConfig withArch(Architecture v) { return edit(e -> e.arch = v); }
    public ServerConfig withLoops(int v) { return edit(e -> e.loops = v); }
    public ServerConfig withHelpers(int v) { return edit(e -> e.helpers = v); }
    public ServerConfig withThreads(int v) { return edit(e -> e.threads = v); }
    public ServerConfig withProcesses(int v) { return edit(e -> e.processes = v); }
    public ServerConfig withListDirs(boolean v) { return edit(e -> e.listDirs = v); }
    public ServerConfig withFollowSymlinks(boolean v) { return edit(e -> e.followSymlinks = v); }
    public ServerConfig withDotfiles(boolean v) { return edit(e -> e.dotfiles = v); }
    public ServerConfig withLimits(HttpLimits v) { return edit(e -> e.limits = v); }
    public ServerConfig withTimeouts(Duration header, Duration idle, Duration write) {
        return edit(e -> { e.headerTimeout = header; e.idleTimeout = idle; e.writeTimeout = write; });
    }
    public ServerConfig withDrainTimeout(Duration v) { return edit(e -> e.drainTimeout = v); }
    public ServerConfig withMaxConnections(int v) { return edit(e -> e.maxConnections = v); }
    public ServerConfig withPathCache(int v) { return edit(e -> e.pathCacheEntries = v); }
    public ServerConfig withHeaderCache(boolean v) { return edit(e -> e.headerCache = v); }
    public ServerConfig withFileCache(boolean v) { return edit(e -> e.fileCache = v); }
    public ServerConfig withCacheBytes(long v) { return edit(e -> e.cacheBytes = v); }
    public ServerConfig withRevalidateAfter(Duration v) { return edit(e -> e.revalidateAfter = v); }
    public ServerConfig withSmallFileMax(int v) { return edit(e -> e.smallFileMax = v); }
    public ServerConfig withStatusPath(String v) { return edit(e -> e.statusPath = v); }
    public ServerConfig withReusePort(boolean v) { return edit(e -> e.reusePort = v); }
    public ServerConfig withHeaderAlign(int v) { return edit(e -> e.headerAlign = v); }
    public ServerConfig withProxies(java.util.List<ProxyRoute> v) { return edit(e -> e.proxies = java.util.List.copyOf(v)); }
    public ServerConfig withUpstreamKeepalive(int v) { return edit(e -> e.upstreamKeepalive = v); }
    public ServerConfig withUpstreamTimeouts(Duration connect, Duration io) {
        return edit(e -> { e.upstreamConnectTimeout = connect; e.upstreamTimeout = io; });
    }
    public ServerConfig withTunnelTimeout(Duration v) { return edit(e -> e.tunnelTimeout = v); }
    /** {@code path}: a file to append to, "-" for stdout, null for none. */
    public ServerConfig withAccessLog(String path, AccessLogFormat format) {
        return edit(e -> { e.accessLog = path; e.accessLogFormat = format; });
    }
    public ServerConfig withCgis(java.util.List<CgiRoute> v) { return edit(e -> e.cgis = java.util.List.copyOf(v)); }
    public ServerConfig withCgiTimeout(Duration v) { return edit(e -> e.cgiTimeout = v); }
    public ServerConfig withFastcgi(java.util.List<FastCgiRoute> v) { return edit(e -> e.fastcgi = java.util.List.copyOf(v)); }
    public ServerConfig withIndexNames(java.util.List<String> v) { return edit(e -> e.indexNames = java.util.List.copyOf(v)); }
    public ServerConfig withFastcgiConnections(int v) { return edit(e -> e.fastcgiConnections = v); }
    public ServerConfig withFastcgiQueue(int v) { return edit(e -> e.fastcgiQueue = v); }
    public ServerConfig withFastcgiTimeout(Duration v) { return edit(e -> e.fastcgiTimeout = v); }
    public ServerConfig withCompression(CompressionConfig v) { return edit(e -> e.compression = v); }
    public ServerConfig withSite(SiteRules v) { return edit(e -> e.site = v); }
    /** Every connection starts with a PROXY protocol v1 or v2 header (a load balancer in front), else it is closed. */
    public ServerConfig withProxyProtocol(boolean v) { return edit(e -> e.proxyProtocol = v); }
    public ServerConfig withStatics(java.util.List<StaticRoute> v) { return edit(e -> e.statics = java.util.List.copyOf(v)); }
    public ServerConfig withHeaderRules(java.util.List<HeaderRule> v) { return edit(e -> e.headerRules = java.util.List.copyOf(v)); }
    public ServerConfig withVhosts(java.util.List<VirtualHost> v) { return edit(e -> e.vhosts = java.util.List.copyOf(v)); }
    public ServerConfig withTls(java.util.List<TlsPair> v) { return edit(e -> e.tls = java.util.List.copyOf(v)); }
    public ServerConfig withTlsProtocols(java.util.List<String> v) { return edit(e -> e.tlsProtocols = java.util.List.copyOf(v)); }
    public ServerConfig withTlsEngine(TlsEngine v) { return edit(e -> e.tlsEngine = v); }
    /** A plain listener on this port answers every request with a 301 to https ({@link #NO_REDIRECT}: none; 0: any free port). */
    public ServerConfig withHttpRedirectPort(int v) { return edit(e -> e.httpRedirectPort = v); }
    /** {@code path}: the URL path that answers 200 while serving and 503 once a drain begins; null for none. */
    public ServerConfig withHealthPath(String v) { return edit(e -> e.healthPath = v); }
    public ServerConfig withDrainDelay(Duration v) { return edit(e -> e.drainDelay = v); }
    public ServerConfig withRevalidation(Revalidation v) { return edit(e -> e.revalidation = v); }
    public ServerConfig withRevalidateWatched(Duration v) { return edit(e -> e.revalidateWatched = v); }

    private ServerConfig edit(Consumer<Editor> change) {
        Editor e = new Editor(this);
        change.accept(e);
        return e.build();
    }

    /** A mutable copy for the withers, so the long canonical constructor call is written once. */
    private static final class Editor {
        Path root;
        String bind;
        int port;
        Architecture arch;
        int loops;
        int helpers;
        int threads;
        int processes;
        boolean listDirs;
        boolean followSymlinks;
        boolean dotfiles;
        HttpLimits limits;
        Duration headerTimeout;
        Duration idleTimeout;
        Duration writeTimeout;
        Duration drainTimeout;
        int maxConnections;
        int backlog;
        int pathCacheEntries;
        boolean headerCache;
        boolean fileCache;
        long cacheBytes;
        Duration revalidateAfter;
        int smallFileMax;
        String statusPath;
        boolean reusePort;
        int headerAlign;
        java.util.List<ProxyRoute> proxies;
        int upstreamKeepalive;
        Duration upstreamConnectTimeout;
        Duration upstreamTimeout;
        Duration tunnelTimeout;
        String accessLog;
        AccessLogFormat accessLogFormat;
        java.util.List<CgiRoute> cgis;
        Duration cgiTimeout;
        java.util.List<FastCgiRoute> fastcgi;
        java.util.List<String> indexNames;
        int fastcgiConnections;
        int fastcgiQueue;
        Duration fastcgiTimeout;
        CompressionConfig compression;
        SiteRules site;
        boolean proxyProtocol;
        java.util.List<StaticRoute> statics;
        java.util.List<HeaderRule> headerRules;
        java.util.List<VirtualHost> vhosts;
        java.util.List<TlsPair> tls;
        java.util.List<String> tlsProtocols;
        TlsEngine tlsEngine;
        int httpRedirectPort;
        String healthPath;
        Duration drainDelay;
        Revalidation revalidation;
        Duration revalidateWatched;

        Editor(ServerConfig c) {
            root = c.root;
            bind = c.bind;
            port = c.port;
            arch = c.arch;
            loops = c.loops;
            helpers = c.helpers;
            threads = c.threads;
            processes = c.processes;
            listDirs = c.listDirs;
            followSymlinks = c.followSymlinks;
            dotfiles = c.dotfiles;
            limits = c.limits;
            headerTimeout = c.headerTimeout;
            idleTimeout = c.idleTimeout;
            writeTimeout = c.writeTimeout;
            drainTimeout = c.drainTimeout;
            maxConnections = c.maxConnections;
            backlog = c.backlog;
            pathCacheEntries = c.pathCacheEntries;
            headerCache = c.headerCache;
            fileCache = c.fileCache;
            cacheBytes = c.cacheBytes;
            revalidateAfter = c.revalidateAfter;
            smallFileMax = c.smallFileMax;
            statusPath = c.statusPath;
            reusePort = c.reusePort;
            headerAlign = c.headerAlign;
            proxies = c.proxies;
            upstreamKeepalive = c.upstreamKeepalive;
            upstreamConnectTimeout = c.upstreamConnectTimeout;
            upstreamTimeout = c.upstreamTimeout;
            tunnelTimeout = c.tunnelTimeout;
            accessLog = c.accessLog;
            accessLogFormat = c.accessLogFormat;
            cgis = c.cgis;
            cgiTimeout = c.cgiTimeout;
            fastcgi = c.fastcgi;
            indexNames = c.indexNames;
            fastcgiConnections = c.fastcgiConnections;
            fastcgiQueue = c.fastcgiQueue;
            fastcgiTimeout = c.fastcgiTimeout;
            compression = c.compression;
            site = c.site;
            proxyProtocol = c.proxyProtocol;
            statics = c.statics;
            headerRules = c.headerRules;
            vhosts = c.vhosts;
            tls = c.tls;
            tlsProtocols = c.tlsProtocols;
            tlsEngine = c.tlsEngine;
            httpRedirectPort = c.httpRedirectPort;
            healthPath = c.healthPath;
            drainDelay = c.drainDelay;
            revalidation = c.revalidation;
            revalidateWatched = c.revalidateWatched;
        }

        ServerConfig build() {
            return new ServerConfig(root, bind, port, arch, loops, helpers, threads, processes, listDirs, followSymlinks, dotfiles, limits, headerTimeout, idleTimeout, writeTimeout, drainTimeout, maxConnections, backlog, pathCacheEntries, headerCache, fileCache, cacheBytes, revalidateAfter, smallFileMax, statusPath, reusePort, headerAlign, proxies, upstreamKeepalive, upstreamConnectTimeout, upstreamTimeout, tunnelTimeout, accessLog, accessLogFormat, cgis, cgiTimeout, fastcgi, indexNames, fastcgiConnections, fastcgiQueue, fastcgiTimeout, compression, site, proxyProtocol, statics, headerRules, vhosts,
                    tls, tlsProtocols, tlsEngine, httpRedirectPort, healthPath, drainDelay, revalidation, revalidateWatched);
        }
    }
}
