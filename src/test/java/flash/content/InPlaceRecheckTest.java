package flash.content;

import flash.sys.Native;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import static flash.content.CacheFixture.served;
import static flash.content.CacheFixture.target;
import static flash.content.CacheFixture.translate;
import static flash.content.CacheFixture.write;
import static flash.content.CacheFixture.writeFiles;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Entries past their revalidation bound (issue #11, "cheap revalidation"): a small file whose real path is the URL
 * path under the root is checked in place (openat2 RESOLVE_CACHED of the same path, fstat) and kept, held or unheld;
 * any change a translation would see makes it a miss; every other entry keeps the bound. The bound is 0 here, so
 * every lookup is past it.
 */
class InPlaceRecheckTest {
    private static final int SIZE = 20_000;

    @TempDir Path dir;
    Path root;
    PathTranslator translator;

    @BeforeEach
    void site() throws Exception {
        assumeTrue(Native.available() && Native.fdAccess(), "needs the native layer");
        root = Files.createDirectories(dir.resolve("www"));
        translator = new PathTranslator(root, false, false, false, 64 * 1024);
    }

    /** A bound of 0 and the root known: every lookup of a literal small file is an in-place check. */
    private PathCache cache(long maxBytes) {
        return new PathCache(1000, maxBytes, 0, 0, 100, translator.root());
    }

    @Test
    void literalSmallFilesPastTheirBoundAreCheckedInPlaceHeldOrNot() throws Exception {
        int files = 6;
        byte[][] data = writeFiles(root, files, i -> SIZE);
        PathCache cache = cache(2L * SIZE + SIZE / 2); // holds two files' bytes; the others are unheld
        for (int i = 0; i < files; i++) translate(translator, cache, "/f" + i);
        cache.cleanUp();
        assertThat(cache.bytesHeld()).as("some bytes are held").isPositive();
        assertThat(cache.unheldEntries()).as("some are not").isPositive();
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < files; i++) assertThat(served(cache, "/f" + i)).as("f%d", i).isEqualTo(data[i]);
        }
        assertThat(cache.misses.sum()).as("lookups that would have gone to a helper").isZero();
        assertThat(cache.recheckedInPlace.sum()).isEqualTo(3L * files);
        cache.clear();
    }

    @Test
    void aHeldFileChangedRenamedOverDeletedOrBehindASymlinkIsAMissPastItsBound() throws Exception {
        PathCache cache = cache(1 << 20); // holds every file's bytes: only the in-place check can notice
        Path outside = Files.createDirectories(dir.resolve("secret"));
        Files.createDirectories(root.resolve("sub"));
        write(root.resolve("a"), SIZE, 1);
        write(root.resolve("b"), SIZE, 2);
        write(root.resolve("c"), SIZE, 3);
        byte[] e = write(root.resolve("sub/e"), SIZE, 5);
        write(outside.resolve("e"), SIZE, 6);
        for (String n : new String[] {"/a", "/b", "/c", "/sub/e"}) translate(translator, cache, n);
        cache.cleanUp();
        assertThat(cache.unheldEntries()).isZero();
        assertThat(served(cache, "/sub/e")).isEqualTo(e);

        write(root.resolve("a"), SIZE, 11); // same size, in place
        assertThat(served(cache, "/a")).isNull();

        write(root.resolve("b.tmp"), SIZE, 12);
        Files.move(root.resolve("b.tmp"), root.resolve("b"), StandardCopyOption.ATOMIC_MOVE);
        assertThat(served(cache, "/b")).isNull();

        Files.delete(root.resolve("c"));
        assertThat(served(cache, "/c")).isNull();

        // the directory swapped for a symlink to an identical tree outside the root
        Files.move(root.resolve("sub"), dir.resolve("sub.old"));
        Files.createSymbolicLink(root.resolve("sub"), outside);
        assertThat(served(cache, "/sub/e")).isNull();

        assertThat(cache.recheckedInPlace.sum()).isEqualTo(1);
        cache.clear();
    }

    @Test
    void translationsThatAreNotTheLiteralPathKeepTheBound() throws Exception {
        Files.createDirectories(root.resolve("d"));
        write(root.resolve("d/index.html"), SIZE, 1);
        write(root.resolve("target"), SIZE, 2);
        Files.createSymbolicLink(root.resolve("link"), root.resolve("target"));
        PathCache cache = cache(1 << 20);
        translate(translator, cache, "/d/");
        translate(translator, cache, "/link");
        // an index name or a symlink stands between the URL and the file: re-opening the file proves nothing
        assertThat(served(cache, "/d/")).isNull();
        assertThat(served(cache, "/link")).isNull();

        // and a cache that does not know its root checks nothing in place
        write(root.resolve("plain"), SIZE, 3);
        PathCache rootless = new PathCache(1000, 1 << 20, 0, 0, 100);
        translate(translator, rootless, "/plain");
        assertThat(served(rootless, "/plain")).isNull();
        assertThat(cache.recheckedInPlace.sum() + rootless.recheckedInPlace.sum()).isZero();
        cache.clear();
        rootless.clear();
    }
}
