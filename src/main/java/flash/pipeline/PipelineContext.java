package flash.pipeline;

import flash.config.ServerConfig;
import flash.content.ChunkCache;
import flash.sys.DiskGuard;
import flash.content.FileHandle;
import flash.content.HeaderCache;
import flash.sys.Native;
import flash.content.PathCache;
import flash.content.PathTranslator;
import flash.content.Translation;
import flash.http.RequestTarget;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * What every connection of a server shares: configuration, the responder, the caches, the translator and
 * the residency test. Built once per server, immutable, safe to use from every loop and helper.
 */
public final class PipelineContext {
    private final ServerConfig config;
    private final PathTranslator translator;
    private final PathCache pathCache;     // null when disabled
    private final HeaderCache headerCache;
    private final ChunkCache chunkCache;   // null when disabled
    private final Responder responder;
    private final Outgoing.ResidencyCheck residency;
    private final flash.compress.CompressedCache compressedCache; // null unless --compress
    private Router router;
    private Completion.Listener listener = Completion.Listener.NONE;
    private volatile java.util.function.Consumer<RequestTarget.Normalized> translationFault; // tests only

    /** The --index names the static handler may serve: never one that FastCGI runs (its source would leak). */
    static java.util.List<String> staticIndexNames(ServerConfig config) {
        return config.indexNames().stream()
                .filter(n -> config.fastcgi().stream().noneMatch(f -> n.endsWith(f.ext())))
                .toList();
    }

    /** --mime rules as the translator takes them: lower-case extension to type, a later rule for an extension wins. */
    static java.util.Map<String, String> mimeRules(ServerConfig config) {
        java.util.Map<String, String> m = new java.util.HashMap<>();
        for (flash.config.MimeRule r : config.site().mime()) m.put(r.ext(), r.type());
        return m;
    }

    public PipelineContext(ServerConfig config, Outgoing.ResidencyCheck residency) {
        this.config = config;
        // Measurement knobs (docs/amped.md): move the small/mapped/sendfile boundaries without new CLI flags.
        int smallFileMax = Integer.getInteger("flash.smallFileMax", config.smallFileMax());
        this.translator = new PathTranslator(config.root(), config.followSymlinks(), config.dotfiles(), config.listDirs(),
                config.fileCache() ? smallFileMax : -1, staticIndexNames(config),
                new flash.content.DotfilePolicy(config.dotfiles(), config.site().dotfilesAllow()), mimeRules(config));
        // One --cache-mb budget: a quarter for small files held in memory by the path cache, the rest for mappings.
        long memoryBudget = config.cacheBytes() / 4;
        this.pathCache = config.pathCacheEntries() > 0
                ? new PathCache(config.pathCacheEntries(), config.fileCache() ? memoryBudget : 0, config.revalidateAfter().toNanos())
                : null;
        this.headerCache = new HeaderCache(config.headerCache(), config.headerAlign());
        long mappedBudget = config.cacheBytes() - memoryBudget;
        long mapMax = Long.getLong("flash.mapMax", mappedBudget / ChunkCache.MAP_MAX_FRACTION);
        this.chunkCache = config.fileCache() && Native.available()
                ? new ChunkCache(mappedBudget, smallFileMax, mapMax)
                : null;
        this.responder = new Responder(headerCache, chunkCache);
        this.residency = residency;
        this.compressedCache = config.compression().compress()
                ? new flash.compress.CompressedCache(config.compression().cacheBytes()) : null;
    }

    public ServerConfig config() { return config; }
    public Responder responder() { return responder; }
    public PathCache pathCache() { return pathCache; }
    public HeaderCache headerCache() { return headerCache; }
    public ChunkCache chunkCache() { return chunkCache; }
    public PathTranslator translator() { return translator; }
    public Outgoing.ResidencyCheck residency() { return residency; }
    /** Bodies compressed on the fly (--compress), or null. */
    public flash.compress.CompressedCache compressedCache() { return compressedCache; }
    /** The route table; set once by the server before the first connection. */
    public Router router() { return router; }
    public void router(Router r) { this.router = r; }
    public Completion.Listener listener() { return listener; }
    public void listener(Completion.Listener l) { this.listener = l; }

    /** Non-blocking: a fresh cached translation (one reference owned by the caller), or null. */
    public Translation lookup(RequestTarget.Normalized target) {
        return pathCache == null ? null : pathCache.lookup(target);
    }

    /** Blocking: translate and remember. Runs wherever the architecture runs disk work. */
    public Translation translate(RequestTarget.Normalized target) {
        java.util.function.Consumer<RequestTarget.Normalized> fault = translationFault;
        if (fault != null) fault.accept(target);
        Translation t = translator.translate(target);
        if (pathCache != null) pathCache.put(target, t);
        return t;
    }

    /**
     * Fault injection for tests: {@code fault} runs at the start of every translation, where translations run (a
     * helper under amped), and whatever it throws fails that translation as a defect in it would. Null: none (the
     * default; production never sets one).
     */
    public void translationFault(java.util.function.Consumer<RequestTarget.Normalized> fault) { this.translationFault = fault; }

    /** Blocking: bring a file range into the page cache by reading it (the paper's helpers did the same with mmap). */
    public Boolean warm(FileHandle file, long offset, long length) throws IOException {
        DiskGuard.check("read");
        ByteBuffer scratch = WARM_BUFFER.get();
        long pos = offset, end = offset + length;
        while (pos < end) {
            scratch.clear().limit((int) Math.min(scratch.capacity(), end - pos));
            int n = file.channel().read(scratch, pos);
            if (n < 0) break;
            pos += n;
        }
        return Boolean.TRUE;
    }

    private static final ThreadLocal<ByteBuffer> WARM_BUFFER = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(256 * 1024));

    /** Releases cached files (shutdown). */
    public void close() {
        if (pathCache != null) pathCache.clear();
        if (chunkCache != null) chunkCache.clear();
        if (compressedCache != null) compressedCache.clear();
    }
}
