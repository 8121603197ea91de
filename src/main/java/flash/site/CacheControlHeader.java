package flash.site;

import flash.config.SiteRules;
import flash.http.Head;
import flash.pipeline.Response;

/**
 * {@code --cache-control GLOB=VALUE}: a static response about a file (200, 206, and 304, which must repeat the
 * Cache-Control a 200 would carry, RFC 9110 section 15.4.5) gets the first matching rule's value. A response that
 * already has a Cache-Control (a directory listing's no-cache) keeps it.
 */
final class CacheControlHeader {
    private final SiteRules rules;

    CacheControlHeader(SiteRules rules) { this.rules = rules; }

    static boolean applies(int status) { return status == 200 || status == 206 || status == 304; }

    Response apply(String path, Response r) {
        if (!applies(r.status())) return r;
        String value = rules.cacheControlFor(path);
        if (value == null || HeadFields.has(r.head(), "Cache-Control")) return r;
        return new Response(r.status(), HeadFields.add(r.head(), "Cache-Control", value), r.body(), r.bodyLength(),
                r.close(), r.stream(), r.chunked());
    }

    void apply(String path, Head head) {
        if (!applies(head.status()) || head.get("Cache-Control") != null) return;
        String value = rules.cacheControlFor(path);
        if (value != null) head.add("Cache-Control", value);
    }
}
