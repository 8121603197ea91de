package flash.integration;

import flash.config.Architecture;
import flash.testing.AllArchs;
import flash.testing.Fixtures;
import flash.testing.Http;
import flash.testing.SharedServers;
import flash.testing.TestServer;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** Directories: redirect to the slash form, index.html, 404 without one, or an escaped listing with --list-dirs. */
class DirectoryTest {

    @AllArchs
    void directoryWithoutSlashRedirectsKeepingTheQuery(Architecture arch) throws Exception {
        TestServer s = SharedServers.get(arch);
        HttpResponse<byte[]> r = Http.get(s.uri("/dir"));
        assertThat(r.statusCode()).isEqualTo(301);
        assertThat(r.headers().firstValue("Location")).hasValue("/dir/");
        HttpResponse<byte[]> q = Http.get(s.uri("/dir?a=1&b=two"));
        assertThat(q.statusCode()).isEqualTo(301);
        assertThat(q.headers().firstValue("Location")).hasValue("/dir/?a=1&b=two");
    }

    @AllArchs
    void directoryServesItsIndex(Architecture arch) throws Exception {
        HttpResponse<byte[]> r = Http.get(SharedServers.get(arch).uri("/dir/"));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo(Fixtures.INDEX);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
    }

    @AllArchs
    void directoryWithoutIndexIs404WithoutListDirs(Architecture arch) throws Exception {
        TestServer s = SharedServers.get(arch);
        assertThat(Http.get(s.uri("/empty/")).statusCode()).isEqualTo(404);
        assertThat(Http.get(s.uri("/list/")).statusCode()).isEqualTo(404);
    }

    @AllArchs
    void listDirsRendersAnEscapedListing(Architecture arch) throws Exception {
        try (TestServer s = TestServer.start(Fixtures.root(), arch, c -> c.withListDirs(true))) {
            HttpResponse<byte[]> r = Http.get(s.uri("/list/"));
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
            String html = new String(r.body(), StandardCharsets.UTF_8);
            assertThat(html).contains("plain.txt", "sub/", "&lt;script&gt;&amp;&quot;x&quot;.txt");
            assertThat(html).doesNotContain("<script>");
            // A directory with an index still serves the index, not a listing.
            assertThat(new String(Http.get(s.uri("/dir/")).body(), StandardCharsets.UTF_8)).isEqualTo(Fixtures.INDEX);
        }
    }
}
