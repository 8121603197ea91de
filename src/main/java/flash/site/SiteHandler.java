package flash.site;

import flash.config.SiteRules;
import flash.http.Request;
import flash.http.Status;
import flash.pipeline.Exchange;
import flash.pipeline.Handler;
import flash.pipeline.PipelineContext;
import flash.pipeline.Response;

/**
 * The site rules around the static handler: it lets the static handler decide, then shapes the answer on its way
 * out, through the exchange's response filter.
 * <ul>
 *   <li>{@code --fallback PATH}: a GET or HEAD the static handler answers 404 is answered, instead, with what the
 *   server answers for PATH (routed again, so {@code /index.php} runs on FastCGI as a front controller, with the
 *   original REQUEST_URI). Files, directories with an index or a listing, and redirects are untouched; other
 *   methods keep their answer (405). A fallback that is itself missing is a plain 404 (and its error page).</li>
 *   <li>{@code --error-page STATUS=PATH}: {@link CustomErrorPage}.</li>
 *   <li>{@code --cache-control GLOB=VALUE}: {@link CacheControlHeader}, matched against the path of what is served
 *   (for a fallback, PATH: a missing {@code /assets/x.js} answered with index.html must not get the assets'
 *   year-long caching).</li>
 * </ul>
 */
public final class SiteHandler implements Handler, Exchange.ResponseFilter {
    private final SiteRules rules;
    private final Handler next;
    private final CacheControlHeader cacheControl;
    private final CustomErrorPage errorPages;

    private SiteHandler(SiteRules rules, PipelineContext ctx, Handler next) {
        this.rules = rules;
        this.next = next;
        this.cacheControl = new CacheControlHeader(rules);
        this.errorPages = new CustomErrorPage(ctx);
    }

    /** {@code staticFiles} itself when no rule shapes responses, so the default path costs nothing. */
    public static Handler around(SiteRules rules, PipelineContext ctx, Handler staticFiles) {
        return rules.shapesResponses() ? new SiteHandler(rules, ctx, staticFiles) : staticFiles;
    }

    @Override
    public void handle(Exchange ex) {
        ex.filter(this);
        next.handle(ex);
    }

    @Override
    public void response(Exchange ex, Response r) {
        Request req = ex.request();
        int status = r.status();
        if (status == Status.NOT_FOUND.code() && rules.fallback() != null && !ex.rewritten()
                && req != null && req.method().servesFiles()) {
            ex.rewrite(rules.fallback());
            return;
        }
        if (status >= 400) {
            String page = rules.errorPageFor(status);
            if (page != null) {
                errorPages.serve(ex, r, page);
                return;
            }
        }
        ex.respond(ex.target() == null ? r : cacheControl.apply(ex.target().path(), r));
    }

    @Override
    public void head(Exchange ex, flash.http.Head head) {
        if (ex.target() != null) cacheControl.apply(ex.target().path(), head);
    }
}
