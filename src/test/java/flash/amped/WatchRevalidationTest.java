package flash.amped;

import static org.assertj.core.api.Assertions.assertThat;

import flash.config.Architecture;
import flash.config.Revalidation;
import flash.testing.AllArchs;
import flash.testing.TestServer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code --revalidate watch} (issue #11): with both stat bounds at an hour, only the file system's events can make a
 * cached translation go, so every change below being served is the watch at work, under every architecture (mp
 * workers each watch for themselves). Polled with a generous bound, never timed.
 */
class WatchRevalidationTest {
    static final long BOUND_MS = 10_000;

    @TempDir Path root;
    @TempDir Path outside;

    private TestServer start(Architecture arch) {
        return TestServer.start(root, arch, c -> c.withRevalidation(Revalidation.WATCH)
                .withRevalidateAfter(Duration.ofHours(1)).withRevalidateWatched(Duration.ofHours(1))
                .withCacheBytes(4 << 20).withFollowSymlinks(true).withListDirs(true));
    }

    @AllArchs
    void changedRenamedOverSwappedAndDeletedFilesAreServedFresh(Architecture arch) throws Exception {
        try (TestServer s = start(arch)) {
            int p = s.port();
            // 3 KiB: held in memory; 200 KiB: mapped chunks; 1 MiB: sendfile
            for (int size : new int[] {3000, 200 * 1024, 1 << 20}) {
                String n = "f" + size;
                byte[] v1 = Http.write(root.resolve(n), size, 1);
                assertThat(Http.serves(p, "/" + n, v1)).isTrue();
                assertThat(Http.serves(p, "/" + n, v1)).as("cached").isTrue();

                byte[] v2 = Http.write(root.resolve(n), size, 2); // same size, in place
                assertThat(Http.eventually(BOUND_MS, () -> Http.serves(p, "/" + n, v2))).as("changed in place %s", n).isTrue();

                byte[] v3 = Http.write(root.resolve(n + ".tmp"), size / 2, 3);
                Files.move(root.resolve(n + ".tmp"), root.resolve(n), StandardCopyOption.ATOMIC_MOVE);
                assertThat(Http.eventually(BOUND_MS, () -> Http.serves(p, "/" + n, v3))).as("renamed over %s", n).isTrue();

                Files.delete(root.resolve(n));
                assertThat(Http.eventually(BOUND_MS, () -> Http.get(p, "/" + n).status() == 404)).as("deleted %s", n).isTrue();
            }
            byte[] a = Http.write(root.resolve("a.bin"), 100 * 1024, 7);
            byte[] b = Http.write(root.resolve("b.bin"), 100 * 1024, 8);
            Files.createSymbolicLink(root.resolve("link"), root.resolve("a.bin"));
            assertThat(Http.serves(p, "/link", a)).isTrue();
            Files.createSymbolicLink(root.resolve("link.new"), root.resolve("b.bin"));
            Files.move(root.resolve("link.new"), root.resolve("link"), StandardCopyOption.ATOMIC_MOVE);
            assertThat(Http.eventually(BOUND_MS, () -> Http.serves(p, "/link", b))).as("symlink swap").isTrue();
        }
    }

    @AllArchs
    void aNewFileInAWatchedDirectoryIsServedOnceItAppears(Architecture arch) throws Exception {
        Files.createDirectories(root.resolve("d"));
        Http.write(root.resolve("d/old.txt"), 10, 1);
        try (TestServer s = start(arch)) {
            int p = s.port();
            assertThat(Http.get(p, "/d/new.txt").status()).isEqualTo(404);
            assertThat(Http.get(p, "/d/new.txt").status()).as("the 404 is cached").isEqualTo(404);
            byte[] v = Http.write(root.resolve("d/new.txt"), 500, 4);
            assertThat(Http.eventually(BOUND_MS, () -> Http.serves(p, "/d/new.txt", v))).as("created").isTrue();
            // the directory's listing, cached too, shows it
            assertThat(Http.eventually(BOUND_MS, () -> new String(Http.get(p, "/d/").body()).contains("new.txt"))).isTrue();
            Http.write(root.resolve("d/third.txt"), 5, 5);
            assertThat(Http.eventually(BOUND_MS, () -> new String(Http.get(p, "/d/").body()).contains("third.txt")))
                    .as("listing after a create").isTrue();
        }
    }

    @AllArchs
    void aRenamedDirectoryIsNoLongerServedFromTheCache(Architecture arch) throws Exception {
        Files.createDirectories(root.resolve("site/css"));
        byte[] v1 = Http.write(root.resolve("site/css/a.css"), 2000, 1);
        try (TestServer s = start(arch)) {
            int p = s.port();
            assertThat(Http.serves(p, "/site/css/a.css", v1)).isTrue();
            Files.move(root.resolve("site"), root.resolve("site.old"));
            assertThat(Http.eventually(BOUND_MS, () -> Http.get(p, "/site/css/a.css").status() == 404)).as("moved away").isTrue();
            Files.createDirectories(root.resolve("site/css"));
            byte[] v2 = Http.write(root.resolve("site/css/a.css"), 2000, 2);
            assertThat(Http.eventually(BOUND_MS, () -> Http.serves(p, "/site/css/a.css", v2))).as("a new directory").isTrue();
            byte[] v3 = Http.write(root.resolve("site/css/a.css"), 2000, 3);
            assertThat(Http.eventually(BOUND_MS, () -> Http.serves(p, "/site/css/a.css", v3))).as("the new directory is watched").isTrue();
        }
    }

    /** --follow-symlinks: a directory out of the root reached through a symlink is watched along its real path. */
    @AllArchs
    void aFileReachedThroughASymlinkedDirectoryOutOfTheRootIsWatched(Architecture arch) throws Exception {
        Files.createDirectories(outside.resolve("data"));
        byte[] v1 = Http.write(outside.resolve("data/x.bin"), 4000, 1);
        Files.createSymbolicLink(root.resolve("ext"), outside.resolve("data"));
        try (TestServer s = start(arch)) {
            int p = s.port();
            assertThat(Http.serves(p, "/ext/x.bin", v1)).isTrue();
            byte[] v2 = Http.write(outside.resolve("data/x.bin"), 4000, 2);
            assertThat(Http.eventually(BOUND_MS, () -> Http.serves(p, "/ext/x.bin", v2))).as("target changed").isTrue();
        }
    }

    /**
     * The saving itself: with a stat bound of 0 (every unwatched entry is stale at once), a watched entry is still
     * served with no disk task; under --revalidate stat (the fallback, as when watching is unavailable), every request
     * past the bound checks the file again: in place for a literal path, by a new translation through a symlink.
     */
    @ParameterizedTest
    @MethodSource("flash.amped.Http#inProcess")
    void aFreshWatchedEntryCostsNoDiskTaskAndTheStatFallbackChecksInPlaceOrTranslates(Architecture arch) throws Exception {
        byte[] data = Http.write(root.resolve("a.txt"), 2000, 1);
        try (TestServer w = TestServer.start(root, arch, c -> c.withRevalidation(Revalidation.WATCH)
                .withRevalidateAfter(Duration.ZERO).withRevalidateWatched(Duration.ofHours(1)))) {
            org.junit.jupiter.api.Assumptions.assumeTrue(w.server().context().fileWatch().available(), "no inotify here");
            for (int i = 0; i < 10; i++) assertThat(Http.serves(w.port(), "/a.txt", data)).isTrue();
            assertThat(w.server().metrics().diskTasks()).as("disk tasks, watched").isEqualTo(1);
            assertThat(w.server().context().pathCache().hits.sum()).isEqualTo(9);
            String status = w.server().metrics().render();
            assertThat(status).contains("flash_watched_dirs 1").contains("flash_revalidations_total{by=\"stat\"} 0");
        }
        // Under stat, a file reached by its literal path is translated on the loop the first time (every name in the
        // dentry cache, nothing to watch) and checked in place past its bound (openat2 RESOLVE_CACHED, fstat): no disk
        // task; one reached through a symlink cannot be either, and is translated again by a helper every time.
        java.nio.file.Files.createSymbolicLink(root.resolve("link.txt"), root.resolve("a.txt"));
        try (TestServer st = TestServer.start(root, arch, c -> c.withRevalidation(Revalidation.STAT)
                .withRevalidateAfter(Duration.ZERO).withRevalidateWatched(Duration.ofHours(1)))) {
            for (int i = 0; i < 10; i++) assertThat(Http.serves(st.port(), "/a.txt", data)).isTrue();
            assertThat(st.server().metrics().diskTasks()).as("disk tasks, stat, literal path").isZero();
            assertThat(st.server().context().pathCache().translatedWithoutWaiting.sum()).isEqualTo(1);
            assertThat(st.server().metrics().render()).contains("flash_rechecks_total 9")
                    .contains("flash_revalidations_total{by=\"stat\"} 0");
            for (int i = 0; i < 10; i++) assertThat(Http.serves(st.port(), "/link.txt", data)).isTrue();
            assertThat(st.server().metrics().diskTasks()).as("disk tasks, stat, through a symlink").isEqualTo(10);
            assertThat(st.server().context().pathCache().translatedWithoutWaiting.sum()).as("never on the loop").isEqualTo(1);
            assertThat(st.server().context().fileWatchIfStarted()).as("no watch made under stat").isNull();
            assertThat(st.server().metrics().render()).contains("flash_revalidations_total{by=\"stat\"} 9")
                    .contains("flash_rechecks_total 9");
        }
    }
}
