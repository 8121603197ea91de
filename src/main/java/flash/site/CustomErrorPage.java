package flash.site;

import flash.content.Translation;
import flash.http.RequestTarget;
import flash.pipeline.Exchange;
import flash.pipeline.PipelineContext;
import flash.pipeline.Response;
import flash.pipeline.Segment;

import java.util.List;

/**
 * {@code --error-page STATUS=PATH}: the static handler's error response keeps its status and its fields (Allow on a
 * 405, Content-Range on a 416, Connection), and takes the file at PATH as its body. The file is translated as any
 * static file is (the path cache first, then the driver's seam), but never through the error pages or the fallback
 * again: when PATH is missing, hidden or a directory, the built-in page goes out, so there is no loop.
 */
final class CustomErrorPage {
    private final PipelineContext ctx;

    CustomErrorPage(PipelineContext ctx) { this.ctx = ctx; }

    void serve(Exchange ex, Response builtIn, String pagePath) {
        if (!(RequestTarget.normalize(pagePath) instanceof RequestTarget.Normalized target)) {
            ex.respond(builtIn);
            return;
        }
        Translation cached = ctx.lookup(target);
        if (cached != null) {
            send(ex, builtIn, cached);
            return;
        }
        ex.driver().stats().diskTasks.increment();
        ex.driver().seam().run(() -> ctx.translate(target), outcome -> {
            Translation t = outcome.ok() ? outcome.value() : null;
            if (!ex.active()) {
                release(t);
                return;
            }
            send(ex, builtIn, t);
        });
    }

    private void send(Exchange ex, Response builtIn, Translation t) {
        if (!(t instanceof Translation.Found f)) {
            release(t);
            ex.respond(builtIn);
            return;
        }
        Response r;
        try {
            List<Segment> body = ctx.responder().fileBody(f.entry(), ex.sendfile());
            r = new Response(builtIn.status(), HeadFields.replaceBody(builtIn.head(), f.entry().contentType(), f.entry().size()),
                    body, f.entry().size(), builtIn.close(), null, false);
        } finally {
            release(t); // the body holds its own references
        }
        ex.respond(r);
    }

    private static void release(Translation t) {
        if (t instanceof Translation.Found f) f.entry().release();
    }
}
