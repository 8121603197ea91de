package flash.amped;

import static org.assertj.core.api.Assertions.assertThat;

import flash.config.Architecture;
import flash.config.CompressionConfig;
import flash.config.Revalidation;
import flash.config.StaticRoute;
import flash.config.VirtualHost;
import flash.content.PathCache;
import flash.testing.AllArchs;
import flash.testing.RawClient;
import flash.testing.TestServer;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Path-cache misses translated on the event loop (issue #11, a site larger than the path cache): a small file whose
 * names are all in the dentry cache is served with no helper's round trip, under both revalidation modes, and a change
 * to it is still seen, since its names were watched before it was read. The rest (a directory, a symlink, a file not
 * yet in a watched directory) still goes to a helper. Polled with a generous bound, never timed.
 */
class LoopTranslationServingTest {
    static final long BOUND_MS = 10_000;

    @TempDir Path root;

    @AllArchs
    void aFileTranslatedOnTheLoopIsServedAndItsChangeSeen(Architecture arch) throws Exception {
        Files.createDirectories(root.resolve("d/sub"));
        byte[] a = Http.write(root.resolve("d/a.txt"), 3000, 1);
        byte[] b1 = Http.write(root.resolve("d/b.txt"), 5000, 2);
        Files.writeString(root.resolve("d/sub/index.html"), "index");
        Files.createSymbolicLink(root.resolve("d/link.txt"), root.resolve("d/a.txt"));
        try (TestServer s = TestServer.start(root, arch, c -> c.withRevalidation(Revalidation.WATCH)
                .withRevalidateAfter(Duration.ofHours(1)).withRevalidateWatched(Duration.ofHours(1)))) {
            int p = s.port();
            assertThat(Http.serves(p, "/d/a.txt", a)).as("a helper's: its directory is watched from here on").isTrue();
            assertThat(Http.serves(p, "/d/b.txt", b1)).isTrue();
            assertLoopTranslated(s, arch, 1); // b.txt
            assertThat(Http.serves(p, "/d/link.txt", a)).as("through a symlink").isTrue();
            RawClient.Response index = Http.get(p, "/d/sub/");
            assertThat(index.status()).isEqualTo(200);
            assertThat(new String(index.body())).isEqualTo("index");
            assertThat(Http.get(p, "/d/sub").status()).as("a directory without its slash").isEqualTo(301);
            assertThat(Http.get(p, "/d/none.txt").status()).isEqualTo(404);

            byte[] b2 = Http.write(root.resolve("d/b.txt"), 5000, 3); // in place, same size
            assertThat(Http.eventually(BOUND_MS, () -> Http.serves(p, "/d/b.txt", b2))).as("changed").isTrue();
            Files.delete(root.resolve("d/b.txt"));
            assertThat(Http.eventually(BOUND_MS, () -> Http.get(p, "/d/b.txt").status() == 404)).as("deleted").isTrue();
        }
    }

    /** A directory renamed after the loop translated a file in it: the old path is not served, the new one is. */
    @AllArchs
    void aFileTheLoopTranslatedGoesWithItsRenamedDirectory(Architecture arch) throws Exception {
        Files.createDirectories(root.resolve("d"));
        byte[] a = Http.write(root.resolve("d/a.txt"), 3000, 1);
        byte[] b = Http.write(root.resolve("d/b.txt"), 4000, 2);
        try (TestServer s = TestServer.start(root, arch, c -> c.withRevalidation(Revalidation.WATCH)
                .withRevalidateAfter(Duration.ofHours(1)).withRevalidateWatched(Duration.ofHours(1)))) {
            int p = s.port();
            assertThat(Http.serves(p, "/d/a.txt", a)).as("a helper's: d is watched from here on").isTrue();
            assertThat(Http.serves(p, "/d/b.txt", b)).isTrue();
            assertLoopTranslated(s, arch, 1);
            Files.move(root.resolve("d"), root.resolve("e"));
            assertThat(Http.eventually(BOUND_MS, () -> Http.get(p, "/d/b.txt").status() == 404)).as("renamed away").isTrue();
            assertThat(Http.serves(p, "/e/b.txt", b)).isTrue();
            Files.createDirectories(root.resolve("d"));
            byte[] b2 = Http.write(root.resolve("d/b.txt"), 4000, 3);
            assertThat(Http.eventually(BOUND_MS, () -> Http.serves(p, "/d/b.txt", b2))).as("a new d").isTrue();
        }
    }

    /**
     * Entries the loop made serve every way a helper's do: compressed by the negotiator (and identical once decoded),
     * under a static route's directory, and per virtual host when two sites have the same path.
     */
    @AllArchs
    void aFileTheLoopTranslatedIsCompressedAndServedPerRouteAndHost(Architecture arch) throws Exception {
        Path docs = Files.createDirectories(root.resolve("docs-dir/d"));
        Path other = Files.createDirectories(root.resolve("other-site/d"));
        Files.createDirectories(root.resolve("d"));
        byte[] text = "a line of text the negotiator compresses well\n".repeat(120).getBytes(StandardCharsets.US_ASCII);
        for (Path dir : List.of(root.resolve("d"), docs, other)) Files.writeString(dir.resolve("a.txt"), "warm");
        Files.write(root.resolve("d/t.txt"), text);
        Files.writeString(docs.resolve("b.txt"), "from the static route");
        Files.writeString(root.resolve("d/b.txt"), "from the main site");
        Files.writeString(other.resolve("b.txt"), "from the other host");
        try (TestServer s = TestServer.start(root, arch, c -> c.withRevalidation(Revalidation.WATCH)
                .withRevalidateAfter(Duration.ofHours(1)).withRevalidateWatched(Duration.ofHours(1))
                .withCompression(CompressionConfig.DEFAULTS.withCompress(true))
                .withStatics(List.of(new StaticRoute("/docs", root.resolve("docs-dir"))))
                .withVhosts(List.of(new VirtualHost(List.of("other.example"), c.withRoot(root.resolve("other-site"))))))) {
            int p = s.port();
            // Helpers translate a first file in each directory, which watches it; the next files are the loop's.
            assertThat(Http.get(p, "/d/a.txt").status()).isEqualTo(200);
            assertThat(Http.get(p, "/docs/d/a.txt").status()).isEqualTo(200);
            assertThat(Http.get(p, "other.example", "/d/a.txt").status()).isEqualTo(200); // the main site's under mp

            HttpResponse<byte[]> gz = flash.testing.Http.get(s.uri("/d/t.txt"), "Accept-Encoding", "gzip");
            assertThat(gz.statusCode()).isEqualTo(200);
            assertThat(gz.headers().firstValue("Content-Encoding")).hasValue("gzip");
            assertThat(gz.headers().firstValue("Vary")).hasValueSatisfying(v -> assertThat(v).containsIgnoringCase("Accept-Encoding"));
            try (var in = new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(gz.body()))) {
                assertThat(in.readAllBytes()).isEqualTo(text);
            }
            assertThat(Http.serves(p, "/d/t.txt", text)).as("identity, without Accept-Encoding").isTrue();
            long tasks = s.inProcess() ? s.server().metrics().diskTasks() : 0;
            assertThat(Http.get(p, "/docs/d/b.txt").bodyText()).isEqualTo("from the static route");
            assertThat(Http.get(p, "/d/b.txt").bodyText()).isEqualTo("from the main site");
            if (arch != Architecture.MP) { // mp's workers get virtual hosts from a config file only (ConfigFileServeTest)
                assertThat(Http.get(p, "other.example", "/d/b.txt").bodyText()).isEqualTo("from the other host");
            }
            if (s.inProcess() && PathCache.unheldReadsSupported()) {
                // The route's and the host's sites count their loop translations in caches of their own; that no
                // helper ran for either shows their loops translated them too.
                assertThat(s.server().metrics().diskTasks()).as("no helper for the three b.txt").isEqualTo(tasks);
            }
            assertLoopTranslated(s, arch, 2); // t.txt and the main site's b.txt (routes and hosts have caches of their own)
        }
    }

    /** The main site's loop translations, where the server's counters are in this process and the loop can translate. */
    private static void assertLoopTranslated(TestServer s, Architecture arch, int expected) {
        if (arch != Architecture.MP && PathCache.unheldReadsSupported()) { // mp's workers count for themselves
            assertThat(s.server().context().pathCache().translatedWithoutWaiting.sum()).isEqualTo(expected);
        }
    }

    /**
     * Where the work went: a plain small file costs no disk task under stat, nor under watch once its directory is
     * watched; a directory's index, a symlink and a first file in an unwatched directory each cost one.
     */
    @ParameterizedTest
    @MethodSource("flash.amped.Http#inProcess")
    void missesOfPlainFilesCostNoDiskTask(Architecture arch) throws Exception {
        Assumptions.assumeTrue(PathCache.unheldReadsSupported(), "no openat2 RESOLVE_CACHED or native access here");
        Files.createDirectories(root.resolve("d/sub"));
        byte[] a = Http.write(root.resolve("d/a.txt"), 3000, 1);
        byte[] b = Http.write(root.resolve("d/b.txt"), 3000, 2);
        Files.writeString(root.resolve("d/sub/index.html"), "index");
        Files.createSymbolicLink(root.resolve("link.txt"), root.resolve("d/a.txt"));
        try (TestServer st = TestServer.start(root, arch, c -> c.withRevalidation(Revalidation.STAT))) {
            int p = st.port();
            assertThat(Http.serves(p, "/d/a.txt", a)).isTrue();
            assertThat(Http.serves(p, "/d/b.txt", b)).isTrue();
            assertThat(st.server().metrics().diskTasks()).as("stat: plain files").isZero();
            assertThat(Http.get(p, "/d/sub/").status()).isEqualTo(200);
            assertThat(Http.serves(p, "/link.txt", a)).isTrue();
            assertThat(st.server().metrics().diskTasks()).as("stat: an index and a symlink").isEqualTo(2);
            assertThat(Http.metric(st.server().metrics().render(), "flash_translations_without_waiting_total")).isEqualTo(2);
        }
        try (TestServer w = TestServer.start(root, arch, c -> c.withRevalidation(Revalidation.WATCH)
                .withRevalidateAfter(Duration.ofHours(1)).withRevalidateWatched(Duration.ofHours(1)))) {
            Assumptions.assumeTrue(w.server().context().fileWatch().available(), "no inotify here");
            int p = w.port();
            assertThat(Http.serves(p, "/d/a.txt", a)).isTrue();
            assertThat(w.server().metrics().diskTasks()).as("watch: the first file, its directories watched").isEqualTo(1);
            assertThat(Http.serves(p, "/d/b.txt", b)).isTrue();
            assertThat(w.server().metrics().diskTasks()).as("watch: the next, in a watched directory").isEqualTo(1);
            assertThat(w.server().context().pathCache().translatedWithoutWaiting.sum()).isEqualTo(1);
        }
    }
}
