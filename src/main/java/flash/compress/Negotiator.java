package flash.compress;

import flash.config.CompressionConfig;
import flash.content.FileEntry;
import flash.content.Translation;
import flash.http.Request;
import flash.http.RequestTarget;
import flash.pipeline.Exchange;
import flash.pipeline.PipelineContext;

import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Content negotiation for a static file found by the path translation: chooses the representation Accept-Encoding
 * asks for among a precompressed sidecar ({@code --precompressed}), a body compressed on the fly ({@code --compress})
 * and the file itself, then lets the {@link flash.pipeline.Responder} answer with it, conditionals and ranges
 * included. Runs on the connection's thread and never blocks there: a sidecar is looked up in the path cache and,
 * when not known there, translated through the seam like any file (a helper under AMPED); a body not in the
 * {@link CompressedCache} is compressed through the seam too, and a cached one is sent from the loop as it is.
 *
 * <p>Vary: Accept-Encoding is sent whenever another representation could have been chosen, whatever this client
 * got: for a file with at least one sidecar (as nginx's gzip_static with gzip_vary on: a file without one gets no
 * Vary), and for every file {@code --compress} would compress. Range requests never get a body compressed on the fly
 * (its length is not known before compressing, and nginx does not either); they get ranges of the file itself, or of
 * a sidecar, whose bytes are fixed on disk.
 */
public final class Negotiator {
    private static final Logger LOG = Logger.getLogger(Negotiator.class.getName());
    private static final int CODINGS = Coding.all().length;

    private final PipelineContext ctx;
    private final flash.pipeline.StaticSite site; // where sidecars are looked for: the tree the file came from
    private final CompressionConfig config;
    private final CompressedCache cache; // null unless --compress

    public Negotiator(PipelineContext ctx, flash.pipeline.StaticSite site) {
        this.ctx = ctx;
        this.site = site;
        this.config = ctx.config().compression();
        this.cache = config.compress() ? ctx.compressedCache() : null;
    }

    /** What a representation slot on an entry holds: a borrowed view of it as served by negotiation. */
    private record Variant(String contentType, String coding, FileEntry entry) {}

    /** Answers {@code ex} with a representation of {@code file}; takes over the caller's reference to it. */
    public void serve(Exchange ex, RequestTarget.Normalized target, FileEntry file) {
        boolean fly = cache != null && file.size() >= config.minSize() && file.size() <= config.maxSize()
                && Compressible.file(file.path().getFileName().toString(), file.contentType());
        String name = file.path().getFileName().toString();
        if (!config.precompressed() || Coding.isSidecarName(name) || target == null) {
            choose(ex, file, new Translation[CODINGS], fly);
            return;
        }
        RequestTarget.Normalized[] targets = sidecarTargets(target, name);
        Translation[] sidecars = new Translation[CODINGS];
        boolean missing = false;
        for (int i = 0; i < CODINGS; i++) {
            sidecars[i] = site.lookup(targets[i]);
            if (sidecars[i] == null) missing = true;
        }
        if (!missing) {
            choose(ex, file, sidecars, fly);
            return;
        }
        ex.driver().stats().diskTasks.increment();
        ex.driver().seam().run(() -> {
            for (int i = 0; i < CODINGS; i++) if (sidecars[i] == null) sidecars[i] = site.translate(targets[i]);
            return sidecars;
        }, outcome -> {
            // A failed translation leaves its slot empty: that sidecar is treated as absent.
            if (!ex.active()) {
                release(sidecars);
                file.release();
                return;
            }
            choose(ex, file, sidecars, fly);
        });
    }

    /** The sidecar paths of the file a URL named (for a directory URL, of the index file it was translated to). */
    static RequestTarget.Normalized[] sidecarTargets(RequestTarget.Normalized target, String fileName) {
        String base = target.trailingSlash() ? target.path() + fileName : target.path();
        RequestTarget.Normalized[] out = new RequestTarget.Normalized[CODINGS];
        for (Coding c : Coding.all()) out[c.ordinal()] = new RequestTarget.Normalized(base + c.suffix, false);
        return out;
    }

