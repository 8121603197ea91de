package flash.config;

import flash.content.DotfilePolicy;
import flash.http.MimeTypes;
import flash.http.RequestTarget;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The rules' own semantics, without a server: glob matching, --mime lookup, the dot-name policy, parse errors. */
class SiteRuleParsingTest {
    @Test
    void globsMatchSegmentsAndTakeTheRestLiterally() {
        CacheControlRule one = CacheControlRule.parse("/assets/*=x");
        assertThat(one.matches("/assets/app.js")).isTrue();
        assertThat(one.matches("/assets/")).isTrue();
        assertThat(one.matches("/assets/img/a.png")).isFalse();
        assertThat(one.matches("/assetsx/a")).isFalse();
        CacheControlRule deep = CacheControlRule.parse("/assets/**=x");
        assertThat(deep.matches("/assets/img/a.png")).isTrue();
        CacheControlRule ext = CacheControlRule.parse("/**.c+s?=x");
        assertThat(ext.matches("/a/b.c+ss")).isTrue();
        assertThat(ext.matches("/a/b.ccss")).as("'+' and '.' are literal").isFalse();
        assertThat(ext.matches("/a/b.c+s/")).as("'?' is not a '/'").isFalse();
        assertThat(CacheControlRule.parse("/x=  public, max-age=1 ").value()).isEqualTo("public, max-age=1");
        SiteRules rules = SiteRules.DEFAULTS.withCacheControl(List.of(CacheControlRule.parse("/a/*=first"),
                CacheControlRule.parse("/**=second")));
        assertThat(rules.cacheControlFor("/a/b")).isEqualTo("first");
        assertThat(rules.cacheControlFor("/a/b/c")).isEqualTo("second");
    }

    @Test
    void badRulesSayWhatIsWrong() {
        assertThatThrownBy(() -> CacheControlRule.parse("/x=a\r\nSet-Cookie: y")).hasMessageContaining("--cache-control");
        assertThatThrownBy(() -> ErrorPageRule.parse("399=/x")).hasMessageContaining("400 to 599");
        assertThatThrownBy(() -> ErrorPageRule.parse("404=/a/../b")).hasMessageContaining("--error-page 404");
        assertThatThrownBy(() -> SiteRules.parseFallback("/dir/")).hasMessageContaining("--fallback");
        assertThatThrownBy(() -> MimeRule.parse("md=text/markdown\r\nX: y")).hasMessageContaining("--mime");
        assertThatThrownBy(() -> SiteRules.parseDotfilesAllow("/")).hasMessageContaining("--dotfiles-allow");
    }

    @Test
    void mimeRulesComeFirstAndTheLongestExtensionWins() {
        Map<String, String> extra = Map.of("md", "text/markdown", "gz", "application/x-gz", "tar.gz", "application/x-tgz",
                "js", "text/x-custom; charset=latin1");
        assertThat(MimeTypes.forFileName("README.MD", extra)).isEqualTo("text/markdown; charset=utf-8");
        assertThat(MimeTypes.forFileName("a.tar.gz", extra)).isEqualTo("application/x-tgz");
        assertThat(MimeTypes.forFileName("a.gz", extra)).isEqualTo("application/x-gz");
        assertThat(MimeTypes.forFileName("app.js", extra)).isEqualTo("text/x-custom; charset=latin1");
        assertThat(MimeTypes.forFileName("md", extra)).isEqualTo(MimeTypes.DEFAULT);
        assertThat(MimeTypes.forFileName("x.css", extra)).isEqualTo(MimeTypes.forFileName("x.css"));
    }

    @Test
    void dotNamePolicy() {
        DotfilePolicy off = new DotfilePolicy(false, List.of("/.well-known/", "/a/.b"));
        DotfilePolicy on = new DotfilePolicy(true, List.of());
        assertThat(off.allows(t("/.well-known/acme-challenge/x"))).isTrue();
        assertThat(off.allows(t("/.well-known"))).isTrue();
        assertThat(off.allows(t("/.well-known/.x"))).isFalse();
        assertThat(off.allows(t("/.well-knownx/a"))).isFalse();
        assertThat(off.allows(t("/a/.b/c"))).isTrue();
        assertThat(off.allows(t("/x/.well-known/y"))).isFalse();
        assertThat(off.allows(t("/plain/file"))).isTrue();
        assertThat(on.allows(t("/.anything/.else"))).isTrue();
        for (String secret : List.of("/.git/config", "/.env", "/sub/.env.production", "/.htpasswd", "/x/.svn/entries", "/.hg/store")) {
            assertThat(on.allows(t(secret))).as(secret).isFalse();
            assertThat(new DotfilePolicy(false, List.of(secret)).allows(t(secret))).as(secret + " allowed by prefix").isFalse();
        }
    }

    private static RequestTarget.Normalized t(String path) { return (RequestTarget.Normalized) RequestTarget.normalize(path); }
}
