package flash.http;

import flash.config.Architecture;
import flash.config.ServerConfig;
import flash.testing.RawClient;
import flash.testing.TestServer;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Replays {@code corpus/paths.txt} against a live server of every architecture whose document root has a
 * secret file next to it (outside the root): every entry must get its expected status, and no response body
 * may ever contain the secret. Links out of the root and dotfiles are checked with their switches off and on.
 */
class PathTraversalLiveTest {
    private static final String SECRET = "TOP-SECRET-" + UUID.randomUUID();
    private static final String HARD_LINKED = "HARD-LINKED-OUTSIDE-" + UUID.randomUUID();

    record Entry(int status, String target) {
        @Override public String toString() { return status + " " + target; }
    }

    static List<Architecture> archs() { return TestServer.allArchs(); }

    static List<Entry> entries() throws IOException {
        List<Entry> out = new ArrayList<>();
        try (InputStream in = PathTraversalLiveTest.class.getResourceAsStream("/corpus/paths.txt")) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.isBlank() || line.startsWith("#")) continue;
                int sp = line.indexOf(' ');
                out.add(new Entry(Integer.parseInt(line.substring(0, sp)), line.substring(sp + 1)));
            }
        }
        return out;
    }

    /** tmp/secret, tmp/outside/secret and tmp/hard-linked stay outside tmp/root; links point at them. */
    static Path layout(Path tmp) throws IOException {
        Path root = Files.createDirectories(tmp.resolve("root"));
        Files.writeString(tmp.resolve("secret"), SECRET);
        Files.writeString(Files.createDirectories(tmp.resolve("outside")).resolve("secret"), SECRET);
        Files.writeString(root.resolve("index.html"), "<p>index</p>");
        Files.writeString(root.resolve("file.txt"), "in-root file");
        Files.writeString(root.resolve("café.txt"), "accented name");
        Files.writeString(Files.createDirectories(root.resolve("sub")).resolve("page.html"), "sub page");
        Files.writeString(root.resolve(".hidden"), "dotfile");
        Files.writeString(Files.createDirectories(root.resolve(".git")).resolve("config"), "[core]");
        Files.createSymbolicLink(root.resolve("inlink"), Path.of("file.txt"));
        Files.createSymbolicLink(root.resolve("link-out"), Path.of("../secret"));
        Files.createSymbolicLink(root.resolve("dirlink"), Path.of("../outside"));
        // A hard link is the same inode under a second name inside the root: nothing in its path says it
        // came from outside, so it is served like any file. Putting one there is the operator's decision.
        Path outsideFile = Files.writeString(tmp.resolve("hard-linked"), HARD_LINKED);
        Files.createLink(root.resolve("hardlink"), outsideFile);
        return root;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("archs")
    void noTraversalReachesTheSecret(Architecture arch, @TempDir Path tmp) throws IOException {
        List<Entry> entries = entries();
        assertThat(entries).hasSizeGreaterThan(80);
        SoftAssertions soft = new SoftAssertions();
        try (TestServer server = TestServer.start(layout(tmp), arch)) {
            for (Entry e : entries) {
                RawClient.Response r = get(server.port(), e.target());
                soft.assertThat(r.status()).as("status of %s", e.target()).isEqualTo(e.status());
                soft.assertThat(r.bodyText()).as("body of %s", e.target()).doesNotContain(SECRET);
            }
            soft.assertThat(get(server.port(), "/file.txt").bodyText()).isEqualTo("in-root file");
            soft.assertThat(get(server.port(), "/caf%C3%A9.txt").bodyText()).isEqualTo("accented name");
            // Documented behaviour, not a hole: see layout().
            soft.assertThat(get(server.port(), "/hardlink").bodyText()).isEqualTo(HARD_LINKED);
        }
        soft.assertAll();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("archs")
    void symlinksOutOfTheRootAreServedOnlyWhenFollowingIsOn(Architecture arch, @TempDir Path tmp) throws IOException {
        Path root = layout(tmp);
        UnaryOperator<ServerConfig> follow = cfg -> cfg.withFollowSymlinks(true);
        try (TestServer server = TestServer.start(root, arch, follow)) {
            assertThat(get(server.port(), "/link-out").bodyText()).isEqualTo(SECRET);
            assertThat(get(server.port(), "/dirlink/secret").bodyText()).isEqualTo(SECRET);
            // Following links never re-enables dot-dot: the path rules come first.
            assertThat(get(server.port(), "/../secret").status()).isEqualTo(400);
            assertThat(get(server.port(), "/%2e%2e/secret").status()).isEqualTo(400);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("archs")
    void dotfilesAreServedOnlyWhenEnabled(Architecture arch, @TempDir Path tmp) throws IOException {
        Path root = layout(tmp);
        try (TestServer server = TestServer.start(root, arch, cfg -> cfg.withDotfiles(true))) {
            assertThat(get(server.port(), "/.hidden").bodyText()).isEqualTo("dotfile");
            // issue #13: .git (and .env) stay hidden even with --dotfiles
            assertThat(get(server.port(), "/.git/config").status()).isEqualTo(404);
            assertThat(get(server.port(), "/%2ehidden").status()).isEqualTo(200);
            assertThat(get(server.port(), "/link-out").status()).as("dotfiles do not follow links").isEqualTo(404);
            assertThat(get(server.port(), "/..").status()).isEqualTo(400);
        }
    }

    private static RawClient.Response get(int port, String target) throws IOException {
        try (RawClient c = new RawClient(port)) {
            c.timeout(5_000);
            c.send(("GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.UTF_8));
            return c.read();
        }
    }
}