    private void choose(Exchange ex, FileEntry file, Translation[] sidecars, boolean fly) {
        Request req = ex.request();
        boolean owned = true; // whether the file reference is still ours to release here
        try {
            FileEntry[] side = new FileEntry[CODINGS];
            boolean offered = false;
            for (int i = 0; i < CODINGS; i++) {
                if (sidecars[i] instanceof Translation.Found f) {
                    side[i] = f.entry();
                    offered = true;
                }
            }
            boolean range = req.header("Range") != null;
            boolean[] on = new boolean[CODINGS];
            for (Coding c : Coding.all()) on[c.ordinal()] = side[c.ordinal()] != null || (fly && c.onTheFly && !range);
            Coding chosen = AcceptEncoding.parse(acceptEncoding(req)).choose(on);
            boolean vary = offered || fly;
            if (chosen == null) {
                send(ex, vary ? variant(file, file.contentType(), null) : file);
            } else if (side[chosen.ordinal()] != null) {
                send(ex, variant(side[chosen.ordinal()], file.contentType(), chosen.token));
            } else {
                owned = false;
                compressed(ex, file, chosen);
            }
        } finally {
            release(sidecars);
            if (owned) file.release();
        }
    }

    /** The Accept-Encoding field value; several field lines are one comma-separated list (RFC 9110 5.3). */
    static String acceptEncoding(Request req) {
        List<String> lines = req.headerValues("Accept-Encoding");
        return lines.isEmpty() ? null : lines.size() == 1 ? lines.getFirst() : String.join(",", lines);
    }

    /** A cached body is sent at once; a missing one is compressed through the seam first. Releases {@code file}. */
    private void compressed(Exchange ex, FileEntry file, Coding coding) {
        CompressedCache.Key key = CompressedCache.key(file, coding);
        CompressedCache.Result hit = cache.lookup(key);
        if (hit != null) {
            try {
                send(ex, hit.entry() != null ? hit.entry() : variant(file, file.contentType(), null));
            } finally {
                file.release();
            }
            return;
        }
        int level = coding == Coding.GZIP ? config.gzipLevel() : config.zstdLevel();
        ex.driver().stats().diskTasks.increment();
        ex.driver().seam().run(() -> cache.compute(key, file, level), outcome -> {
            try {
                if (!ex.active()) return;
                CompressedCache.Result r = outcome.ok() ? outcome.value() : null;
                if (r == null) {
                    // The file could not be read whole (it changed under us): send it as it is now known.
                    LOG.log(Level.FINE, "compressing " + file.path() + " failed; sent uncompressed", outcome.failure());
                }
                send(ex, r != null && r.entry() != null ? r.entry() : variant(file, file.contentType(), null));
            } finally {
                file.release();
            }
        });
    }

    /**
     * {@code entry} served with {@code contentType} and {@code coding} and Vary: built once and kept on the entry (as
     * its header cache slot is), so a hot file's head stays cached too. Borrowed: valid while {@code entry} is held.
     */
    private static FileEntry variant(FileEntry entry, String contentType, String coding) {
        if (entry.representationSlot() instanceof Variant v && v.contentType().equals(contentType)
                && java.util.Objects.equals(v.coding(), coding)) {
            return v.entry();
        }
        FileEntry e = entry.representation(contentType, coding, true);
        entry.representationSlot(new Variant(contentType, coding, e)); // a benign race: either copy is right
        return e;
    }

    private void send(Exchange ex, FileEntry representation) {
        ex.respond(ctx.responder().respond(ex.request(), new Translation.Found(representation), ex.sendfile()));
    }

    private static void release(Translation[] ts) {
        for (int i = 0; i < ts.length; i++) {
            if (ts[i] instanceof Translation.Found f) f.entry().release();
            ts[i] = null;
        }
    }
}
