package flash.site;

import flash.config.Architecture;
import flash.config.CacheControlRule;
import flash.config.ErrorPageRule;
import flash.config.MimeRule;
import flash.config.SiteRules;
import flash.testing.AllArchs;
import flash.testing.ArchServers;
import flash.testing.Http;
import flash.testing.RawClient;
import flash.testing.TestServer;
import org.junit.jupiter.api.AfterAll;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The site rules against real servers, every architecture: --cache-control (200, 206, 304), --error-page (status kept,
 * fields kept, a missing page falls back to the built-in one), --mime, --index for static directories, and the dot-name
 * policy (the ACME prefix served, .git and .env never). {@link FallbackTest} covers --fallback.
 */
class SiteRulesTest {
    static final Path ROOT = tree();
    static final ArchServers SERVERS = new ArchServers(arch -> TestServer.start(ROOT, arch, c -> c
            .withIndexNames(List.of("default.htm", "index.html"))
            .withSite(SiteRules.DEFAULTS
                    .withCacheControl(List.of(
                            CacheControlRule.parse("/assets/*=public, max-age=31536000, immutable"),
                            CacheControlRule.parse("/**.html=no-cache"),
                            CacheControlRule.parse("/**=public, max-age=60")))
                    .withErrorPages(List.of(ErrorPageRule.parse("404=/errors/404.html"),
                            ErrorPageRule.parse("405=/errors/missing-405.html"),
                            ErrorPageRule.parse("416=/errors/416.txt")))
                    .withMime(List.of(MimeRule.parse("md=text/markdown"), MimeRule.parse(".Foo=application/x-foo")))
                    .withDotfilesAllow(List.of("/.well-known/", "/pub/.config.json")))));

