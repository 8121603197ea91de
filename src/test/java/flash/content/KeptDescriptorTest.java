package flash.content;

import flash.sys.Native;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static flash.content.CacheFixture.bytesOf;
import static flash.content.CacheFixture.openOn;
import static flash.content.CacheFixture.served;
import static flash.content.CacheFixture.translate;
import static flash.content.CacheFixture.write;
import static flash.content.CacheFixture.writeFiles;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Unheld entries keep the descriptor their first read opened (issue #11): later reads skip the open and the close,
 * within the entry's bound they serve the file it was opened on (as held bytes would), a change in place is still a
 * miss, and a descriptor is kept only where the server's {@link DescriptorBudget} has room: the acceptor sheds them
 * when connections need it. Whatever happens, every descriptor is closed once its entry and its reads are gone.
 */
class KeptDescriptorTest {
    private static final long NEVER = Long.MAX_VALUE;
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

    /** A cache that holds no file's bytes, sharing {@code budget}: every small file is read unheld. */
    private PathCache unheldCache(long boundNanos, DescriptorBudget budget) {
        return new PathCache(1000, 1, boundNanos, boundNanos, 100, translator.root(), budget);
    }

    private static DescriptorBudget roomFor(int kept) { return new DescriptorBudget(DescriptorBudget.RESERVE + kept); }

    /** Descriptors of this process open on any of {@code /f0} to {@code /f<files - 1>}. */
    private long openOnFiles(int files) throws Exception {
        long open = 0;
        for (int i = 0; i < files; i++) open += openOn(translator.root().resolve("f" + i));
        return open;
    }

    @Test
    void theFirstReadKeepsTheFileOpenForTheNextAndTheEntrysReleaseClosesIt() throws Exception {
        byte[] v = write(root.resolve("f"), SIZE, 1);
        Path real = translator.root().resolve("f");
        PathCache cache = unheldCache(NEVER, roomFor(10));
        translate(translator, cache, "/f");
        assertThat(openOn(real)).isZero();
        for (int i = 0; i < 5; i++) assertThat(served(cache, "/f")).isEqualTo(v);
        assertThat(cache.keptDescriptors()).isEqualTo(1);
        assertThat(openOn(real)).as("one descriptor, kept; no other left open").isEqualTo(1);
        assertThat(cache.unheldHits.sum()).isEqualTo(5);
        cache.clear();
        assertThat(cache.keptDescriptors()).isZero();
        assertThat(openOn(real)).isZero();
    }

    /** Reads {@code path} (its first read since the translation: it keeps a descriptor); its cached unheld entry. */
    private static FileEntry readAndKept(PathCache cache, String path, byte[] expected) {
        Translation t = cache.lookup(CacheFixture.target(path));
        FileEntry unheld = ((Translation.Found) t).entry().origin();
        assertThat(bytesOf(t)).isEqualTo(expected);
        return unheld;
    }

    /** Closes {@code unheld}'s kept descriptor, and makes its last open older than the relief's idle time. */
    private static void dropKeptAndAge(FileEntry unheld) {
        KeptDescriptor k = unheld.retainKept();
        assertThat(unheld.dropKept(k)).isTrue();
        k.release();
        unheld.openedTick = DescriptorBudget.nowTick() - DescriptorBudget.RELIEF_IDLE_TICKS - 1;
    }

    @Test
    void inAFilledBudgetAFileOpenedAgainOnlyAfterTheReliefIdleTimeDoesNotKeepItsDescriptorOneOpenedAgainSoonDoes() throws Exception {
        byte[] v = write(root.resolve("f"), SIZE, 1);
        for (String other : List.of("a", "b", "c")) write(root.resolve(other), SIZE, 2);
        Path real = translator.root().resolve("f");
        DescriptorBudget budget = roomFor(4);
        PathCache cache = unheldCache(NEVER, budget);
        for (String name : List.of("f", "a", "b", "c")) translate(translator, cache, "/" + name);
        FileEntry unheld = readAndKept(cache, "/f", v);
        for (String other : List.of("a", "b", "c")) assertThat(served(cache, "/" + other)).isNotNull();
        assertThat(cache.keptDescriptors()).as("the first read since the translation keeps it").isEqualTo(4);

        dropKeptAndAge(unheld);
        assertThat(budget.held()).as("three quarters of the room").isEqualTo(3);
        assertThat(served(cache, "/f")).isEqualTo(v);
        assertThat(budget.held()).as("its last open longer ago than an idle descriptor is kept: not kept").isEqualTo(3);
        assertThat(openOn(real)).isZero();

        assertThat(served(cache, "/f")).isEqualTo(v);
        assertThat(budget.held()).as("opened again soon after: kept").isEqualTo(4);
        assertThat(openOn(real)).isEqualTo(1);
        cache.clear();
        assertThat(openOn(real)).isZero();
    }

    @Test
    void belowThreeQuartersOfTheRoomEveryReadKeepsItsDescriptor() throws Exception {
        byte[] v = write(root.resolve("f"), SIZE, 1);
        Path real = translator.root().resolve("f");
        DescriptorBudget budget = roomFor(10);
        PathCache cache = unheldCache(NEVER, budget);
        translate(translator, cache, "/f");
        dropKeptAndAge(readAndKept(cache, "/f", v));
        assertThat(served(cache, "/f")).isEqualTo(v);
        assertThat(cache.keptDescriptors()).as("room to spare: kept however long ago it was opened").isEqualTo(1);
        assertThat(openOn(real)).isEqualTo(1);
        cache.clear();
        assertThat(openOn(real)).isZero();
    }

    @Test
    void aReleasedEntryKeepsNoDescriptorAndClosesTheOneItIsGiven() throws Exception {
        byte[] v = write(root.resolve("f"), SIZE, 1);
        Path real = translator.root().resolve("f");
        DescriptorBudget budget = roomFor(10);
        PathCache cache = unheldCache(NEVER, budget);
        translate(translator, cache, "/f");
        FileEntry unheld = readAndKept(cache, "/f", v);
        cache.clear(); // the entry released: it keeps nothing from now on
        assertThat(openOn(real)).isZero();
        for (boolean asHandle : new boolean[] {false, true}) {
            int fd = Native.openReadOnly(real);
            assertThat(unheld.keep(fd, budget, asHandle)).as("released: not kept").isFalse();
            assertThat(openOn(real)).as("closed by keep, asHandle " + asHandle).isZero();
        }
        assertThat(budget.held()).isZero();
    }

    @Test
    void aKeptFileChangedRenamedOverOrDeletedIsAMissAndOneMovedAwayWithinTheBoundIsServedAsHeldBytesWouldBe() throws Exception {
        write(root.resolve("a"), SIZE, 1);
        write(root.resolve("b"), SIZE, 2);
        write(root.resolve("c"), SIZE, 3);
        Path sub = Files.createDirectories(root.resolve("sub"));
        byte[] d = write(sub.resolve("d"), SIZE, 4);
        PathCache cache = unheldCache(NEVER, roomFor(10));
        for (String n : new String[] {"/a", "/b", "/c", "/sub/d"}) {
            translate(translator, cache, n);
            assertThat(served(cache, n)).isNotNull();
        }
        assertThat(cache.keptDescriptors()).isEqualTo(4);

        // changed in place: the fstat of the kept descriptor sees it (mtime, ctime)
        write(root.resolve("a"), SIZE, 11);
        assertThat(served(cache, "/a")).isNull();

        // renamed over, or deleted: unlinking the kept file changes its ctime, so fstat sees that too
        write(root.resolve("b.tmp"), SIZE, 12);
        Files.move(root.resolve("b.tmp"), root.resolve("b"), StandardCopyOption.ATOMIC_MOVE);
        assertThat(served(cache, "/b")).isNull();
        Files.delete(root.resolve("c"));
        assertThat(served(cache, "/c")).isNull();

        // its directory moved away: the file itself is unchanged, and is served until the bound (or the watch)
        // drops the entry, as its bytes would be if they were held (past the bound: UnheldEntryTest)
        Files.move(sub, root.resolve("sub.old"));
        assertThat(served(cache, "/sub/d")).isEqualTo(d);
        cache.clear();
        assertThat(openOn(translator.root().resolve("sub.old/d"))).isZero();
    }

    @Test
    void aWatchedKeptFileIsReadWithoutAnFstatButNeverAtALengthItNoLongerHas() throws Exception {
        write(root.resolve("f"), SIZE, 1);
        Path other = CacheFixture.unwatchedSecondName(dir, root.resolve("f"));
        try (FileWatch w = FileWatch.start(16)) {
            assumeTrue(w.available(), "no inotify instance to be had here");
            PathCache cache = unheldCache(NEVER, roomFor(10));
            assertThat(translate(translator, cache, w, "/f").complete()).isTrue();
            assertThat(served(cache, "/f")).isNotNull();
            assertThat(cache.keptDescriptors()).isEqualTo(1);

            // the same length, rewritten: no fstat, so read as it now is (an unwatched entry's fstat refuses it)
            byte[] same = write(other, SIZE, 2); // in place: Files.write truncates the same inode
            // a new mtime for certain: a fast rewrite on coarse timestamps could keep the old one, and an fstat pass
            Files.setLastModifiedTime(other,
                    java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - 10_000));
            assertThat(served(cache, "/f")).isEqualTo(same);
            // longer or shorter than cached: a miss, never the new bytes cut or padded to the old length
            write(other, SIZE + 1, 3);
            assertThat(served(cache, "/f")).isNull();
            write(other, SIZE - 1, 4);
            assertThat(served(cache, "/f")).isNull();
            write(other, 0, 5);
            assertThat(served(cache, "/f")).isNull();
            byte[] back = write(other, SIZE, 6);
            assertThat(served(cache, "/f")).isEqualTo(back);

            // through the watched name: the watch drops the entry
            write(root.resolve("f"), SIZE, 7);
            long end = System.nanoTime() + 10_000_000_000L;
            while (served(cache, "/f") != null && System.nanoTime() < end) Thread.sleep(5);
            assertThat(served(cache, "/f")).isNull();
            cache.clear();
        }
        assertThat(openOn(translator.root().resolve("f"))).isZero();
    }

    @Test
    void anEmptyFileThatGrewIsNotReadAsEmpty() throws Exception {
        // The cache holds an empty file's (no) bytes, so its entry is read here directly: first by its path, which
        // keeps the descriptor, then from that descriptor with no fstat, as a watched entry is.
        write(root.resolve("e"), 0, 1);
        Translation t = translator.translate(CacheFixture.target("/e"));
        FileEntry found = ((Translation.Found) t).entry();
        FileEntry unheld = found.withoutBody();
        found.release();
        try {
            assertThat(CacheFixture.bytesOf(new Translation.Found(
                    unheld.readUnheld(UnheldRead.Check.REOPEN, roomFor(10))))).isEmpty();
            assertThat(openOn(translator.root().resolve("e"))).as("kept").isEqualTo(1);
            assertThat(CacheFixture.bytesOf(new Translation.Found(
                    unheld.readUnheld(UnheldRead.Check.WATCHED, null)))).isEmpty();
            try (var ch = java.nio.channels.FileChannel.open(root.resolve("e"), StandardOpenOption.WRITE)) {
                ch.write(java.nio.ByteBuffer.wrap(new byte[] {1}));
            }
            assertThat(unheld.readUnheld(UnheldRead.Check.WATCHED, null)).isNull();
        } finally {
            unheld.release();
        }
        assertThat(openOn(translator.root().resolve("e"))).isZero();
    }

    @Test
    void pastTheBoundTheReadOpensThePathAgainSoARenameOverIsAMiss() throws Exception {
        byte[] v = write(root.resolve("f"), SIZE, 1);
        PathCache cache = unheldCache(0, roomFor(10)); // every lookup is past the bound
        translate(translator, cache, "/f");
        assertThat(served(cache, "/f")).isEqualTo(v);
        assertThat(served(cache, "/f")).isEqualTo(v);
        assertThat(cache.keptDescriptors()).as("the path's second open was closed, not kept twice").isEqualTo(1);
        write(root.resolve("f.tmp"), SIZE, 2);
        Files.move(root.resolve("f.tmp"), root.resolve("f"), StandardCopyOption.ATOMIC_MOVE);
        assertThat(served(cache, "/f")).isNull();
        cache.clear();
    }

    @Test
    void descriptorsAreKeptOnlyWhereTheBudgetHasRoomAndShedWhenConnectionsNeedIt() throws Exception {
        int files = 12;
        byte[][] data = writeFiles(root, files, i -> SIZE);
        DescriptorBudget budget = roomFor(5);
        AtomicInteger connections = new AtomicInteger();
        budget.countConnections(connections::get);
        PathCache cache = unheldCache(NEVER, budget);
        for (int i = 0; i < files; i++) translate(translator, cache, "/f" + i);
        for (int round = 0; round < 2; round++) {
            for (int i = 0; i < files; i++) assertThat(served(cache, "/f" + i)).isEqualTo(data[i]);
        }
        assertThat(budget.held()).as("no more than the room").isEqualTo(5);
        assertThat(budget.shedIfShort()).as("room to spare").isZero();

        connections.set(1); // two descriptors of the room are a connection's now
        assertThat(budget.shedIfShort()).isEqualTo(5);
        assertThat(budget.held()).isZero();
        assertThat(openOnFiles(files)).isZero();
        for (int i = 0; i < files; i++) assertThat(served(cache, "/f" + i)).as("served, only not kept").isEqualTo(data[i]);
        assertThat(budget.held()).as("what the connection leaves").isEqualTo(3);

        assertThat(budget.shedAll()).isEqualTo(3);
        assertThat(budget.held()).isZero();
        cache.clear();
    }

    @Test
    void readsRacingShedsAndEvictionsNeverReadAClosedOrReusedDescriptor() throws Exception {
        int files = 40;
        byte[][] data = writeFiles(root, files, i -> SIZE - i);
        DescriptorBudget budget = roomFor(20);
        PathCache cache = unheldCache(NEVER, budget);
        for (int i = 0; i < files; i++) translate(translator, cache, "/f" + i);
        AtomicBoolean stop = new AtomicBoolean();
        ConcurrentLinkedQueue<String> wrong = new ConcurrentLinkedQueue<>();
        List<Thread> readers = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            int seed = t;
            readers.add(Thread.ofPlatform().start(() -> {
                java.util.Random rnd = new java.util.Random(seed);
                while (!stop.get()) {
                    int i = rnd.nextInt(files);
                    byte[] got = served(cache, "/f" + i);
                    // null: a miss (the entry was just dropped), which a server translates again
                    if (got != null && !java.util.Arrays.equals(got, data[i])) wrong.add("f" + i);
                }
            }));
        }
        // sheds and re-translations (each replaces its entry and releases the old one's descriptor) while reads run
        for (int round = 0; round < 300; round++) {
            budget.shedAll();
            for (int i = round % 4; i < files; i += 4) translate(translator, cache, "/f" + i);
        }
        stop.set(true);
        for (Thread t : readers) t.join();
        assertThat(wrong).isEmpty();
        // a read never lost its descriptor under it: a closed one would have failed it (EBADF) into a miss
        assertThat(cache.unheldFallbacks.sum()).isZero();
        assertThat(cache.unheldHits.sum()).isPositive();
        cache.clear();
        assertThat(budget.held()).isZero();
        assertThat(openOnFiles(files)).as("every descriptor closed").isZero();
    }

    @Test
    void idleDescriptorsAreClosedByTheSweepAndAFailedAcceptCapsTheBudgetUntilSweepsRaiseIt() throws Exception {
        int files = 8;
        byte[][] data = writeFiles(root, files, i -> SIZE);
        DescriptorBudget budget = roomFor(6);
        PathCache cache = unheldCache(NEVER, budget);
        for (int i = 0; i < files; i++) translate(translator, cache, "/f" + i);
        for (int i = 0; i < files; i++) assertThat(served(cache, "/f" + i)).isEqualTo(data[i]);
        assertThat(budget.held()).isEqualTo(6);

        long now = DescriptorBudget.nowTick();
        assertThat(budget.sweep(now, DescriptorBudget.IDLE_TICKS)).as("just read: not idle").isZero();
        assertThat(budget.sweep(now + DescriptorBudget.IDLE_TICKS, DescriptorBudget.IDLE_TICKS)).isEqualTo(6);
        assertThat(budget.held()).isZero();
        assertThat(openOnFiles(files)).as("swept descriptors are closed").isZero();

        for (int i = 0; i < files; i++) assertThat(served(cache, "/f" + i)).isEqualTo(data[i]);
        assertThat(budget.held()).isEqualTo(6);
        assertThat(budget.shedAll()).isEqualTo(6); // accept failed with EMFILE: the room was overestimated
        for (int i = 0; i < files; i++) assertThat(served(cache, "/f" + i)).isEqualTo(data[i]);
        assertThat(budget.held()).as("capped at half of what it held").isEqualTo(3);
        budget.sweep(DescriptorBudget.nowTick(), DescriptorBudget.IDLE_TICKS); // raises the cap back
        for (int i = 0; i < files; i++) assertThat(served(cache, "/f" + i)).isEqualTo(data[i]);
        assertThat(budget.held()).isEqualTo(6);
        cache.clear();
    }

    /**
     * A relief closes at most its batch of idle descriptors, those no read used for the longest first, and none that a
     * read used within its idle time. Fails if it closes every idle one (as before: after a pause, nearly all) or
     * picks them in any other order.
     */
    @Test
    void aReliefClosesAtMostItsBatchOfIdleDescriptorsTheLongestUnusedFirst() throws Exception {
        int files = 6;
        byte[][] data = writeFiles(root, files, i -> SIZE);
        DescriptorBudget budget = roomFor(6);
        budget.reliefMin = 2;
        assertThat(budget.reliefBatch()).isEqualTo(2);
        PathCache cache = unheldCache(NEVER, budget);
        for (int i = 0; i < files; i++) translate(translator, cache, "/f" + i);
        FileEntry[] unheld = new FileEntry[files];
        for (int i = 0; i < files; i++) unheld[i] = readAndKept(cache, "/f" + i, data[i]);
        assertThat(budget.held()).isEqualTo(6);
        // f0 is the most recently used of the idle ones, f3 the longest unused; f4 and f5 were read within the idle time.
        long[] ticksAgo = {5, 20, 9, 40, 1, 0};
        for (int i = 0; i < files; i++) {
            KeptDescriptor k = unheld[i].retainKept();
            k.lastUsedTicksAgo(ticksAgo[i]);
            k.release();
        }
        long aged = DescriptorBudget.nowTick(); // the ages above are counted from here (give or take a tick)

        budget.relieve();
        long until = System.nanoTime() + 5_000_000_000L;
        while (budget.relieved() < 2 && System.nanoTime() < until) Thread.sleep(10);
        assertThat(budget.relieved()).as("one batch").isEqualTo(2);
        assertThat(budget.held()).isEqualTo(4);
        assertThat(openOn(translator.root().resolve("f3"))).as("unused for 40 ticks: closed").isZero();
        assertThat(openOn(translator.root().resolve("f1"))).as("unused for 20 ticks: closed").isZero();
        for (int i : new int[] {0, 2, 4, 5}) assertThat(openOn(translator.root().resolve("f" + i))).as("f" + i).isEqualTo(1);

        assertThat(budget.dropOldestIdle(aged, DescriptorBudget.RELIEF_IDLE_TICKS, 10))
                .as("however large the batch, only the idle ones").isEqualTo(2);
        assertThat(openOnFiles(files)).as("f4 and f5, read within the idle time").isEqualTo(2);
        cache.clear();
        assertThat(openOnFiles(files)).isZero();
    }

    @Test
    void aLargeFilesHandleTakesItsDescriptorFromKeptOnes() throws Exception {
        int files = 6;
        for (int i = 0; i < files; i++) write(root.resolve("f" + i), SIZE, i);
        DescriptorBudget budget = roomFor(6 + 2 * DescriptorBudget.SHED_SLACK);
        PathCache cache = unheldCache(NEVER, budget);
        for (int i = 0; i < files; i++) translate(translator, cache, "/f" + i);
        for (int i = 0; i < files; i++) served(cache, "/f" + i);
        assertThat(budget.held()).isEqualTo(6);
        for (int i = 0; i < 2 * DescriptorBudget.SHED_SLACK; i++) budget.handleOpened();
        assertThat(budget.held()).as("the room is just full: nothing shed").isEqualTo(6);
        budget.handleOpened(); // one more: shed down to leave room for the slack again
        assertThat(budget.held()).isZero();
        for (int i = 0; i <= 2 * DescriptorBudget.SHED_SLACK; i++) budget.handleClosed();
        cache.clear();
    }
}
