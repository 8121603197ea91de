package flash.pipeline;

import flash.config.ServerConfig;
import flash.content.PathCache;
import flash.content.PathTranslator;
import flash.content.Translation;
import flash.http.RequestTarget;

import java.nio.file.Path;

/**
 * One tree of static files: the document root, a virtual host's root, or a {@code --static} directory. Each has
 * its own translator and path cache (the cache is keyed by URL path, which means a different file in each tree);
 * the response-head and file-data caches stay shared, since they are keyed by the file itself. Built whole and
 * replaced whole on a reload, never changed.
 */
public final class StaticSite {
    /**
     * Misses translated on the event loop when nothing would wait ({@link #translateWithoutWaiting}); false
     * ({@code -Dflash.loopTranslation=false}) sends every miss where blocking is allowed, as before: a measurement knob.
     */
    private static final boolean LOOP_TRANSLATION = !"false".equals(System.getProperty("flash.loopTranslation"));

    private final PipelineContext ctx;
    private final ServerConfig config;
    private final Path root;
    private final PathTranslator translator;
    private final PathCache pathCache; // null when disabled
    private final flash.content.FileWatch watch; // null unless --revalidate watch (and a path cache)
    private final boolean translatesWithoutWaiting; // misses may be translated on the loop (translateWithoutWaiting)

    /**
     * {@code site}: the per-site settings (list-dirs, symlinks, dotfiles, index names, the cgi directories that
     * must never be served); {@code root}: the directory the URL paths are relative to. Cache sizes and the
     * small-file bound are the server's ({@code server}).
     */
    StaticSite(PipelineContext ctx, ServerConfig server, ServerConfig site, Path root) {
        this.ctx = ctx;
        this.config = site;
        this.root = root;
        // Measurement knobs (docs/amped.md): move the small/mapped/sendfile boundaries without new CLI flags.
        int smallFileMax = Integer.getInteger("flash.smallFileMax", server.smallFileMax());
        // Without the file-data cache a small file's translation is still cached, as an unheld entry: its bytes are
        // read once by the translation and from the file for every later request (UnheldRead), never held. As an
        // open handle instead, each entry took a descriptor of the cache's bounded share (PathCache.defaultMaxHandles),
        // and a site of more small files than that was translated again on most requests (docs/performance.md,
        // section 49). Where unheld reads cannot work, or nothing caches translations, small files stay handles.
        boolean readSmall = server.fileCache() || (server.pathCacheEntries() > 0 && PathCache.unheldReadsSupported());
        this.translator = new PathTranslator(root, site.followSymlinks(), site.dotfiles(), site.listDirs(),
                readSmall ? smallFileMax : -1, PipelineContext.staticIndexNames(site),
                new flash.content.DotfilePolicy(site.dotfiles(), site.site().dotfilesAllow()), PipelineContext.mimeRules(site));
        // One --cache-mb budget: a quarter for small files held in memory by the path cache, the rest for mappings.
        long memoryBudget = server.cacheBytes() / 4;
        this.pathCache = server.pathCacheEntries() > 0
                ? new PathCache(server.pathCacheEntries(), server.fileCache() ? memoryBudget : 0, site.revalidateAfter().toNanos(),
                        site.revalidateWatched().toNanos(), PathCache.defaultMaxHandles(), translator.root(),
                        ctx.descriptors())
                : null;
        this.watch = pathCache != null && site.revalidation() == flash.config.Revalidation.WATCH ? ctx.fileWatch() : null;
        // Asked of the kernel once (openat2 RESOLVE_CACHED): without it every miss would make one failing call first.
        // The loop opens a path's UTF-8 bytes; where the JDK encodes file names otherwise, a name could differ.
        this.translatesWithoutWaiting = LOOP_TRANSLATION && pathCache != null && PathCache.unheldReadsSupported()
                && "UTF-8".equalsIgnoreCase(System.getProperty("sun.jnu.encoding", "UTF-8"));
    }

