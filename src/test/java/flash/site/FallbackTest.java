package flash.site;

import flash.config.Architecture;
import flash.config.CacheControlRule;
import flash.config.ErrorPageRule;
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
 * --fallback for a single-page app: GET and HEAD of a missing path get the fallback with 200; files, directories and
 * other methods are untouched; a missing fallback is a 404 with its error page, never a loop. Also --dotfiles, which
 * still hides .git and .env. (The FastCGI front controller: {@code flash.fastcgi.FrontControllerTest}.)
 */
class FallbackTest {
    static final String APP = "<!doctype html><div id=app></div>\n";
    static final Path ROOT = tree();

    static final ArchServers SPA = new ArchServers(arch -> TestServer.start(ROOT, arch, c -> c
            .withSite(SiteRules.DEFAULTS.withFallback("/index.html")
                    .withCacheControl(List.of(CacheControlRule.parse("/assets/**=public, max-age=31536000, immutable"),
                            CacheControlRule.parse("/index.html=no-cache"))))));

    /** A fallback that does not exist, with an error page; and --dotfiles. */
    static final ArchServers BROKEN = new ArchServers(arch -> TestServer.start(ROOT, arch, c -> c
            .withDotfiles(true)
            .withSite(SiteRules.DEFAULTS.withFallback("/nope.html")
                    .withErrorPages(List.of(ErrorPageRule.parse("404=/404.html"))))));

    static Path tree() {
        try {
            Path r = Files.createTempDirectory("flash-fallback-");
            SiteRulesTest.write(r, "index.html", APP);
            SiteRulesTest.write(r, "404.html", "custom 404\n");
            SiteRulesTest.write(r, "assets/app.js", "console.log(1)\n");
            SiteRulesTest.write(r, "docs/index.html", "docs\n");
            SiteRulesTest.write(r, ".hidden", "shown with --dotfiles\n");
            SiteRulesTest.write(r, ".git/HEAD", "ref: refs/heads/main\n");
            SiteRulesTest.write(r, ".env.local", "SECRET=1\n");
            return r;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @AfterAll
    static void stop() {
        SPA.close();
        BROKEN.close();
        flash.testing.Fixtures.deleteTree(ROOT);
    }

    @AllArchs
    void missingPathsGetTheAppWith200(Architecture arch) throws Exception {
        TestServer s = SPA.get(arch);
        for (String path : List.of("/app/settings", "/deep/link/x?tab=2", "/assets/missing.js")) {
            HttpResponse<byte[]> r = Http.get(s.uri(path));
            assertThat(r.statusCode()).as(path).isEqualTo(200);
            assertThat(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo(APP);
            // matched as what is served: a missing asset must not make index.html immutable for a year
            assertThat(r.headers().allValues("Cache-Control")).as(path).containsExactly("no-cache");
        }
        RawClient.Response head = SiteRulesTest.raw(s, "HEAD", "/app/settings");
        assertThat(head.status()).isEqualTo(200);
        assertThat(head.header("Content-Length")).isEqualTo(Integer.toString(APP.length()));
        assertThat(head.body()).isEmpty();
    }

    @AllArchs
    void filesDirectoriesAndOtherMethodsAreUntouched(Architecture arch) throws Exception {
        TestServer s = SPA.get(arch);
        HttpResponse<byte[]> js = Http.get(s.uri("/assets/app.js"));
        assertThat(new String(js.body(), StandardCharsets.UTF_8)).isEqualTo("console.log(1)\n");
        assertThat(js.headers().allValues("Cache-Control")).containsExactly("public, max-age=31536000, immutable");
        assertThat(new String(Http.get(s.uri("/docs/")).body(), StandardCharsets.UTF_8)).isEqualTo("docs\n");
        assertThat(Http.get(s.uri("/docs")).statusCode()).isEqualTo(301);
        assertThat(SiteRulesTest.raw(s, "POST", "/app/settings").status()).isEqualTo(405);
        assertThat(SiteRulesTest.raw(s, "DELETE", "/app/settings").status()).isEqualTo(405);
    }

    @AllArchs
    void keepAliveCarriesOnAfterAFallback(Architecture arch) throws Exception {
        TestServer s = SPA.get(arch);
        try (RawClient c = new RawClient(s.port())) {
            c.send("GET /a HTTP/1.1\r\nHost: t\r\n\r\nHEAD /b HTTP/1.1\r\nHost: t\r\n\r\nGET /assets/app.js HTTP/1.1\r\nHost: t\r\n\r\n");
            assertThat(c.read().bodyText()).isEqualTo(APP);
            assertThat(c.read(true).status()).isEqualTo(200);
            assertThat(c.read().bodyText()).isEqualTo("console.log(1)\n");
        }
    }

    @AllArchs
    void aMissingFallbackIsA404WithItsErrorPage(Architecture arch) throws Exception {
        TestServer s = BROKEN.get(arch);
        RawClient.Response r = SiteRulesTest.raw(s, "GET", "/anything");
        assertThat(r.status()).isEqualTo(404);
        assertThat(r.bodyText()).isEqualTo("custom 404\n");
        assertThat(Http.get(s.uri("/index.html")).statusCode()).isEqualTo(200);
    }

    @AllArchs
    void dotfilesServesDotNamesButNeverGitOrEnv(Architecture arch) throws Exception {
        TestServer s = BROKEN.get(arch);
        assertThat(new String(Http.get(s.uri("/.hidden")).body(), StandardCharsets.UTF_8)).isEqualTo("shown with --dotfiles\n");
        for (String p : List.of("/.git/HEAD", "/.env.local")) {
            RawClient.Response r = SiteRulesTest.raw(s, "GET", p);
            assertThat(r.status()).as(p).isEqualTo(404);
            assertThat(r.bodyText()).as(p).isEqualTo("custom 404\n");
        }
    }
}
