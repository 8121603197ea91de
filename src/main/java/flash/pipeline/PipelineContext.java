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
 * the residency test. Built once per server, safe to use from every loop and helper; a reload swaps the
 * configuration, the document root's site and the route tables whole ({@link #swap}).
 */
public final class PipelineContext {
    private volatile ServerConfig config;
    private final HeaderCache headerCache;
    private final ChunkCache chunkCache;   // null when disabled
    private final Responder responder;
    private final Outgoing.ResidencyCheck residency;
    private final flash.compress.CompressedCache compressedCache; // null unless --compress
    // Descriptors the sites' unheld entries may keep open, one room for them all (made before the first site).
    private final flash.content.DescriptorBudget descriptors = flash.content.DescriptorBudget.forProcess();
    /** This server's: its rate limit is per server, as the 5xx lines' is. */
    private final CutResponseLog cutResponses = new CutResponseLog();
    private volatile StaticSite site;      // the document root's files
    private volatile Routing routing;
    private Completion.Listener listener = Completion.Listener.NONE;
    private volatile java.util.function.Consumer<RequestTarget.Normalized> translationFault; // tests only
    private flash.content.FileWatch fileWatch; // made when a site first asks (--revalidate watch); guarded by this

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
        int smallFileMax = Integer.getInteger("flash.smallFileMax", config.smallFileMax());
        this.site = new StaticSite(this, config, config, config.root());
        this.headerCache = new HeaderCache(config.headerCache(), config.headerAlign());
        long mappedBudget = config.cacheBytes() - config.cacheBytes() / 4; // the path caches hold the other quarter
        long mapMax = Long.getLong("flash.mapMax", mappedBudget / ChunkCache.MAP_MAX_FRACTION);
        this.chunkCache = config.fileCache() && Native.available()
                ? new ChunkCache(mappedBudget, smallFileMax, mapMax)
                : null;
        this.responder = new Responder(headerCache, chunkCache);
        this.residency = residency;
        this.compressedCache = config.compression().compress()
                ? new flash.compress.CompressedCache(config.compression().cacheBytes()) : null;
    }

    /**
     * The configuration in force: read per use (timeouts, limits), so a reload reaches connections already open at
     * their next exchange. What was sized at start from it (loops, caches) keeps the start's values.
     */
    public ServerConfig config() { return config; }
    public Responder responder() { return responder; }
    /** The document root's path cache (null when disabled). */
    public PathCache pathCache() { return site.pathCache(); }
    public HeaderCache headerCache() { return headerCache; }
    /** The descriptors every site's unheld entries may keep open; the acceptor sheds them when connections need room. */
    public flash.content.DescriptorBudget descriptors() { return descriptors; }
    public ChunkCache chunkCache() { return chunkCache; }
    public PathTranslator translator() { return site.translator(); }
    public Outgoing.ResidencyCheck residency() { return residency; }
    /** Bodies compressed on the fly (--compress), or null. */
    public flash.compress.CompressedCache compressedCache() { return compressedCache; }
    /** The document root's files. */
    public StaticSite site() { return site; }

    /**
     * A tree of static files with {@code site}'s settings at {@code root}, sized as this server's caches are. The
     * document root's is {@link #site()}; virtual hosts and --static routes get their own.
     */
    public StaticSite newSite(ServerConfig site, java.nio.file.Path root) {
        return new StaticSite(this, config, site, root);
    }

    /**
     * The server's one file watch (--revalidate watch), shared by every site and kept across reloads: one inotify
     * instance and one thread per process. Made on first use, so a server under --revalidate stat has none.
     */
    public synchronized flash.content.FileWatch fileWatch() {
        if (fileWatch == null) fileWatch = flash.content.FileWatch.start(flash.content.FileWatch.DEFAULT_MAX_DIRS);
        return fileWatch;
    }

    /** The file watch if one was made, else null (for the status page). */
    public synchronized flash.content.FileWatch fileWatchIfStarted() { return fileWatch; }

    /** The default route table (the one for hosts no virtual host names). */
    public Router router() { return routing.fallback(); }
    /** Sets a single route table (no virtual hosts). */
    public void router(Router r) { this.routing = Routing.of(r); }
    /** The route tables, read once per exchange: an exchange finishes on the tables it was routed by. */
    public Routing routing() { return routing; }
    public void routing(Routing r) { this.routing = r; }

    /**
     * A reload: the new configuration, document root and route tables take effect for every exchange routed from
     * now on; exchanges in flight keep the handlers they hold. Returns the site replaced (to be cleared later).
     */
    public StaticSite swap(ServerConfig next, StaticSite nextSite, Routing nextRouting) {
        StaticSite old = this.site;
        this.config = next;
        this.site = nextSite;
        this.routing = nextRouting;
        return old;
    }

    public Completion.Listener listener() { return listener; }
    CutResponseLog cutResponses() { return cutResponses; }
    public void listener(Completion.Listener l) { this.listener = l; }

    /** Non-blocking: a fresh cached translation (one reference owned by the caller), or null. */
    public Translation lookup(RequestTarget.Normalized target) {
        return site.lookup(target);
    }

    /** Blocking: translate and remember. Runs wherever the architecture runs disk work. */
    public Translation translate(RequestTarget.Normalized target) {
        return site.translate(target);
    }

    void beforeTranslation(RequestTarget.Normalized target) {
        java.util.function.Consumer<RequestTarget.Normalized> fault = translationFault;
        if (fault != null) fault.accept(target);
    }

    /**
     * Fault injection for tests: {@code fault} runs at the start of every translation, where translations run (a
     * helper under amped), and whatever it throws fails that translation as a defect in it would. Null: none (the
     * default; production never sets one).
     */
    public void translationFault(java.util.function.Consumer<RequestTarget.Normalized> fault) { this.translationFault = fault; }

    /** Whether a test's fault is set: translations then all run where {@link #beforeTranslation} can fail them. */
    boolean translationFaultSet() { return translationFault != null; }

    /**
     * Blocking: bring a file range into the page cache by reading it (the paper's helpers did the same with mmap).
     * Throws {@link Outgoing.TruncatedFileException} when the file ends inside the range.
     */
    public Boolean warm(FileHandle file, long offset, long length) throws IOException {
        DiskGuard.check("read");
        ByteBuffer scratch = WARM_BUFFER.get();
        long pos = offset, end = offset + length;
        while (pos < end) {
            scratch.clear().limit((int) Math.min(scratch.capacity(), end - pos));
            int n = file.channel().read(scratch, pos);
            // Shorter than the response promised: fail now, so a body not started yet becomes a 500, not a close.
            if (n < 0) throw new Outgoing.TruncatedFileException(file, pos);
            pos += n;
        }
        return Boolean.TRUE;
    }

    private static final ThreadLocal<ByteBuffer> WARM_BUFFER = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(256 * 1024));

    /** Releases cached files (shutdown). */
    public void close() {
        site.clear();
        Routing r = routing;
        if (r != null) r.clear(); // virtual hosts' and --static routes' trees
        if (chunkCache != null) chunkCache.clear();
        if (compressedCache != null) compressedCache.clear();
        flash.content.FileWatch w = fileWatchIfStarted();
        if (w != null) w.close();
    }
}