    public ServerConfig config() { return config; }
    public Path root() { return root; }
    public PathTranslator translator() { return translator; }
    public PathCache pathCache() { return pathCache; }

    /** Non-blocking: a fresh cached translation (one reference owned by the caller), or null. */
    public Translation lookup(RequestTarget.Normalized target) { return lookup(target, false); }

    /**
     * As {@link #lookup(RequestTarget.Normalized)}, for a connection that sends file regions by sendfile
     * ({@code sendfile}): a small file whose bytes are not held may then be sent from a descriptor kept open.
     */
    public Translation lookup(RequestTarget.Normalized target, boolean sendfile) { return lookup(target, sendfile, null); }

    /**
     * As {@link #lookup(RequestTarget.Normalized, boolean)}; {@code refills} (the architecture's
     * {@code BlockingSeam.detached()}) reads back the pages of a held file found not in memory.
     */
    public Translation lookup(RequestTarget.Normalized target, boolean sendfile, java.util.concurrent.Executor refills) {
        return pathCache == null ? null : pathCache.lookup(target, sendfile, refills);
    }

    /**
     * Blocking: translate and remember, or read a cached translation's file that {@link #lookup} could not read without
     * waiting. Runs wherever the architecture runs disk work.
     */
    public Translation translate(RequestTarget.Normalized target) { return translate(target, false); }

    /** As {@link #translate(RequestTarget.Normalized)}; {@code sendfile} as for {@link #lookup(RequestTarget.Normalized, boolean)}. */
    public Translation translate(RequestTarget.Normalized target, boolean sendfile) {
        ctx.beforeTranslation(target);
        // An unheld entry whose pages were not in memory: read it, as the loop would have; no new translation.
        if (pathCache != null) {
            Translation read = pathCache.readWaiting(target, sendfile);
            if (read != null) return read;
        }
        // What the translation reads is watched first, so that a change after its reads is always an event.
        flash.content.FileWatch.Registration reg = null;
        if (watch != null && watch.available()) {
            reg = watch.register();
            translator.watchDependencies(target, reg);
        }
        Translation t;
        try {
            t = translator.translate(target);
        } catch (RuntimeException | Error e) {
            if (reg != null) reg.cancel();
            throw e;
        }
        if (pathCache != null) pathCache.put(target, t, reg);
        return t;
    }

    /**
     * Non-blocking: a translation made here and now, and remembered, or null (translate where blocking is allowed).
     * Only for a path the cache does not hold (one it holds whose read would wait, or whose bound passed, is read or
     * checked from its entry by {@link #translate}), and only in the simple case {@link PathTranslator#translateCached}
     * describes: every name in the kernel's dentry cache and every byte in the page cache. Under {@code --revalidate
     * watch} every name read must lie in a directory already watched ({@link PathTranslator#watchCached}), watched
     * before the file is read, as a helper's translation does. On a site larger than the path cache this is what
     * most misses are, and each would otherwise cost a round trip to a helper (docs/performance.md, section 54).
     */
    public Translation translateWithoutWaiting(RequestTarget.Normalized target) {
        if (!translatesWithoutWaiting || ctx.translationFaultSet() || pathCache.holds(target)) return null;
        flash.content.FileWatch.Registration reg = null;
        Translation t = null;
        try {
            if (watch != null && watch.available()) {
                reg = watch.register();
                if (!translator.watchCached(target, reg)) return null;
            }
            t = translator.translateCached(target);
        } catch (RuntimeException e) {
            return null; // a name the file system's encoding cannot hold, say: the helper's translation answers it
        } finally {
            if (t == null && reg != null) reg.cancel();
        }
        if (t == null) return null;
        pathCache.translatedWithoutWaiting.increment();
        pathCache.put(target, t, reg);
        return t;
    }

    /** Releases cached files (shutdown, or a reload that replaced this site once its exchanges are done). */
    public void clear() {
        if (pathCache != null) pathCache.clear();
    }
}
