package flash.fastcgi;

import flash.config.Architecture;
import flash.config.CacheControlRule;
import flash.config.FastCgiRoute;
import flash.config.SiteRules;
import flash.testing.AllArchs;
import flash.testing.Http;
import flash.testing.RawClient;
import flash.testing.PhpFpm;
import flash.testing.TestServer;
import org.junit.jupiter.api.AfterAll;

import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code --fallback /index.php} with {@code --fastcgi .php=...}: a path that does not exist runs the front controller
 * on a real php-fpm, which sees SCRIPT_NAME=/index.php and the original REQUEST_URI and QUERY_STRING; real files are
 * served as files, and other scripts run as themselves.
 */
class FrontControllerTest {
    /** One server at a time (each test starts its own): a few workers are enough. */
    private static final PhpFpm FPM = PhpFpm.start(6, "");

    static {
        FPM.write("index.php", """
                <?php
                header('Content-Type: text/plain');
                foreach (['SCRIPT_NAME', 'REQUEST_URI', 'QUERY_STRING', 'REQUEST_METHOD', 'PATH_INFO'] as $k) {
                    echo $k, '=', $_SERVER[$k] ?? '(unset)', "\\n";
                }
                """);
        FPM.write("other.php", "<?php header('Content-Type: text/plain'); echo 'other ', $_SERVER['SCRIPT_NAME'];\n");
        FPM.write("style.css", "p { margin: 0 }\n");
    }

    @AfterAll
    static void stop() { FPM.close(); }

    private static TestServer start(Architecture arch) {
        return TestServer.start(FPM.root(), arch, c -> c
                .withFastcgi(List.of(FastCgiRoute.parse(".php=" + FPM.address())))
                .withIndexNames(List.of("index.php", "index.html"))
                .withSite(SiteRules.DEFAULTS.withFallback("/index.php")
                        .withCacheControl(List.of(CacheControlRule.parse("/**=max-age=5")))));
    }

    private static String text(HttpResponse<byte[]> r) { return new String(r.body(), StandardCharsets.UTF_8); }

    @AllArchs
    void missingPathsRunTheFrontControllerWithTheOriginalUri(Architecture arch) throws Exception {
        try (TestServer s = start(arch); HttpClient c = Http.client()) {
            HttpResponse<byte[]> r = Http.get(c, s.uri("/blog/2026/hello-world?page=2&x=%20y"));
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(text(r)).contains("SCRIPT_NAME=/index.php\n")
                    .contains("REQUEST_URI=/blog/2026/hello-world?page=2&x=%20y\n")
                    .contains("QUERY_STRING=page=2&x=%20y\n")
                    .contains("REQUEST_METHOD=GET\n")
                    .contains("PATH_INFO=\n");
            // the site's Cache-Control rules are for static files, not for what the script answers
            assertThat(r.headers().firstValue("Cache-Control")).isEmpty();
            RawClient.Response head;
            try (RawClient raw = new RawClient(s.port())) {
                raw.send("HEAD /some/route HTTP/1.1\r\nHost: t\r\n\r\n");
                head = raw.read(true);
            }
            assertThat(head.status()).isEqualTo(200);
            // files and other scripts are themselves
            HttpResponse<byte[]> css = Http.get(c, s.uri("/style.css"));
            assertThat(text(css)).isEqualTo("p { margin: 0 }\n");
            assertThat(css.headers().firstValue("Cache-Control")).hasValue("max-age=5");
            assertThat(text(Http.get(c, s.uri("/other.php")))).isEqualTo("other /other.php");
            assertThat(text(Http.get(c, s.uri("/")))).contains("REQUEST_URI=/\n").contains("SCRIPT_NAME=/index.php\n");
        }
    }
}
