package flash.config;

import flash.http.HttpLimits;

import java.nio.file.Path;
import java.time.Duration;

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
        int headerAlign) {

    /** Event loops: one per core, as the paper ran one Flash process per CPU. */
    public static final int DEFAULT_LOOPS = Runtime.getRuntime().availableProcessors();
    /** Helpers: enough outstanding disk operations to keep a disk queue full. */
    public static final int DEFAULT_HELPERS = 16;
    /** MT pool size and MP process count: the paper's configurations. */
    public static final int DEFAULT_THREADS = 64;
    public static final int DEFAULT_PROCESSES = 32;
    /** Path-translation cache entries: the paper's 6000. */
    public static final int DEFAULT_PATH_CACHE = 6000;
    /** Mapped-file cache budget. */
    public static final long DEFAULT_CACHE_BYTES = 256L << 20;
    /** Files up to this size are held in memory and go out with their header in one gathering write. */
    public static final int DEFAULT_SMALL_FILE_MAX = 64 * 1024;

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
                Duration.ofSeconds(1),    // cached translations are revalidated after this long
                DEFAULT_SMALL_FILE_MAX, null, false, 0);
    }

    public ServerConfig withRoot(Path v) { return new ServerConfig(v, bind, port, arch, loops, helpers, threads, processes, listDirs, followSymlinks, dotfiles, limits, headerTimeout, idleTimeout, writeTimeout, drainTimeout, maxConnections, backlog, pathCacheEntries, headerCache, fileCache, cacheBytes, revalidateAfter, smallFileMax, statusPath, reusePort, headerAlign); }
    public ServerConfig withBind(String v) { return new ServerConfig(root, v, port, arch, loops, helpers, threads, processes, listDirs, followSymlinks, dotfiles, limits, headerTimeout, idleTimeout, writeTimeout, drainTimeout, maxConnections, backlog, pathCacheEntries, headerCache, fileCache, cacheBytes, revalidateAfter, smallFileMax, statusPath, reusePort, headerAlign); }
    public ServerConfig withPort(int v) { return new ServerConfig(root, bind, v, arch, loops, helpers, threads, processes, listDirs, followSymlinks, dotfiles, limits, headerTimeout, idleTimeout, writeTimeout, drainTimeout, maxConnections, backlog, pathCacheEntries, headerCache, fileCache, cacheBytes, revalidateAfter, smallFileMax, statusPath, reusePort, headerAlign); }
    public ServerConfig withArch(Architecture v) { return new ServerConfig(root, bind, port, v, loops, helpers, threads, processes, listDirs, followSymlinks, dotfiles, limits, headerTimeout, idleTimeout, writeTimeout, drainTimeout, maxConnections, backlog, pathCacheEntries, headerCache, fileCache, cacheBytes, revalidateAfter, smallFileMax, statusPath, reusePort, headerAlign); }
    public ServerConfig withLoops(int v) { return new ServerConfig(root, bind, port, arch, v, helpers, threads, processes, listDirs, followSymlinks, dotfiles, limits, headerTimeout, idleTimeout, writeTimeout, drainTimeout, maxConnections, backlog, pathCacheEntries, headerCache, fileCache, cacheBytes, revalidateAfter, smallFileMax, statusPath, reusePort, headerAlign); }
    public ServerConfig withHelpers(int v) { return new ServerConfig(root, bind, port, arch, loops, v, threads, processes, listDirs, followSymlinks, dotfiles, limits, headerTimeout, idleTimeout, writeTimeout, drainTimeout, maxConnections, backlog, pathCacheEntries, headerCache, fileCache, cacheBytes, revalidateAfter, smallFileMax, statusPath, reusePort, headerAlign); }
    public ServerConfig withThreads(int v) { return new ServerConfig(root, bind, port, arch, loops, helpers, v, processes, listDirs, followSymlinks, dotfiles, limits, headerTimeout, idleTimeout, writeTimeout, drainTimeout, maxConnections, backlog, pathCacheEntries, headerCache, fileCache, cacheBytes, revalidateAfter, smallFileMax, statusPath, reusePort, headerAlign); }
    public ServerConfig withProcesses(int v) { return new ServerConfig(root, bind, port, arch, loops, helpers, threads, v, listDirs, followSymlinks, dotfiles, limits, headerTimeout, idleTimeout, writeTimeout, drainTimeout, maxConnections, backlog, pathCacheEntries, headerCache, fileCache, cacheBytes, revalidateAfter, smallFileMax, statusPath, reusePort, headerAlign); }
    public ServerConfig withListDirs(boolean v) { return new ServerConfig(root, bind, port, arch, loops, helpers, threads, processes, v, followSymlinks, dotfiles, limits, headerTimeout, idleTimeout, writeTimeout, drainTimeout, maxConnections, backlog, pathCacheEntries, headerCache, fileCache, cacheBytes, revalidateAfter, smallFileMax, statusPath, reusePort, headerAlign); }
    public ServerConfig withFollowSymlinks(boolean v) { return new ServerConfig(root, bind, port, arch, loops, helpers, threads, processes, listDirs, v, dotfiles, limits, headerTimeout, idleTimeout, writeTimeout, drainTimeout, maxConnections, backlog, pathCacheEntries, headerCache, fileCache, cacheBytes, revalidateAfter, smallFileMax, statusPath, reusePort, headerAlign); }
    public ServerConfig withDotfiles(boolean v) { return new ServerConfig(root, bind, port, arch, loops, helpers, threads, processes, listDirs, followSymlinks, v, limits, headerTimeout, idleTimeout, writeTimeout, drainTimeout, maxConnections, backlog, pathCacheEntries, headerCache, fileCache, cacheBytes, revalidateAfter, smallFileMax, statusPath, reusePort, headerAlign); }
    public ServerConfig withLimits(HttpLimits v) { return new ServerConfig(root, bind, port, arch, loops, helpers, threads, processes, listDirs, followSymlinks, dotfiles, v, headerTimeout, idleTimeout, writeTimeout, drainTimeout, maxConnections, backlog, pathCacheEntries, headerCache, fileCache, cacheBytes, revalidateAfter, smallFileMax, statusPath, reusePort, headerAlign); }
    public ServerConfig withTimeouts(Duration header, Duration idle, Duration write) { return new ServerConfig(root, bind, port, arch, loops, helpers, threads, processes, listDirs, followSymlinks, dotfiles, limits, header, idle, write, drainTimeout, maxConnections, backlog, pathCacheEntries, headerCache, fileCache, cacheBytes, revalidateAfter, smallFileMax, statusPath, reusePort, headerAlign); }
    public ServerConfig withDrainTimeout(Duration v) { return new ServerConfig(root, bind, port, arch, loops, helpers, threads, processes, listDirs, followSymlinks, dotfiles, limits, headerTimeout, idleTimeout, writeTimeout, v, maxConnections, backlog, pathCacheEntries, headerCache, fileCache, cacheBytes, revalidateAfter, smallFileMax, statusPath, reusePort, headerAlign); }
    public ServerConfig withMaxConnections(int v) { return new ServerConfig(root, bind, port, arch, loops, helpers, threads, processes, listDirs, followSymlinks, dotfiles, limits, headerTimeout, idleTimeout, writeTimeout, drainTimeout, v, backlog, pathCacheEntries, headerCache, fileCache, cacheBytes, revalidateAfter, smallFileMax, statusPath, reusePort, headerAlign); }
    public ServerConfig withPathCache(int v) { return new ServerConfig(root, bind, port, arch, loops, helpers, threads, processes, listDirs, followSymlinks, dotfiles, limits, headerTimeout, idleTimeout, writeTimeout, drainTimeout, maxConnections, backlog, v, headerCache, fileCache, cacheBytes, revalidateAfter, smallFileMax, statusPath, reusePort, headerAlign); }
    public ServerConfig withHeaderCache(boolean v) { return new ServerConfig(root, bind, port, arch, loops, helpers, threads, processes, listDirs, followSymlinks, dotfiles, limits, headerTimeout, idleTimeout, writeTimeout, drainTimeout, maxConnections, backlog, pathCacheEntries, v, fileCache, cacheBytes, revalidateAfter, smallFileMax, statusPath, reusePort, headerAlign); }
    public ServerConfig withFileCache(boolean v) { return new ServerConfig(root, bind, port, arch, loops, helpers, threads, processes, listDirs, followSymlinks, dotfiles, limits, headerTimeout, idleTimeout, writeTimeout, drainTimeout, maxConnections, backlog, pathCacheEntries, headerCache, v, cacheBytes, revalidateAfter, smallFileMax, statusPath, reusePort, headerAlign); }
    public ServerConfig withCacheBytes(long v) { return new ServerConfig(root, bind, port, arch, loops, helpers, threads, processes, listDirs, followSymlinks, dotfiles, limits, headerTimeout, idleTimeout, writeTimeout, drainTimeout, maxConnections, backlog, pathCacheEntries, headerCache, fileCache, v, revalidateAfter, smallFileMax, statusPath, reusePort, headerAlign); }
    public ServerConfig withRevalidateAfter(Duration v) { return new ServerConfig(root, bind, port, arch, loops, helpers, threads, processes, listDirs, followSymlinks, dotfiles, limits, headerTimeout, idleTimeout, writeTimeout, drainTimeout, maxConnections, backlog, pathCacheEntries, headerCache, fileCache, cacheBytes, v, smallFileMax, statusPath, reusePort, headerAlign); }
    public ServerConfig withSmallFileMax(int v) { return new ServerConfig(root, bind, port, arch, loops, helpers, threads, processes, listDirs, followSymlinks, dotfiles, limits, headerTimeout, idleTimeout, writeTimeout, drainTimeout, maxConnections, backlog, pathCacheEntries, headerCache, fileCache, cacheBytes, revalidateAfter, v, statusPath, reusePort, headerAlign); }
    public ServerConfig withStatusPath(String v) { return new ServerConfig(root, bind, port, arch, loops, helpers, threads, processes, listDirs, followSymlinks, dotfiles, limits, headerTimeout, idleTimeout, writeTimeout, drainTimeout, maxConnections, backlog, pathCacheEntries, headerCache, fileCache, cacheBytes, revalidateAfter, smallFileMax, v, reusePort, headerAlign); }
    public ServerConfig withReusePort(boolean v) { return new ServerConfig(root, bind, port, arch, loops, helpers, threads, processes, listDirs, followSymlinks, dotfiles, limits, headerTimeout, idleTimeout, writeTimeout, drainTimeout, maxConnections, backlog, pathCacheEntries, headerCache, fileCache, cacheBytes, revalidateAfter, smallFileMax, statusPath, v, headerAlign); }
    public ServerConfig withHeaderAlign(int v) { return new ServerConfig(root, bind, port, arch, loops, helpers, threads, processes, listDirs, followSymlinks, dotfiles, limits, headerTimeout, idleTimeout, writeTimeout, drainTimeout, maxConnections, backlog, pathCacheEntries, headerCache, fileCache, cacheBytes, revalidateAfter, smallFileMax, statusPath, reusePort, v); }
}