    static Path tree() {
        try {
            Path r = Files.createTempDirectory("flash-site-");
            write(r, "index.html", "<h1>home</h1>\n");
            write(r, "assets/app.css", "body { color: red }\n");
            write(r, "assets/img/logo.svg", "<svg/>\n");
            write(r, "errors/404.html", "<h1>custom not found</h1>\n");
            write(r, "errors/416.txt", "custom range error\n");
            write(r, "notes/readme.md", "# notes\n");
            write(r, "notes/data.foo", "foo\n");
            write(r, "notes/page.wasm", "\0asm");
            write(r, "docs/default.htm", "default index\n");
            write(r, "docs/index.html", "second index\n");
            write(r, "plain/index.html", "plain index\n");
            write(r, "empty/.keep", "");
            write(r, ".well-known/acme-challenge/token1", "token1.thumbprint\n");
            write(r, ".well-known/.secret", "no\n");
            write(r, ".git/config", "[core]\n");
            write(r, ".env", "SECRET=1\n");
            write(r, ".hidden", "hidden\n");
            write(r, "pub/.config.json", "{}\n");
            write(r, "pub/.other.json", "{}\n");
            return r;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Path write(Path root, String rel, String content) throws IOException {
        Path f = root.resolve(rel);
        Files.createDirectories(f.getParent());
        Files.writeString(f, content, StandardCharsets.ISO_8859_1);
        return f;
    }

    @AfterAll
    static void stop() {
        SERVERS.close();
        flash.testing.Fixtures.deleteTree(ROOT);
    }

    static RawClient.Response raw(TestServer s, String method, String path, String... headers) throws IOException {
        try (RawClient c = new RawClient(s.port())) {
            StringBuilder req = new StringBuilder(method + " " + path + " HTTP/1.1\r\nHost: t\r\n");
            for (String h : headers) req.append(h).append("\r\n");
            if (method.equals("POST")) req.append("Content-Length: 0\r\n");
            c.send(req.append("\r\n").toString());
            return c.read(method.equals("HEAD"));
        }
    }

    // ------------------------------------------------------------------ Cache-Control

    @AllArchs
    void cacheControlFirstMatchWinsOnFiles(Architecture arch) throws Exception {
        TestServer s = SERVERS.get(arch);
        HttpResponse<byte[]> css = Http.get(s.uri("/assets/app.css"));
        assertThat(css.statusCode()).isEqualTo(200);
        assertThat(css.headers().allValues("Cache-Control")).containsExactly("public, max-age=31536000, immutable");
        // '*' stays within a segment: /assets/img/logo.svg falls through to the catch-all
        assertThat(Http.get(s.uri("/assets/img/logo.svg")).headers().allValues("Cache-Control")).containsExactly("public, max-age=60");
        // '**' crosses segments; the directory URL / serves index.html but is matched as the path asked for
        assertThat(Http.get(s.uri("/docs/index.html")).headers().allValues("Cache-Control")).containsExactly("no-cache");
        assertThat(Http.get(s.uri("/")).headers().allValues("Cache-Control")).containsExactly("public, max-age=60");
    }

    @AllArchs
    void cacheControlOnNotModifiedAndPartial(Architecture arch) throws Exception {
        TestServer s = SERVERS.get(arch);
        String etag = Http.get(s.uri("/assets/app.css")).headers().firstValue("ETag").orElseThrow();
        RawClient.Response nm = raw(s, "GET", "/assets/app.css", "If-None-Match: " + etag);
        assertThat(nm.status()).isEqualTo(304);
        assertThat(nm.header("Cache-Control")).isEqualTo("public, max-age=31536000, immutable");
        RawClient.Response part = raw(s, "GET", "/assets/app.css", "Range: bytes=0-3");
        assertThat(part.status()).isEqualTo(206);
        assertThat(part.bodyText()).isEqualTo("body");
        assertThat(part.header("Cache-Control")).isEqualTo("public, max-age=31536000, immutable");
        // errors are not cached by the rules
        RawClient.Response missing = raw(s, "GET", "/assets/none.css");
        assertThat(missing.status()).isEqualTo(404);
        assertThat(missing.header("Cache-Control")).isNull();
    }

    // ------------------------------------------------------------------ error pages

    @AllArchs
    void errorPageKeepsTheStatus(Architecture arch) throws Exception {
        TestServer s = SERVERS.get(arch);
        HttpResponse<byte[]> r = Http.get(s.uri("/no/such/page"));
        assertThat(r.statusCode()).isEqualTo(404);
        assertThat(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo("<h1>custom not found</h1>\n");
        assertThat(r.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
        RawClient.Response head = raw(s, "HEAD", "/no/such/page");
        assertThat(head.status()).isEqualTo(404);
        assertThat(head.header("Content-Length")).isEqualTo(Integer.toString("<h1>custom not found</h1>\n".length()));
        // hidden names get the same page: a 404 is a 404
        assertThat(raw(s, "GET", "/.git/config").bodyText()).isEqualTo("<h1>custom not found</h1>\n");
    }

    @AllArchs
    void errorPageKeepsTheStatusFieldsAndAMissingPageIsTheBuiltInOne(Architecture arch) throws Exception {
        TestServer s = SERVERS.get(arch);
        RawClient.Response range = raw(s, "GET", "/assets/app.css", "Range: bytes=5000-");
        assertThat(range.status()).isEqualTo(416);
        assertThat(range.header("Content-Range")).isEqualTo("bytes */20");
        assertThat(range.header("Content-Type")).isEqualTo("text/plain; charset=utf-8");
        assertThat(range.bodyText()).isEqualTo("custom range error\n");
        // 405's page is configured but missing: the built-in page, still with Allow
        RawClient.Response post = raw(s, "POST", "/index.html");
        assertThat(post.status()).isEqualTo(405);
        assertThat(post.header("Allow")).isEqualTo("GET, HEAD");
        assertThat(post.bodyText()).contains("405 Method Not Allowed");
    }

    @AllArchs
    void errorPageKeepsTheConnectionUsable(Architecture arch) throws Exception {
        TestServer s = SERVERS.get(arch);
        try (RawClient c = new RawClient(s.port())) {
            c.send("GET /missing HTTP/1.1\r\nHost: t\r\n\r\nGET /assets/app.css HTTP/1.1\r\nHost: t\r\n\r\n");
            assertThat(c.read().bodyText()).isEqualTo("<h1>custom not found</h1>\n");
            assertThat(c.read().bodyText()).isEqualTo("body { color: red }\n");
        }
    }

    // ------------------------------------------------------------------ MIME types and index names

    @AllArchs
    void mimeRulesExtendTheTable(Architecture arch) throws Exception {
        TestServer s = SERVERS.get(arch);
        assertThat(Http.get(s.uri("/notes/readme.md")).headers().firstValue("Content-Type")).hasValue("text/markdown; charset=utf-8");
        assertThat(Http.get(s.uri("/notes/data.foo")).headers().firstValue("Content-Type")).hasValue("application/x-foo");
        assertThat(Http.get(s.uri("/notes/page.wasm")).headers().firstValue("Content-Type")).hasValue("application/wasm");
    }

    @AllArchs
    void indexNamesAreTriedInOrder(Architecture arch) throws Exception {
        TestServer s = SERVERS.get(arch);
        assertThat(new String(Http.get(s.uri("/docs/")).body(), StandardCharsets.UTF_8)).isEqualTo("default index\n");
        assertThat(new String(Http.get(s.uri("/plain/")).body(), StandardCharsets.UTF_8)).isEqualTo("plain index\n");
        assertThat(Http.get(s.uri("/empty/")).statusCode()).isEqualTo(404);
        assertThat(Http.get(s.uri("/docs")).statusCode()).isEqualTo(301);
    }

    // ------------------------------------------------------------------ dot-names

    @AllArchs
    void dotNamesOnlyUnderAllowedPrefixesAndNeverSecrets(Architecture arch) throws Exception {
        TestServer s = SERVERS.get(arch);
        HttpResponse<byte[]> acme = Http.get(s.uri("/.well-known/acme-challenge/token1"));
        assertThat(acme.statusCode()).isEqualTo(200);
        assertThat(new String(acme.body(), StandardCharsets.UTF_8)).isEqualTo("token1.thumbprint\n");
        assertThat(Http.get(s.uri("/pub/.config.json")).statusCode()).isEqualTo(200);
        for (String hidden : List.of("/.well-known/.secret", "/.git/config", "/.env", "/.hidden", "/pub/.other.json",
                "/.well-known/../.env", "/%2egit/config")) {
            assertThat(raw(s, "GET", hidden).status()).as(hidden).isEqualTo(404);
        }
    }
}
