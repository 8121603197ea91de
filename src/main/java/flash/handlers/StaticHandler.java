package flash.handlers;

import flash.content.Translation;
import flash.http.Request;
import flash.http.Status;
import flash.pipeline.ErrorCause;
import flash.pipeline.Exchange;
import flash.pipeline.Handler;
import flash.pipeline.PipelineContext;
import flash.pipeline.Responder;
import flash.pipeline.Response;
import flash.pipeline.StaticSite;
import flash.http.RequestTarget;

/**
 * Files under the document root, the paper's pipeline: a cached translation answers at once; a miss goes
 * through the driver's seam (a helper under AMPED), and the response is built when it comes back. GET and HEAD
 * only; a request body is left to the connection, which discards it.
 */
public final class StaticHandler implements Handler {
    private final PipelineContext ctx;
    private final StaticSite site;
    private final String prefix; // a --static route's prefix, taken off the path before translation; "" for a root
    private final flash.compress.Negotiator negotiator; // null unless --precompressed or --compress

    /** The document root's files. */
    public StaticHandler(PipelineContext ctx) { this(ctx, ctx.site(), ""); }

    /**
     * {@code site}'s files; {@code prefix} (no trailing slash, "" for none) is the URL path they are under: a
     * {@code --static /docs=DIR} route serves {@code /docs/a} from {@code DIR/a}.
     */
    public StaticHandler(PipelineContext ctx, StaticSite site, String prefix) {
        this.ctx = ctx;
        this.site = site;
        this.prefix = prefix;
        this.negotiator = ctx.config().compression().enabled() ? new flash.compress.Negotiator(ctx, site) : null;
    }

    @Override
    public void handle(Exchange ex) {
        Request req = ex.request();
        if (Responder.refused(ex)) return;
        RequestTarget.Normalized target = strip(ex.target());
        if (target == null) {
            ex.respond(Responder.error(Status.BAD_REQUEST, req, !req.keepAlive()));
            return;
        }
        if (underCgiDir(target.path(), null)) {
            ex.respond(Responder.error(Status.NOT_FOUND, req, !req.keepAlive()));
            return;
        }
        // A file region is what this connection sends best; the negotiator, which may compress, gets bytes as before.
        boolean sendfile = negotiator == null && ex.sendfile();
        Translation cached = site.lookup(target, sendfile, ex.driver().seam().detached());
        if (cached == null) cached = site.translateWithoutWaiting(target); // a miss that need not wait for a helper
        if (cached != null) {
            translated(ex, target, cached);
            return;
        }
        ex.driver().stats().diskTasks.increment();
        ex.driver().seam().run(() -> site.translate(target, sendfile), outcome -> {
            Translation t = outcome.ok() ? outcome.value() : null;
            if (!ex.active()) {
                release(t);
                return;
            }
            if (t == null) {
                // The translation threw: not an I/O error it could map to a status, but a defect (issue #11's
                // TimSort exception out of the path cache was one). 500 for this request, and the log says why.
                ex.fail(Status.INTERNAL_SERVER_ERROR, ErrorCause.TRANSLATION, ErrorCause.describe(outcome.failure()));
                return;
            }
            translated(ex, target, t);
        });
    }

    /**
     * Whether a URL path (or the file it was translated to) lies in a {@code --cgi} directory: programs are run,
     * never served as files, even when their directory is inside the document root.
     */
    private boolean underCgiDir(String urlPath, java.nio.file.Path file) {
        var cgis = site.config().cgis();
        if (cgis.isEmpty()) return false;
        java.nio.file.Path p = file != null ? file.toAbsolutePath().normalize()
                : site.root().resolve(urlPath.substring(1)).normalize();
        for (var c : cgis) if (p.startsWith(c.dir())) return true;
        return false;
    }

    /** The path below a --static prefix (the route matched PREFIX/...), or the target itself for a root. */
    private RequestTarget.Normalized strip(RequestTarget.Normalized t) {
        if (t == null || prefix.isEmpty()) return t;
        String p = t.path();
        if (p.length() <= prefix.length() || p.charAt(prefix.length()) != '/' || !p.startsWith(prefix)) return null;
        return new RequestTarget.Normalized(p.substring(prefix.length()), t.trailingSlash());
    }

    private void translated(Exchange ex, RequestTarget.Normalized target, Translation t) {
        if (t instanceof Translation.Failed f) ex.failedBecause(ErrorCause.FILE_IO, f.reason());
        if (t instanceof Translation.Found f && underCgiDir(null, f.entry().path())) {
            release(t);
            ex.respond(Responder.error(Status.NOT_FOUND, ex.request(), !ex.request().keepAlive()));
            return;
        }
        if (t instanceof Translation.Redirect r && !prefix.isEmpty()) t = new Translation.Redirect(prefix + r.location());
        if (negotiator != null && t instanceof Translation.Found f) {
            negotiator.serve(ex, target, f.entry()); // chooses a coding by Accept-Encoding; releases the entry
            return;
        }
        Response r;
        try {
            r = ctx.responder().respond(ex.request(), t, ex.sendfile());
        } finally {
            release(t);
        }
        ex.respond(r);
    }

    private static void release(Translation t) {
        if (t instanceof Translation.Found f) f.entry().release();
    }
}
