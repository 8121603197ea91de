package flash.site;

import flash.config.Architecture;
import flash.config.StaticRoute;
import flash.testing.AllArchs;
import flash.testing.RawClient;
import flash.testing.TestServer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A {@code --static /docs=DIR} route, live under every architecture: the prefix is taken off the normalised path
 * (the route sees "/docs/a/b.txt" as "/a/b.txt" in DIR), a path that only starts with the prefix's letters is not
 * the route's, dot-segments are resolved before the prefix is matched, and a dotfile under the route is refused
 * as it is under the root.
 */
class StaticRouteTest {
    @TempDir static Path root;
    @TempDir static Path docs;

    @BeforeAll
    static void files() throws Exception {
        Files.writeString(root.resolve("r.txt"), "root file");
        Files.createDirectories(root.resolve("docsx"));
        Files.writeString(root.resolve("docsx").resolve("a.txt"), "root docsx");
        Files.createDirectories(docs.resolve("sub"));
        Files.writeString(docs.resolve("a.txt"), "docs a");
        Files.writeString(docs.resolve("sub").resolve("b.txt"), "docs sub b");
        Files.writeString(docs.resolve("index.html"), "docs index");
        Files.writeString(docs.resolve(".env"), "SECRET=1");
    }

    private static String get(TestServer s, String path, int status) throws Exception {
        try (RawClient c = new RawClient(s.port())) {
            c.send("GET " + path + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
            var r = c.read();
            assertThat(r.status()).as(path).isEqualTo(status);
            return r.bodyText();
        }
    }

    @AllArchs
    void filesUnderThePrefixComeFromTheRoutesDirectory(Architecture arch) throws Exception {
        try (TestServer s = TestServer.start(root, arch, c -> c.withStatics(List.of(new StaticRoute("/docs", docs))))) {
            assertThat(get(s, "/docs/a.txt", 200)).isEqualTo("docs a");
            assertThat(get(s, "/docs/sub/b.txt", 200)).isEqualTo("docs sub b");
            assertThat(get(s, "/docs//sub/./b.txt", 200)).isEqualTo("docs sub b");
            assertThat(get(s, "/docs/sub/../a.txt", 200)).isEqualTo("docs a");
            assertThat(get(s, "/docs/", 200)).isEqualTo("docs index");
            assertThat(get(s, "/docsx/a.txt", 200)).isEqualTo("root docsx");
            assertThat(get(s, "/r.txt", 200)).isEqualTo("root file");
            assertThat(get(s, "/docs/../r.txt", 200)).isEqualTo("root file");
            get(s, "/docs/r.txt", 404);
            get(s, "/docs/.env", 404);
        }
    }
}
