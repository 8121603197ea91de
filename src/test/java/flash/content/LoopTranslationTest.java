package flash.content;

import flash.http.RequestTarget;
import flash.sys.Native;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A path-cache miss translated on the event loop ({@link PathTranslator#translateCached}, {@link
 * PathTranslator#watchCached}): the same entry a helper's translation makes, or null wherever anything would have to
 * wait or the case is not the simple one; and the watch's tables, which a loop never waits for. Events are polled
 * for with a generous bound; nothing asserts timing.
 */
class LoopTranslationTest {
    private static final long WAIT_MS = 10_000;
    private static final int SMALL = 64 * 1024;

    @TempDir Path root;
    @TempDir Path outside;
    private FileWatch watch;

    @AfterEach
    void closeWatch() {
        if (watch != null) watch.close();
    }

    private static RequestTarget.Normalized target(String path) {
        return (RequestTarget.Normalized) RequestTarget.normalize(path);
    }

    private PathTranslator translator() {
        return new PathTranslator(root, false, false, true, SMALL);
    }

    private static void assumeNative() {
        Assumptions.assumeTrue(PathCache.unheldReadsSupported(), "no openat2 RESOLVE_CACHED or native access here");
    }

    private static FileEntry found(Translation t) {
        assertThat(t).isInstanceOf(Translation.Found.class);
        return ((Translation.Found) t).entry();
    }

    @Test
    void aSmallFileIsTheEntryAHelperWouldMakeWithTheSameValidators() throws Exception {
        assumeNative();
        Files.createDirectories(root.resolve("d"));
        byte[] bytes = new byte[3000];
        new java.util.Random(7).nextBytes(bytes);
        Files.write(root.resolve("d/page.html"), bytes);
        PathTranslator tr = translator();
        FileEntry loop = found(tr.translateCached(target("/d/page.html")));
        FileEntry helper = found(tr.translate(target("/d/page.html")));
        try {
            assertThat(loop.etag()).isEqualTo(helper.etag());
            assertThat(loop.path()).isEqualTo(helper.path());
            assertThat(loop.size()).isEqualTo(helper.size()).isEqualTo(3000);
            assertThat(loop.mtimeMillis()).isEqualTo(helper.mtimeMillis());
            assertThat(loop.contentType()).isEqualTo(helper.contentType()).startsWith("text/html");
            assertThat(loop.identity()).isEqualTo(helper.identity());
            assertThat(loop.mincoreTruthful()).as("this process owns the file").isTrue();
            assertThat(loop.body()).isEqualTo(java.nio.ByteBuffer.wrap(bytes));
            assertThat(loop.fileKey().hashCode()).as("the JDK's key's hash").isEqualTo(helper.fileKey().hashCode());
        } finally {
            loop.release();
            helper.release();
        }
        // An empty file too: nothing to read, the same entry.
        Files.write(root.resolve("empty.txt"), new byte[0]);
        FileEntry empty = found(tr.translateCached(target("/empty.txt")));
        try {
            assertThat(empty.size()).isZero();
            assertThat(empty.body().remaining()).isZero();
        } finally {
            empty.release();
        }
    }

    @Test
    void anythingButAPlainSmallFileInMemoryIsLeftToAHelper() throws Exception {
        assumeNative();
        Files.createDirectories(root.resolve("dir"));
        Files.writeString(root.resolve("dir/index.html"), "index");
        Files.writeString(root.resolve("a.txt"), "a");
        Files.writeString(root.resolve(".secret"), "s");
        Files.write(root.resolve("large.bin"), new byte[SMALL + 1]);
        Files.writeString(root.resolve("old.txt"), "1970");
        Files.setLastModifiedTime(root.resolve("old.txt"), FileTime.fromMillis(0)); // reproducible: its ETag digests the bytes
        Files.createSymbolicLink(root.resolve("link.txt"), root.resolve("a.txt"));
        Files.createDirectories(outside.resolve("sub"));
        Files.writeString(outside.resolve("sub/b.txt"), "b");
        Files.createSymbolicLink(root.resolve("ext"), outside.resolve("sub"));
        PathTranslator tr = translator();
        for (String p : new String[] {"/dir", "/dir/", "/", "/a.txt/", "/missing.txt", "/dir/missing", "/.secret",
                "/large.bin", "/old.txt", "/link.txt", "/ext/b.txt"}) {
            assertThat(tr.translateCached(target(p))).as(p).isNull();
        }
        Process mkfifo = new ProcessBuilder("mkfifo", root.resolve("pipe").toString()).start();
        if (mkfifo.waitFor() == 0) assertThat(tr.translateCached(target("/pipe"))).as("a FIFO").isNull();
        // The same file is found once its pages are in memory; evicted, its read would wait.
        Files.write(root.resolve("cold.bin"), new byte[20_000]);
        FileEntry warm = found(tr.translateCached(target("/cold.bin")));
        warm.release();
        Native.evictFromPageCache(root.resolve("cold.bin"));
        try (var ch = java.nio.channels.FileChannel.open(root.resolve("cold.bin"))) {
            Assumptions.assumeFalse(Residency.of(Residency.Test.MINCORE).isResident(ch, 0, 20_000),
                    "the page cache here did not drop the file");
        }
        assertThat(tr.translateCached(target("/cold.bin"))).as("evicted").isNull();
    }

    @Test
    void aLoopWatchesOnlyInDirectoriesAlreadyWatchedAndItsRegistrationFires() throws Exception {
        assumeNative();
        watch = FileWatch.start(100);
        Assumptions.assumeTrue(watch.available(), "no inotify instance to be had here");
        Files.createDirectories(root.resolve("sub"));
        Files.writeString(root.resolve("sub/a.txt"), "a");
        Files.writeString(root.resolve("sub/b.txt"), "b1");
        PathTranslator tr = translator();

        FileWatch.Registration early = watch.register();
        assertThat(tr.watchCached(target("/sub/b.txt"), early)).as("nothing watched yet").isFalse();
        assertThat(early.complete()).as("still complete: the caller cancels and asks a helper").isTrue();
        early.cancel();
        assertThat(watch.watchedDirs()).isZero();

        // The root watched but not sub: the loop's walk records (root, "sub"), then stops; the cancel takes it back, so
        // once the root's own registration goes too, nothing is left to keep the root watched.
        Files.writeString(root.resolve("top.txt"), "t");
        FileWatch.Registration rootOnly = watch.register();
        tr.watchDependencies(target("/top.txt"), rootOnly);
        assertThat(watch.watchedDirs()).isEqualTo(1);
        FileWatch.Registration partial = watch.register();
        assertThat(tr.watchCached(target("/sub/b.txt"), partial)).as("sub is not watched").isFalse();
        partial.cancel();
        rootOnly.cancel();
        assertThat(FileWatchTest.eventually(() -> watch.watchedDirs() == 0)).as("no user left: the partial walk was taken back").isTrue();

        FileWatch.Registration helpers = watch.register(); // what a helper's translation of a file in sub records
        tr.watchDependencies(target("/sub/a.txt"), helpers);
        assertThat(watch.watchedDirs()).isEqualTo(2);

        FileWatch.Registration loops = watch.register();
        assertThat(tr.watchCached(target("/sub/b.txt"), loops)).isTrue();
        AtomicBoolean fired = new AtomicBoolean();
        assertThat(loops.attach(() -> fired.set(true))).isTrue();
        Files.writeString(root.resolve("sub/b.txt"), "b2");
        assertThat(FileWatchTest.eventually(fired::get)).as("the change of the file a loop translated").isTrue();
        assertThat(loops.watching()).isFalse();
        loops.cancel();

        // A change between the loop's watch and its read: the read finds the new bytes, and the registration, made
        // before it, has recorded the change, so the entry is never kept (the cache attaches, is told, and drops it).
        FileWatch.Registration raced = watch.register();
        assertThat(tr.watchCached(target("/sub/b.txt"), raced)).isTrue();
        Files.writeString(root.resolve("sub/b.txt"), "b3");
        assertThat(FileWatchTest.eventually(() -> !raced.watching())).as("the change reported").isTrue();
        FileEntry read = found(tr.translateCached(target("/sub/b.txt")));
        try {
            assertThat(read.body()).isEqualTo(java.nio.ByteBuffer.wrap("b3".getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
        } finally {
            read.release();
        }
        assertThat(raced.attach(() -> { })).as("a change was seen before the entry could be kept").isFalse();
        raced.cancel();
        helpers.cancel();
    }

    @Test
    void aLoopNeverWaitsForTheWatchsTablesAndACancelThatFindsThemBusyIsDroppedLater() throws Exception {
        watch = FileWatch.start(100);
        Assumptions.assumeTrue(watch.available(), "no inotify instance to be had here");
        Files.writeString(root.resolve("a.txt"), "a");
        Path dir = root.toRealPath();
        FileWatch.Registration held = watch.register();
        assertThat(held.watch(dir, "a.txt")).isTrue();
        assertThat(watch.watchedDirs()).isEqualTo(1);

        java.lang.reflect.Field f = FileWatch.class.getDeclaredField("lock");
        f.setAccessible(true);
        ReentrantLock tables = (ReentrantLock) f.get(watch);
        tables.lock(); // another thread in the tables: a helper making a new watch, or the sweep
        try {
            FileWatch.Registration other = watch.register();
            boolean watched = CompletableFuture.supplyAsync(() -> other.watchIfWatched(dir, "a.txt"))
                    .get(WAIT_MS, TimeUnit.MILLISECONDS);
            assertThat(watched).as("busy: not waited for").isFalse();
            assertThat(other.complete()).isTrue();
            CompletableFuture.runAsync(held::cancel).get(WAIT_MS, TimeUnit.MILLISECONDS); // returns: queued
        } finally {
            tables.unlock();
        }
        // The queued cancellation is applied by the next holder (here the watch thread's sweep): the directory then has
        // no user and is unwatched.
        assertThat(FileWatchTest.eventually(() -> watch.watchedDirs() == 0)).as("the cancel queued, then applied").isTrue();
    }
}
