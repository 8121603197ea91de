package flash.content;

import flash.http.RequestTarget;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Cheap revalidation (issue #11) without a server: a path cache whose entries are watched ({@link FileWatch}) keeps
 * a hot entry past its stat bound with no translation, drops it when the file system reports a change to anything
 * its translation read (the file, a symlink in a chain, a directory on the way), and falls back to the stat bound
 * when watching is not possible. Events are polled for with a generous bound; nothing asserts timing.
 */
class FileWatchTest {
    private static final long WAIT_MS = 10_000;
    private static final long HOUR = TimeUnit.HOURS.toNanos(1);

    @TempDir Path root;
    @TempDir Path outside;
    private FileWatch watch;
    private final AtomicInteger translations = new AtomicInteger();
    private final AtomicInteger sentinels = new AtomicInteger();

    @AfterEach
    void closeWatch() {
        if (watch != null) watch.close();
    }

    private FileWatch startWatch(int maxDirs) {
        watch = FileWatch.start(maxDirs);
        Assumptions.assumeTrue(watch.available(), "no inotify instance to be had here (fs.inotify.max_user_instances)");
        return watch;
    }

    private static RequestTarget.Normalized target(String path) {
        return (RequestTarget.Normalized) RequestTarget.normalize(path);
    }

    private PathTranslator translator(boolean followSymlinks) {
        return new PathTranslator(root, followSymlinks, false, true, 64 * 1024);
    }

    /** What StaticSite.translate does: watch what the translation reads, translate, remember. */
    private void translate(PathTranslator tr, PathCache cache, FileWatch w, String path) {
        translations.incrementAndGet();
        CacheFixture.translate(tr, cache, w, path);
    }

    /** The cached body of {@code path} as text, null on a miss, "404" for a cached not-found. */
    private static String cached(PathCache cache, String path) {
        Translation t = cache.lookup(target(path));
        if (t == null) return null;
        if (t instanceof Translation.Found f) {
            try {
                return StandardCharsets.UTF_8.decode(f.entry().body()).toString();
            } finally {
                f.entry().release();
            }
        }
        return t instanceof Translation.NotFound ? "404" : t.getClass().getSimpleName();
    }

    /**
     * Waits until the watch has handled every event already queued for the root directory. inotify reports one
     * directory's events in order, so once a file created there now has dropped its negative entry, the events of the
     * changes made before it have fired too. Without this, a late event of an earlier change (the second IN_MODIFY of
     * a truncate-and-write, the IN_CREATE of a renamed directory's replacement) may drop the entry translated next:
     * the watch being conservative, not wrong, but the test would read a miss where it expects the new bytes.
     */
    private void settle(PathCache cache, FileWatch w) throws Exception {
        String name = "settle-" + sentinels.incrementAndGet() + ".txt";
        CacheFixture.translate(translator(false), cache, w, "/" + name);
        assertThat(cached(cache, "/" + name)).isEqualTo("404");
        Files.writeString(root.resolve(name), "x");
        assertThat(eventually(() -> cached(cache, "/" + name) == null)).as("the sentinel's IN_CREATE").isTrue();
    }

    /** Polls {@code c} until it holds or {@link #WAIT_MS} pass (also LoopTranslationTest's). */
    static boolean eventually(BooleanSupplier c) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
        while (!c.getAsBoolean()) {
            if (System.nanoTime() > end) return false;
            Thread.sleep(10);
        }
        return true;
    }

    @Test
    void aWatchedEntryOutlivesItsStatBoundWithoutATranslationAndGoesWhenTheFileChanges() throws Exception {
        Files.writeString(root.resolve("a.txt"), "one");
        FileWatch w = startWatch(100);
        PathCache cache = new PathCache(100, 1 << 20, 0, HOUR); // stat bound 0: unwatched, every lookup would miss
        PathTranslator tr = translator(false);
        translate(tr, cache, w, "/a.txt");
        for (int i = 0; i < 20; i++) {
            assertThat(cached(cache, "/a.txt")).as("lookup %d of a fresh watched entry", i).isEqualTo("one");
            Thread.sleep(2);
        }
        assertThat(translations.get()).as("translations: the hits did not go back to the disk").isEqualTo(1);
        assertThat(w.watchedDirs()).isEqualTo(1);

        Files.writeString(root.resolve("a.txt"), "two"); // same size, in place
        assertThat(eventually(() -> cached(cache, "/a.txt") == null)).as("dropped on IN_MODIFY").isTrue();
        // The watch thread counts once its removal returned, which runs the removal listener (the entry's bytes go
        // too) after the entry stopped being found: polled, not read once.
        assertThat(eventually(() -> cache.revalidatedByWatch.sum() == 1)).as("counted as a watch revalidation").isTrue();
        settle(cache, w);
        translate(tr, cache, w, "/a.txt");
        assertThat(cached(cache, "/a.txt")).isEqualTo("two");
    }

    @Test
    void aRegistrationStopsWatchingWhenItFiresOrIsCancelledBeforeAnythingRemovesItsEntry() throws Exception {
        // A loop may look an entry up between the change's event and the entry's removal: watching() closes that gap,
        // whatever the attached invalidation does (here nothing).
        Files.writeString(root.resolve("b.txt"), "one");
        FileWatch w = startWatch(100);
        FileWatch.Registration changed = w.register(), cancelled = w.register();
        assertThat(changed.watch(root.toRealPath(), "b.txt")).isTrue();
        assertThat(cancelled.watch(root.toRealPath(), "b.txt")).isTrue();
        assertThat(changed.attach(() -> { })).isTrue();
        assertThat(changed.watching()).isTrue();
        assertThat(cancelled.watching()).as("pending, not yet attached").isTrue();
        cancelled.cancel();
        assertThat(cancelled.watching()).as("cancelled").isFalse();
        Files.writeString(root.resolve("b.txt"), "two");
        assertThat(eventually(() -> !changed.watching())).as("fired by the change").isTrue();
        assertThat(changed.attach(() -> { })).as("a change was seen").isFalse();
        changed.cancel();
    }

    @Test
    void everyRegistrationOnANameFiresWhetherItIsTheNamesOnlyOneOrOneOfMany() throws Exception {
        // A name's registrations are held as one registration until a second comes, then as a set: each shape must
        // forget a cancelled registration and fire all the others.
        Files.writeString(root.resolve("one.txt"), "1");
        Files.writeString(root.resolve("many.txt"), "1");
        FileWatch w = startWatch(100);
        Path dir = root.toRealPath();
        FileWatch.Registration gone = w.register(), alone = w.register();
        assertThat(gone.watch(dir, "one.txt")).isTrue();
        assertThat(w.namesDependedOn(dir)).isEqualTo(1);
        gone.cancel(); // the name's only registration, forgotten
        assertThat(w.namesDependedOn(dir)).isZero();
        assertThat(alone.watch(dir, "one.txt")).isTrue();
        assertThat(alone.attach(() -> { })).isTrue();
        FileWatch.Registration first = w.register(), second = w.register(), third = w.register();
        for (FileWatch.Registration r : List.of(first, second, third)) {
            assertThat(r.watch(dir, "many.txt")).isTrue();
            assertThat(r.attach(() -> { })).isTrue();
        }
        second.cancel(); // one of a set, forgotten
        Files.writeString(root.resolve("many.txt"), "2");
        assertThat(eventually(() -> !first.watching() && !third.watching())).as("the set's others fired").isTrue();
        assertThat(alone.watching()).as("another name's registration is untouched").isTrue();
        Files.writeString(root.resolve("one.txt"), "2");
        assertThat(eventually(() -> !alone.watching())).as("the name's only registration fired").isTrue();
        assertThat(gone.watching()).isFalse();
        for (FileWatch.Registration r : List.of(alone, first, second, third)) r.cancel();
        assertThat(w.namesDependedOn(dir)).as("fired and cancelled registrations leave no name behind").isZero();
    }

    @Test
    void aNegativeEntryGoesWhenTheFileAppears() throws Exception {
        FileWatch w = startWatch(100);
        PathCache cache = new PathCache(100, 1 << 20, HOUR, HOUR);
        PathTranslator tr = translator(false);
        Files.createDirectory(root.resolve("d"));
        translate(tr, cache, w, "/d/new.txt");
        assertThat(cached(cache, "/d/new.txt")).isEqualTo("404");
        Files.writeString(root.resolve("d/new.txt"), "here");
        assertThat(eventually(() -> cached(cache, "/d/new.txt") == null)).as("dropped on IN_CREATE").isTrue();
    }

    @Test
    void aSymlinkSwappedAnywhereInTheChainDropsTheEntry() throws Exception {
        // root/l1 -> outside/l2 -> outside/t1/f.txt; then outside/l2 is swapped to outside/t2/f.txt
        Files.createDirectories(outside.resolve("t1"));
        Files.createDirectories(outside.resolve("t2"));
        Files.writeString(outside.resolve("t1/f.txt"), "first");
        Files.writeString(outside.resolve("t2/f.txt"), "second");
        Files.createSymbolicLink(outside.resolve("l2"), outside.resolve("t1/f.txt"));
        Files.createSymbolicLink(root.resolve("l1"), outside.resolve("l2"));
        FileWatch w = startWatch(100);
        PathCache cache = new PathCache(100, 1 << 20, HOUR, HOUR);
        PathTranslator tr = translator(true);
        translate(tr, cache, w, "/l1");
        assertThat(cached(cache, "/l1")).isEqualTo("first");

        Files.createSymbolicLink(outside.resolve("l2.new"), outside.resolve("t2/f.txt"));
        Files.move(outside.resolve("l2.new"), outside.resolve("l2"), StandardCopyOption.ATOMIC_MOVE);
        assertThat(eventually(() -> cached(cache, "/l1") == null)).as("the middle link swapped").isTrue();
        translate(tr, cache, w, "/l1");
        assertThat(cached(cache, "/l1")).isEqualTo("second");

        Files.writeString(outside.resolve("t2/f.txt"), "SECOND"); // the final target, in a directory out of the root
        assertThat(eventually(() -> cached(cache, "/l1") == null)).as("the target changed").isTrue();
    }

    @Test
    void aRenamedDirectoryDropsWhatWasReadThroughItAndItsNewOccupantIsWatched() throws Exception {
        Files.createDirectories(root.resolve("d/e"));
        Files.writeString(root.resolve("d/e/f.txt"), "old");
        FileWatch w = startWatch(100);
        PathCache cache = new PathCache(100, 1 << 20, HOUR, HOUR);
        PathTranslator tr = translator(false);
        translate(tr, cache, w, "/d/e/f.txt");
        assertThat(cached(cache, "/d/e/f.txt")).isEqualTo("old");

        Files.move(root.resolve("d"), root.resolve("d.old"));
        Files.createDirectories(root.resolve("d/e"));
        Files.writeString(root.resolve("d/e/f.txt"), "new");
        assertThat(eventually(() -> cached(cache, "/d/e/f.txt") == null)).as("renamed directory").isTrue();
        settle(cache, w); // the IN_CREATE of the new d would otherwise drop the entry translated through it next
        translate(tr, cache, w, "/d/e/f.txt");
        assertThat(cached(cache, "/d/e/f.txt")).isEqualTo("new");
        // the new directory is watched, not the old inode that moved to d.old
        Files.writeString(root.resolve("d.old/e/f.txt"), "moved away");
        Thread.sleep(200); // no event is expected: give a wrong one time to arrive (cannot make the test pass)
        assertThat(cached(cache, "/d/e/f.txt")).isEqualTo("new");
        Files.writeString(root.resolve("d/e/f.txt"), "newer");
        assertThat(eventually(() -> cached(cache, "/d/e/f.txt") == null)).as("the new directory's file").isTrue();
    }

    @Test
    void aListingGoesWhenAnyNameInItsDirectoryChanges() throws Exception {
        Files.createDirectories(root.resolve("list"));
        Files.writeString(root.resolve("list/a.txt"), "a");
        FileWatch w = startWatch(100);
        PathCache cache = new PathCache(100, 1 << 20, HOUR, HOUR);
        PathTranslator tr = translator(false);
        translate(tr, cache, w, "/list/");
        assertThat(cached(cache, "/list/")).isEqualTo("Listing");
        Files.writeString(root.resolve("list/b.txt"), "b");
        assertThat(eventually(() -> cached(cache, "/list/") == null)).as("a new entry in a listed directory").isTrue();
    }

    @Test
    void pastTheWatchLimitAnEntryKeepsTheStatBound() throws Exception {
        Files.createDirectories(root.resolve("d"));
        Files.writeString(root.resolve("d/a.txt"), "a");
        FileWatch w = startWatch(1); // the root fits, d does not
        PathCache cache = new PathCache(100, 1 << 20, 0, HOUR);
        PathTranslator tr = translator(false);
        translate(tr, cache, w, "/d/a.txt");
        Thread.sleep(1);
        assertThat(cached(cache, "/d/a.txt")).as("unwatched: past the stat bound (0) it is a miss").isNull();
        assertThat(w.incomplete.sum()).isEqualTo(1);
        translate(tr, cache, w, "/d/a.txt");
        assertThat(cache.revalidatedByStat.sum()).isEqualTo(1);
    }

    @Test
    void withoutAWatchEveryEntryKeepsTheStatBound() throws Exception {
        Files.writeString(root.resolve("a.txt"), "a");
        PathCache cache = new PathCache(100, 1 << 20, 0, HOUR);
        PathTranslator tr = translator(false);
        translate(tr, cache, null, "/a.txt");
        Thread.sleep(1);
        assertThat(cached(cache, "/a.txt")).isNull();
    }

    @Test
    void directoriesAreUnwatchedOnceNoEntryNeedsThem() throws Exception {
        for (String d : List.of("x", "y", "z")) {
            Files.createDirectories(root.resolve(d));
            Files.writeString(root.resolve(d + "/f.txt"), d);
        }
        FileWatch w = startWatch(100);
        PathCache cache = new PathCache(100, 1 << 20, HOUR, HOUR);
        PathTranslator tr = translator(false);
        for (String d : List.of("x", "y", "z")) translate(tr, cache, w, "/" + d + "/f.txt");
        assertThat(w.watchedDirs()).isEqualTo(4); // the root and x, y, z
        cache.clear();
        assertThat(eventually(() -> w.watchedDirs() == 0)).as("watches removed after the grace").isTrue();
    }
}
