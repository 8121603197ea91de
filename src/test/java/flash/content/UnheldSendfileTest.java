package flash.content;

import flash.sys.Native;
import flash.testing.ColdFile;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

import static flash.content.CacheFixture.openOn;
import static flash.content.CacheFixture.target;
import static flash.content.CacheFixture.translate;
import static flash.content.CacheFixture.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * An unheld file asked for by a connection that sends file regions (issue #11, docs/performance.md section 27): its
 * first read keeps the descriptor as a {@link FileHandle}, and later reads send the file from that handle after an
 * fstat and a mincore, with no copy in memory. A small file, a connection without sendfile, a file whose pages are
 * not in memory, and a file changed in place all keep today's behaviour; a handle still being sent from outlives
 * its entry, and every descriptor and mapping is gone once nothing uses it.
 */
class UnheldSendfileTest {
    private static final long NEVER = Long.MAX_VALUE;
    private static final int SIZE = 20_000;

    @TempDir Path dir;
    Path root;
    PathTranslator translator;
    PathCache cache;

    @BeforeEach
    void site() throws Exception {
        assumeTrue(Native.available() && Native.fdAccess(), "needs the native layer");
        root = Files.createDirectories(dir.resolve("www"));
        translator = new PathTranslator(root, false, false, false, 64 * 1024);
        // holds no file's bytes: every small file is read unheld
        cache = cacheOf(1, new DescriptorBudget(DescriptorBudget.RESERVE + 10));
    }

    /** A cache of the site whose byte tier holds {@code maxBytes}, keeping descriptors within {@code budget}. */
    private PathCache cacheOf(long maxBytes, DescriptorBudget budget) {
        return new PathCache(1000, maxBytes, NEVER, NEVER, 100, translator.root(), budget);
    }

    private FileEntry lookup(String path, boolean sendfile) {
        Translation t = cache.lookup(target(path), sendfile);
        return t == null ? null : ((Translation.Found) t).entry();
    }

    /** As {@link #lookup(String, boolean)}, with page refills collected in {@code refills} instead of run. */
    private FileEntry lookup(String path, boolean sendfile, java.util.List<Runnable> refills) {
        Translation t = cache.lookup(target(path), sendfile, refills::add);
        return t == null ? null : ((Translation.Found) t).entry();
    }

    /** The whole file the entry sends: its bytes in memory, or read from its handle. Releases the entry. */
    private static byte[] contentOf(FileEntry e) throws Exception {
        try {
            if (e.inMemory()) return CacheFixture.bytes(e.body());
            ByteBuffer b = ByteBuffer.allocate((int) e.size());
            while (b.hasRemaining() && e.handle().channel().read(b, b.position()) > 0) { }
            return b.array();
        } finally {
            e.release();
        }
    }

    @Test
    void aFileKeptForASendfileConnectionIsSentFromItsHandleWithoutACopy() throws Exception {
        byte[] v = write(root.resolve("f"), SIZE, 1);
        Path real = translator.root().resolve("f");
        translate(translator, cache, "/f");
        int mappings = FileHandle.mappings();

        FileEntry first = lookup("/f", true);
        assertThat(first.inMemory()).as("the first read opens the path and copies, keeping the file").isTrue();
        assertThat(contentOf(first)).isEqualTo(v);
        assertThat(cache.keptDescriptors()).isEqualTo(1);
        assertThat(openOn(real)).as("kept as a handle; the descriptor opened first is closed").isEqualTo(1);

        for (int i = 0; i < 3; i++) {
            FileEntry e = lookup("/f", true);
            assertThat(e.inMemory()).isFalse();
            assertThat(e.handle()).isNotNull();
            assertThat(e.residentChecked()).as("tested by mincore, no second test before the send").isTrue();
            assertThat(e.etag()).as("the unheld entry's validators").isNotNull();
            assertThat(contentOf(e)).isEqualTo(v);
        }
        assertThat(cache.unheldSent.sum()).isEqualTo(3);
        assertThat(cache.unheldHits.sum()).isEqualTo(4);
        assertThat(FileHandle.mappings()).as("one residency mapping, made once").isEqualTo(mappings + 1);

        // A reader without sendfile (TLS, a blocking socket) still gets the bytes, from the same kept descriptor.
        FileEntry copy = lookup("/f", false);
        assertThat(copy.inMemory()).isTrue();
        assertThat(contentOf(copy)).isEqualTo(v);
        assertThat(openOn(real)).isEqualTo(1);

        cache.clear();
        assertThat(openOn(real)).isZero();
        assertThat(FileHandle.mappings()).as("the mapping goes with the handle").isEqualTo(mappings);
    }

    /**
     * The read that offers a file's bytes to the byte tier (its {@link PathCache#OFFER_AFTER_READS}th in a second) is
     * a copy, since the offer needs them in memory; once the second's offers are spent the copy would be refused, so
     * that read is sent from the handle like the others. Fails if it still copies.
     */
    @Test
    void aReadThatCannotBeOfferedIsSentNotCopied() throws Exception {
        int files = 10;
        byte[][] data = new byte[files][];
        for (int i = 0; i < files; i++) data[i] = write(root.resolve("f" + i), SIZE, 10 + i);
        // a byte tier with room for two of the files: the others' translations are kept unheld
        cache = cacheOf(2L * SIZE + SIZE / 2, new DescriptorBudget(DescriptorBudget.RESERVE + files));
        for (int i = 0; i < files; i++) translate(translator, cache, "/f" + i);
        cache.cleanUp();
        int hot = -1;
        for (int i = files - 1; i >= 0 && hot < 0; i--) {
            long before = cache.unheldHits.sum();
            assertThat(contentOf(lookup("/f" + i, true))).isEqualTo(data[i]); // the first read keeps the handle
            if (cache.unheldHits.sum() > before) hot = i;
        }
        assertThat(hot).as("a file whose bytes are not held").isNotNegative();

        cache.offersPerSecond = 0;
        long sent = cache.unheldSent.sum();
        int reads = 3 * PathCache.OFFER_AFTER_READS; // at most one second boundary among them: some second has enough
        for (int k = 0; k < reads; k++) {
            FileEntry e = lookup("/f" + hot, true);
            assertThat(e.inMemory()).as("read %d, with no offer to make", k).isFalse();
            assertThat(contentOf(e)).isEqualTo(data[hot]);
        }
        assertThat(cache.unheldSent.sum() - sent).isEqualTo(reads);
        assertThat(cache.bodiesOffered.sum()).isZero();

        // With offers to make again, the offering read copies (in a later second: this one's count is past it).
        cache.offersPerSecond = PathCache.OFFERS_PER_SECOND;
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (cache.bodiesOffered.sum() == 0 && System.nanoTime() < deadline) {
            assertThat(contentOf(lookup("/f" + hot, true))).isEqualTo(data[hot]);
            Thread.sleep(50);
        }
        assertThat(cache.bodiesOffered.sum()).as("offered once offers are allowed").isPositive();
        cache.clear();
    }

    /**
     * A held file from 8 KiB (below 24 KiB) is sent from its kept descriptor however often it is asked for, by default;
     * with {@link PathCache#hotHeldPerSecond} set, until it has been asked for that many times in a second, then its
     * held bytes, by then in the CPU's cache, are copied. From 24 KiB it is always sent, below 8 KiB always copied.
     * Fails if the count is ignored either way, or the default copies hot files.
     */
    @Test
    void aHeldFileBelow24KiBIsSentUntilItIsAskedForOftenThenCopied() throws Exception {
        byte[] mid = write(root.resolve("mid"), SIZE, 20);             // 8 KiB <= 20,000 bytes < 24 KiB
        byte[] big = write(root.resolve("big"), 40 * 1024, 21);
        byte[] small = write(root.resolve("small"), 4 * 1024, 22);
        cache = cacheOf(1 << 20, new DescriptorBudget(DescriptorBudget.RESERVE + 10));
        for (String f : new String[] {"/mid", "/big", "/small"}) translate(translator, cache, f);
        for (String f : new String[] {"/mid", "/big", "/small"}) {
            FileEntry first = lookup(f, true);
            assertThat(first.inMemory()).as("%s: held, and the first request keeps the descriptor", f).isTrue();
            first.release();
        }

        // The default since residency hints: never hot, so sent however often (docs/performance.md section 37).
        awaitNextSecond();
        for (int k = 0; k < 2500; k++) { // past the old rule's 2,000 a second, within the second that just began
            FileEntry e = lookup("/mid", true);
            assertThat(e.inMemory()).as("sent however often by default, request %d", k).isFalse();
            if (k < 5) assertThat(contentOf(e)).isEqualTo(mid);
            else e.release();
        }
        for (int k = 0; k < 5; k++) {
            FileEntry s = lookup("/small", true);
            assertThat(s.inMemory()).as("below 8 KiB").isTrue();
            assertThat(contentOf(s)).isEqualTo(small);
        }

        cache.hotHeldPerSecond = 3;
        awaitNextSecond();
        for (int k = 0; k < 6; k++) { // a few microseconds each: all in the second that just began
            FileEntry e = lookup("/mid", true);
            assertThat(e.inMemory()).as("request %d of the second: copied once asked for 3 times", k).isEqualTo(k >= 3);
            assertThat(contentOf(e)).isEqualTo(mid);
            FileEntry b = lookup("/big", true);
            assertThat(b.inMemory()).as("24 KiB and up: sent however often").isFalse();
            assertThat(contentOf(b)).isEqualTo(big);
        }
        cache.clear();
    }

    /**
     * A budget with room for two kept descriptors, and {@link #cache} over it (held files never hot), where /one and
     * /two (their bytes {@code one} and {@code two}) were translated and read once each and so fill it; {@code more}
     * paths are translated too.
     */
    private DescriptorBudget fullBudgetOfTwo(byte[] one, byte[] two, String... more) throws Exception {
        DescriptorBudget budget = new DescriptorBudget(DescriptorBudget.RESERVE + 2);
        assumeTrue(budget.room() == 2, "no connections counted against this budget");
        cache = cacheOf(1 << 20, budget);
        cache.hotHeldPerSecond = Integer.MAX_VALUE;
        translate(translator, cache, "/one");
        translate(translator, cache, "/two");
        for (String path : more) translate(translator, cache, path);
        assertThat(contentOf(lookup("/one", true))).isEqualTo(one); // keeps a descriptor: 1 of 2
        assertThat(contentOf(lookup("/two", true))).isEqualTo(two); // 2 of 2: full
        assertThat(budget.held()).as("full").isEqualTo(2);
        return budget;
    }

    /**
     * A held file gives its kept descriptor back when it is asked for while the budget is full: it can copy its held
     * bytes, where an unheld file without a descriptor must open its path on every read. Fails if it keeps it.
     */
    @Test
    void aHeldFileGivesItsDescriptorBackWhenTheBudgetIsFull() throws Exception {
        byte[] one = write(root.resolve("one"), SIZE, 30);
        byte[] two = write(root.resolve("two"), SIZE, 31);
        DescriptorBudget budget = fullBudgetOfTwo(one, two);

        FileEntry first = lookup("/one", true);
        assertThat(first.inMemory()).as("asked for while the budget is full: its held bytes, the descriptor given back")
                .isTrue();
        assertThat(contentOf(first)).isEqualTo(one);
        assertThat(budget.held()).isEqualTo(1);
        FileEntry second = lookup("/two", true);
        assertThat(second.inMemory()).as("no longer full: sent from its kept descriptor").isFalse();
        assertThat(contentOf(second)).isEqualTo(two);
        assertThat(openOn(translator.root().resolve("one"))).isZero();
        cache.clear();
    }

    /**
     * A held file asked for often keeps its kept descriptor when the budget is full (a file asked for rarely gives it
     * back, above). Fails if it gives it back.
     */
    @Test
    void aHeldFileAskedForOftenKeepsItsDescriptorWhenTheBudgetIsFull() throws Exception {
        byte[] one = write(root.resolve("one"), SIZE, 32);
        byte[] two = write(root.resolve("two"), SIZE, 33);
        DescriptorBudget budget = fullBudgetOfTwo(one, two);

        cache.oftenHeldPerSecond = 1; // every ask is often
        FileEntry sent = lookup("/one", true);
        assertThat(sent.inMemory()).as("asked for often: sent from its kept descriptor though the budget is full").isFalse();
        assertThat(contentOf(sent)).isEqualTo(one);
        assertThat(budget.held()).isEqualTo(2);
        cache.clear();
    }

    /**
     * A held file asked for often that finds the budget full and has no descriptor has the budget close its idle
     * ones (on the sweeper's thread), then keeps one and is sent by sendfile. Fails without the relief: the budget
     * stays full of the others, and the file is copied.
     */
    @Test
    void aHeldFileAskedForOftenWithoutRoomHasIdleDescriptorsClosed() throws Exception {
        byte[] one = write(root.resolve("one"), SIZE, 34);
        byte[] two = write(root.resolve("two"), SIZE, 35);
        byte[] three = write(root.resolve("three"), SIZE, 36);
        DescriptorBudget budget = fullBudgetOfTwo(one, two, "/three");
        budget.reliefIdleTicks = 0; // every kept descriptor counts as idle

        cache.oftenHeldPerSecond = 1;
        FileEntry copied = lookup("/three", true);
        assertThat(copied.inMemory()).as("no descriptor and no room: its held bytes").isTrue();
        assertThat(contentOf(copied)).isEqualTo(three);
        long until = System.nanoTime() + 5_000_000_000L;
        while (budget.held() > 0 && System.nanoTime() < until) Thread.sleep(10);
        assertThat(budget.held()).as("the idle descriptors closed").isZero();
        assertThat(lookup("/three", true).inMemory()).as("keeps one now (this read still copies)").isTrue();
        assertThat(budget.held()).isEqualTo(1);
        FileEntry sent = lookup("/three", true);
        assertThat(sent.inMemory()).as("sent from the descriptor it kept").isFalse();
        assertThat(contentOf(sent)).isEqualTo(three);
        cache.clear();
    }

    /**
     * Past three quarters of the room a held file keeps no new descriptor unless it is asked for often; then it takes
     * one while the budget is not full, and a relief (which closes one batch) makes room for it. Fails if an often
     * one is held to three quarters too: the relief, which no longer closes the budget down below them, could then
     * never make room.
     */
    @Test
    void aHeldFileAskedForOftenTakesADescriptorAboveThreeQuartersOfTheRoom() throws Exception {
        byte[][] data = new byte[4][];
        for (int i = 0; i < 4; i++) data[i] = write(root.resolve("f" + i), SIZE, 50 + i);
        DescriptorBudget budget = new DescriptorBudget(DescriptorBudget.RESERVE + 4);
        assumeTrue(budget.room() == 4, "no connections counted against this budget");
        cache = cacheOf(1 << 20, budget);
        cache.hotHeldPerSecond = Integer.MAX_VALUE;
        for (int i = 0; i < 4; i++) translate(translator, cache, "/f" + i);
        for (int i = 0; i < 3; i++) assertThat(contentOf(lookup("/f" + i, true))).isEqualTo(data[i]);
        assertThat(budget.held()).as("three quarters of the room").isEqualTo(3);

        assertThat(contentOf(lookup("/f3", true))).isEqualTo(data[3]);
        assertThat(budget.held()).as("asked for rarely: no descriptor past three quarters").isEqualTo(3);
        cache.oftenHeldPerSecond = 1; // every ask is often
        assertThat(lookup("/f3", true).inMemory()).as("keeps one now (this read still copies)").isTrue();
        assertThat(budget.held()).as("asked for often: up to the whole room").isEqualTo(4);
        FileEntry sent = lookup("/f3", true);
        assertThat(sent.inMemory()).as("sent from the descriptor it kept").isFalse();
        assertThat(contentOf(sent)).isEqualTo(data[3]);
        cache.clear();
        assertThat(budget.held()).isZero();
    }

    /**
     * A held file asked for often in the second before is still often at this second's first asks, so a full budget
     * does not take its descriptor back each time the second turns; once a second passes with few asks it is rare
     * again and gives it back. Fails if the second's first asks count as rare (the file then copied at the first ask
     * of every second, and a relief asked for at its sixteenth), or if "often" never wears off.
     */
    @Test
    void aHeldFileAskedForOftenInTheSecondBeforeKeepsItsDescriptorWhenTheSecondTurns() throws Exception {
        byte[][] data = new byte[3][];
        for (int i = 0; i < 3; i++) data[i] = write(root.resolve("f" + i), SIZE, 60 + i);
        boolean checked = false;
        for (int attempt = 0; attempt < 5 && !checked; attempt++) {
            DescriptorBudget budget = new DescriptorBudget(DescriptorBudget.RESERVE + 3);
            assumeTrue(budget.room() == 3, "no connections counted against this budget");
            cache = cacheOf(1 << 20, budget);
            cache.hotHeldPerSecond = Integer.MAX_VALUE;
            cache.oftenHeldPerSecond = 3;
            try {
                for (int i = 0; i < 3; i++) translate(translator, cache, "/f" + i);
                long second = awaitNextSecond();
                for (int i = 0; i < 3; i++) assertThat(contentOf(lookup("/f0", true))).isEqualTo(data[0]); // often now
                assertThat(contentOf(lookup("/f1", true))).isEqualTo(data[1]);
                assertThat(contentOf(lookup("/f2", true))).isEqualTo(data[2]);
                assertThat(budget.held()).as("full").isEqualTo(3);
                if (currentSecond() != second) continue; // the second turned during the asks: try again
                if (awaitNextSecond() != second + 1) continue;
                FileEntry first = lookup("/f0", true);
                if (currentSecond() != second + 1) continue; // stalled into a later second: try again
                assertThat(first.inMemory()).as("often the second before: keeps its descriptor, sent by sendfile").isFalse();
                assertThat(contentOf(first)).isEqualTo(data[0]);
                assertThat(budget.held()).isEqualTo(3);
                if (awaitNextSecond() != second + 2) continue;
                FileEntry rare = lookup("/f0", true);
                if (currentSecond() != second + 2) continue;
                assertThat(rare.inMemory()).as("asked for once the second before: rare, gives it back").isTrue();
                assertThat(budget.held()).isEqualTo(2);
                checked = true;
            } finally {
                cache.clear();
            }
        }
        assertThat(checked).as("the asks fell into consecutive seconds").isTrue();
    }

    /**
     * A held file whose pages are not in memory is copied from its held bytes, and for the rest of that second it is
     * copied without being tested again; once its pages are back and the second has turned, it is sent by sendfile.
     * Fails if each ask tests again (the hint ignored).
     */
    @Test
    void aHeldFileFoundNotInMemoryIsCopiedForTheRestOfTheSecond() throws Exception {
        byte[] v = write(root.resolve("f"), SIZE, 40);
        Path real = translator.root().resolve("f");
        cache = cacheOf(1 << 20, new DescriptorBudget(DescriptorBudget.RESERVE + 4));
        cache.hotHeldPerSecond = Integer.MAX_VALUE;
        translate(translator, cache, "/f");
        assertThat(contentOf(lookup("/f", true))).isEqualTo(v); // keeps a descriptor
        assertThat(lookup("/f", true).inMemory()).as("resident: sent by sendfile").isFalse();
        boolean checked = false;
        for (int attempt = 0; attempt < 5 && !checked; attempt++) {
            ColdFile.evict(real);
            long second = currentSecond();
            FileEntry copied = lookup("/f", true);
            assertThat(copied.inMemory()).as("not in memory: its held bytes").isTrue();
            assertThat(contentOf(copied)).isEqualTo(v);
            java.nio.file.Files.readAllBytes(real); // the pages are back
            FileEntry again = lookup("/f", true);
            if (currentSecond() != second) continue; // the second turned meanwhile: try again
            assertThat(again.inMemory()).as("the same second: copied without a test").isTrue();
            checked = true;
        }
        assertThat(checked).as("two lookups within one second").isTrue();
        long until = System.nanoTime() + 5_000_000_000L;
        FileEntry sent;
        do {
            sent = lookup("/f", true);
        } while (sent.inMemory() && System.nanoTime() < until && sleep(50));
        assertThat(sent.inMemory()).as("a later second: sent by sendfile again").isFalse();
        assertThat(contentOf(sent)).isEqualTo(v);
        cache.clear();
    }

    /**
     * A held file found not in memory has its pages read back by the executor it was looked up with, once for that
     * second, and is sent by sendfile again once they are back and the second has turned. Nothing else reads the file
     * here: without the refill it stays evicted and copied (fails if {@code PathCache.refill} is not called).
     */
    @Test
    void aHeldFileFoundNotInMemoryHasItsPagesReadBackOnceASecond() throws Exception {
        write(root.resolve("f"), SIZE, 41);
        Path real = translator.root().resolve("f");
        assumeTrue(ColdFile.canTell(real), "needs cachestat");
        cache = cacheOf(1 << 20, new DescriptorBudget(DescriptorBudget.RESERVE + 4));
        cache.hotHeldPerSecond = Integer.MAX_VALUE;
        java.util.List<Runnable> refills = new java.util.ArrayList<>();
        translate(translator, cache, "/f");
        contentOf(lookup("/f", true, refills)); // keeps a descriptor
        FileEntry warm = lookup("/f", true, refills);
        assertThat(warm.inMemory()).as("resident: sent").isFalse();
        warm.release();
        assertThat(refills).as("nothing to read back while resident").isEmpty();
        boolean checked = false;
        for (int attempt = 0; attempt < 5 && !checked; attempt++) {
            awaitNextSecond(); // a miss recorded in a second the last attempt reached would copy without a test
            refills.clear();
            ColdFile.evict(real);
            long second = currentSecond();
            assertThat(contentOf(lookup("/f", true, refills))).hasSize(SIZE);
            contentOf(lookup("/f", true, refills));
            if (currentSecond() != second) continue; // the second turned meanwhile: try again
            assertThat(refills).as("one refill for the second's miss").hasSize(1);
            checked = true;
        }
        assertThat(checked).as("two lookups within one second").isTrue();
        assertThat(ColdFile.wholeInMemory(real)).as("still evicted: the lookups copied the held bytes").isFalse();
        awaitNextSecond();
        contentOf(lookup("/f", true, refills)); // a new second's miss, while the first refill waits
        assertThat(refills).as("one refill at a time per file").hasSize(1);
        refills.getFirst().run();
        assertThat(cache.heldRefills.sum()).as("started").isEqualTo(1);
        long until = System.nanoTime() + 10_000_000_000L;
        while (!ColdFile.wholeInMemory(real) && System.nanoTime() < until) Thread.sleep(10);
        assertThat(ColdFile.wholeInMemory(real)).as("read back by the refill").isTrue();
        awaitNextSecond();
        FileEntry sent = lookup("/f", true, refills);
        assertThat(sent.inMemory()).as("a later second: sent by sendfile").isFalse();
        sent.release();
        awaitNextSecond();
        ColdFile.evict(real);
        contentOf(lookup("/f", true, refills));
        assertThat(refills).as("the refill done, a later miss has another").hasSize(2);
        cache.clear();
    }

    /**
     * A held file {@code /f} (written with {@code seed}), sent from its kept descriptor, then evicted and asked for
     * again: the refills its miss queued (one), not yet run.
     */
    private java.util.List<Runnable> heldFileEvictedWithARefill(long seed) throws Exception {
        write(root.resolve("f"), SIZE, seed);
        cache = cacheOf(1 << 20, new DescriptorBudget(DescriptorBudget.RESERVE + 4));
        java.util.List<Runnable> refills = new java.util.ArrayList<>();
        translate(translator, cache, "/f");
        contentOf(lookup("/f", true, refills));
        lookup("/f", true, refills).release();
        for (int attempt = 0; attempt < 5 && refills.isEmpty(); attempt++) {
            awaitNextSecond();
            ColdFile.evict(translator.root().resolve("f"));
            contentOf(lookup("/f", true, refills));
        }
        assertThat(refills).hasSize(1);
        return refills;
    }

    /** A refill made for a file replaced since starts no readahead: it reads back only the file it was made for. */
    @Test
    void aRefillForAFileReplacedSinceReadsNothing() throws Exception {
        java.util.List<Runnable> refills = heldFileEvictedWithARefill(42);
        Path other = root.resolve("g");
        write(other, SIZE, 43);
        Files.move(other, root.resolve("f"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        refills.getFirst().run();
        assertThat(cache.heldRefills.sum()).as("another file at the path: no readahead started").isZero();
        cache.clear();
    }

    /** The refill may wait for the disk: it is forbidden where blocking is (an AMPED loop), so it never runs there. */
    @Test
    void aRefillIsBlockingWork() throws Exception {
        assumeTrue(flash.sys.DiskGuard.enabled(), "needs -Dflash.invariants=true");
        java.util.List<Runnable> refills = heldFileEvictedWithARefill(44);
        Throwable[] thrown = new Throwable[1];
        Thread loop = new Thread(() -> {
            flash.sys.DiskGuard.forbidBlockingOnThisThread();
            try {
                refills.getFirst().run();
            } catch (Throwable t) {
                thrown[0] = t;
            }
        });
        loop.start();
        loop.join();
        assertThat(thrown[0]).isInstanceOf(flash.sys.DiskGuard.BlockingOnLoopError.class);
        cache.clear();
    }

    /**
     * A held file of a watched entry is sent from its kept descriptor with no fstat, as an unheld one is: rewritten in
     * place to the same length through a name nobody watches, it goes out as it now is (fails if the fstat stays). An
     * entry that is not watched is checked by fstat, and the same rewrite is served from the held bytes, which match
     * their validators. A rewrite through the watched name drops the entry.
     */
    @Test
    void aWatchedHeldFileIsSentWithoutAnFstatAnUnwatchedOneIsChecked() throws Exception {
        write(root.resolve("f"), SIZE, 45);
        Path other = CacheFixture.unwatchedSecondName(dir, root.resolve("f"));
        try (FileWatch w = FileWatch.start(16)) {
            assumeTrue(w.available(), "no inotify instance to be had here");
            for (boolean watched : new boolean[] {true, false}) {
                byte[] before = write(other, SIZE, watched ? 46 : 47);
                cache = cacheOf(1 << 20, new DescriptorBudget(DescriptorBudget.RESERVE + 4));
                if (watched) assertThat(CacheFixture.translate(translator, cache, w, "/f").complete()).isTrue();
                else translate(translator, cache, "/f");
                assertThat(contentOf(lookup("/f", true))).isEqualTo(before); // keeps a descriptor
                FileEntry sent = lookup("/f", true);
                assertThat(sent.inMemory()).as("sent from the kept descriptor").isFalse();
                sent.release();

                byte[] rewritten = write(other, SIZE, watched ? 48 : 49); // in place: the same inode, the same length
                Files.setLastModifiedTime(other, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - 10_000));
                FileEntry after = lookup("/f", true);
                if (watched) {
                    assertThat(after.inMemory()).as("watched: no fstat, sent as it now is").isFalse();
                    assertThat(contentOf(after)).isEqualTo(rewritten);
                } else {
                    assertThat(after.inMemory()).as("not watched: the fstat finds the change").isTrue();
                    assertThat(contentOf(after)).isEqualTo(before);
                }
                cache.clear();
            }
            cache = cacheOf(1 << 20, new DescriptorBudget(DescriptorBudget.RESERVE + 4));
            assertThat(CacheFixture.translate(translator, cache, w, "/f").complete()).isTrue();
            contentOf(lookup("/f", true));
            write(root.resolve("f"), SIZE, 50); // through the watched name: the watch drops the entry
            long end = System.nanoTime() + 10_000_000_000L;
            FileEntry e;
            while ((e = lookup("/f", true)) != null && System.nanoTime() < end) {
                e.release();
                Thread.sleep(5);
            }
            assertThat(e).isNull();
            cache.clear();
        }
        assertThat(openOn(translator.root().resolve("f"))).isZero();
    }

    /** The second of the clock the cache counts by (System.nanoTime). */
    private static long currentSecond() { return System.nanoTime() / 1_000_000_000L; }

    /** Returns once a new second of that clock has begun: that second. */
    private static long awaitNextSecond() throws InterruptedException {
        long second = currentSecond();
        while (currentSecond() == second) Thread.sleep(1);
        return currentSecond();
    }

    private static boolean sleep(long millis) throws InterruptedException {
        Thread.sleep(millis);
        return true;
    }

    @Test
    void aHandleBeingSentFromOutlivesItsEntryAndTheCache() throws Exception {
        byte[] v = write(root.resolve("f"), SIZE, 2);
        Path real = translator.root().resolve("f");
        translate(translator, cache, "/f");
        contentOf(lookup("/f", true));
        FileEntry sending = lookup("/f", true);
        assertThat(sending.inMemory()).isFalse();
        cache.clear(); // the entry, and its kept descriptor, dropped while a response still sends from the handle
        assertThat(openOn(real)).as("still open for the response").isEqualTo(1);
        assertThat(sending.handle().isOpen()).isTrue();
        assertThat(contentOf(sending)).isEqualTo(v); // releases the response's reference
        assertThat(openOn(real)).isZero();
    }

    @Test
    void smallFilesAndConnectionsWithoutSendfileAreCopiedAsBefore() throws Exception {
        byte[] small = write(root.resolve("small"), (int) Math.min(UnheldRead.SENDFILE_MIN - 1, 4000), 3);
        byte[] big = write(root.resolve("big"), SIZE, 4);
        translate(translator, cache, "/small");
        translate(translator, cache, "/big");
        for (int i = 0; i < 3; i++) {
            FileEntry s = lookup("/small", true);
            assertThat(s.inMemory()).as("below the sendfile bound: one gathering write wins").isTrue();
            assertThat(contentOf(s)).isEqualTo(small);
            FileEntry b = lookup("/big", false);
            assertThat(b.inMemory()).isTrue();
            assertThat(contentOf(b)).isEqualTo(big);
        }
        // /big was kept as a plain descriptor (no sendfile connection asked): a sendfile connection now copies too
        FileEntry b = lookup("/big", true);
        assertThat(b.inMemory()).isTrue();
        assertThat(contentOf(b)).isEqualTo(big);
        assertThat(cache.unheldSent.sum()).isZero();
    }

    @Test
    void aKeptFileWhosePagesLeftMemoryIsAFallbackAndIsReadWhereBlockingIsAllowed() throws Exception {
        byte[] v = write(root.resolve("f"), SIZE, 5);
        translate(translator, cache, "/f");
        contentOf(lookup("/f", true));
        FileEntry warm = lookup("/f", true);
        assertThat(warm.inMemory()).isFalse();
        contentOf(warm);

        ColdFile.evict(translator.root().resolve("f"));
        long fallbacks = cache.unheldFallbacks.sum();
        assertThat(lookup("/f", true)).as("a loop would wait for the disk: not sent from the handle").isNull();
        assertThat(cache.unheldFallbacks.sum()).isEqualTo(fallbacks + 1);
        Translation read = cache.readWaiting(target("/f"), true); // a helper's read
        assertThat(read).isNotNull();
        assertThat(contentOf(((Translation.Found) read).entry())).isEqualTo(v);
        FileEntry again = lookup("/f", true);
        assertThat(again.inMemory()).as("resident again: sent from the handle").isFalse();
        assertThat(contentOf(again)).isEqualTo(v);
    }

    /**
     * A helper's read of an evicted unheld file, for a connection that sends file regions, waits for the pages without
     * copying them and answers an entry that sends the file from a handle, marked as tested (section 53): the pages are
     * in memory when it returns. Three ways in: the descriptor a loop's failed read kept; one the helper opens, kept
     * when the budget has room; and with a full budget a handle of the request's own, closed with its response.
     * Without sendfile the read still copies.
     */
    @Test
    void aHelpersReadOfAnEvictedFileWaitsForItsPagesAndSendsItFromAHandle() throws Exception {
        byte[] v = write(root.resolve("f"), SIZE, 21);
        Path real = translator.root().resolve("f");
        assumeTrue(ColdFile.canTell(real), "needs cachestat");
        record Way(String name, int room, boolean loopFirst) { }
        for (Way way : java.util.List.of(new Way("kept by the loop's read", 10, true),
                new Way("opened and kept by the helper", 10, false), new Way("full budget", 0, false))) {
            DescriptorBudget budget = new DescriptorBudget(DescriptorBudget.RESERVE + way.room());
            cache = cacheOf(1, budget);
            translate(translator, cache, "/f");
            ColdFile.evict(real);
            if (way.loopFirst()) assertThat(lookup("/f", true)).as("%s: a loop would wait for the disk", way).isNull();
            assertThat(budget.held()).as("%s: descriptors kept before the helper's read", way).isEqualTo(way.loopFirst() ? 1 : 0);
            long sent = cache.unheldWaitedSent.sum();
            FileEntry read = ((Translation.Found) cache.readWaiting(target("/f"), true)).entry();
            assertThat(ColdFile.wholeInMemory(real)).as("%s: the pages are in memory", way).isTrue();
            assertThat(read.inMemory()).as("%s: not copied", way).isFalse();
            assertThat(read.residentChecked()).as("%s: the helper's wait is the region's test", way).isTrue();
            FileHandle h = read.handle();
            assertThat(contentOf(read)).as("%s", way).isEqualTo(v); // releases the entry
            assertThat(h.isOpen()).as("%s: the handle after the response", way).isEqualTo(way.room() > 0);
            assertThat(budget.held()).as("%s: descriptors kept after it", way).isEqualTo(way.room() > 0 ? 1 : 0);
            assertThat(cache.unheldWaitedSent.sum()).isEqualTo(sent + 1);

            ColdFile.evict(real);
            FileEntry copied = ((Translation.Found) cache.readWaiting(target("/f"), false)).entry();
            assertThat(copied.inMemory()).as("%s: without sendfile, copied", way).isTrue();
            assertThat(contentOf(copied)).isEqualTo(v);
            assertThat(cache.unheldWaitedSent.sum()).isEqualTo(sent + 1);
            cache.clear();
        }
    }

    @Test
    void pastItsBoundAnEntryChecksItsPathAndIsStillSentFromItsKeptHandle() throws Exception {
        byte[] v = write(root.resolve("f"), SIZE, 9);
        Path real = translator.root().resolve("f");
        long bound = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(1);
        cache = new PathCache(1000, 1, bound, bound, 100, translator.root(), new DescriptorBudget(DescriptorBudget.RESERVE + 10));
        translate(translator, cache, "/f");
        int mappings = FileHandle.mappings();
        Thread.sleep(5);
        assertThat(contentOf(lookup("/f", true))).as("opens the path, keeps it").isEqualTo(v);
        long rechecks = cache.recheckedInPlace.sum(), sent = cache.unheldSent.sum();
        for (int i = 0; i < 3; i++) {
            Thread.sleep(5); // past the bound again: the path is opened and checked, then closed
            FileEntry e = lookup("/f", true);
            assertThat(e.inMemory()).as("sent from the kept handle, not copied from the descriptor just opened").isFalse();
            assertThat(contentOf(e)).isEqualTo(v);
        }
        assertThat(cache.recheckedInPlace.sum()).isEqualTo(rechecks + 3);
        assertThat(cache.unheldSent.sum()).isEqualTo(sent + 3);
        assertThat(FileHandle.mappings()).as("the kept handle's one mapping, made once").isEqualTo(mappings + 1);
        assertThat(openOn(real)).as("only the kept descriptor").isEqualTo(1);

        Path next = root.resolve("f.new");
        write(next, SIZE, 10);
        Files.move(next, root.resolve("f"), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        Thread.sleep(5);
        assertThat(lookup("/f", true)).as("renamed over: the path names another file, the kept one is not sent").isNull();

        // Changed in place, same length: the path's fstat sees the new modification time.
        write(root.resolve("g"), SIZE, 11);
        translate(translator, cache, "/g");
        Thread.sleep(5);
        contentOf(lookup("/g", true));
        write(root.resolve("g"), SIZE, 12);
        Thread.sleep(5);
        assertThat(lookup("/g", true)).as("changed in place past the bound").isNull();

        // A directory on the path swapped for a symlink: the kept file itself is unchanged, only the path's open
        // (RESOLVE_NO_SYMLINKS) finds it, so a check of the kept descriptor alone would send it.
        Path sub = Files.createDirectories(root.resolve("d"));
        byte[] h = write(sub.resolve("h"), SIZE, 13);
        translate(translator, cache, "/d/h");
        Thread.sleep(5);
        assertThat(contentOf(lookup("/d/h", true))).isEqualTo(h);
        Path moved = dir.resolve("elsewhere");
        Files.move(sub, moved);
        Files.createSymbolicLink(root.resolve("d"), moved);
        Thread.sleep(5);
        assertThat(lookup("/d/h", true)).as("a symlink on the path past the bound").isNull();

        cache.clear();
        assertThat(openOn(real)).isZero();
        assertThat(openOn(moved.toRealPath().resolve("h"))).isZero();
    }

    @Test
    void aKeptFileChangedInPlaceIsAMissNotSentFromTheHandle() throws Exception {
        write(root.resolve("f"), SIZE, 6);
        translate(translator, cache, "/f");
        contentOf(lookup("/f", true));
        contentOf(lookup("/f", true));
        write(root.resolve("f"), SIZE + 100, 7);
        assertThat(lookup("/f", true)).as("the fstat of the kept handle sees the change").isNull();
        byte[] w = write(root.resolve("f"), SIZE, 8);
        assertThat(lookup("/f", true)).isNull();
        translate(translator, cache, "/f");
        contentOf(lookup("/f", true));
        assertThat(contentOf(lookup("/f", true))).isEqualTo(w);
    }

    @Test
    void aHeldFileFromTheBoundUpIsSentFromAKeptHandleAndASmallerOneFromItsBytes() throws Exception {
        // A cache that holds every file's bytes.
        PathCache holding = cacheOf(1 << 20, new DescriptorBudget(DescriptorBudget.RESERVE + 10));
        int big = (int) Math.min(Math.max(UnheldRead.HELD_SENDFILE_MIN, SIZE), 1 << 20);
        int small = (int) Math.min(Math.min(UnheldRead.HELD_SENDFILE_MIN, UnheldRead.HELD_SENDFILE_COLD_MIN) - 1, 6_000);
        byte[] b = write(root.resolve("big"), big, 9);
        byte[] s = write(root.resolve("small"), small, 10);
        Path real = translator.root().resolve("big");
        // An old mtime, so that the rewrite below is a change even where timestamps are coarse.
        Files.setLastModifiedTime(real, java.nio.file.attribute.FileTime.fromMillis(1_000_000_000_000L));
        translate(translator, holding, "/big");
        translate(translator, holding, "/small");

        FileEntry first = ((Translation.Found) holding.lookup(target("/big"), true)).entry();
        assertThat(first.inMemory()).as("the held bytes, while the descriptor is kept for next time").isTrue();
        assertThat(contentOf(first)).isEqualTo(b);
        assertThat(openOn(real)).as("kept as a handle").isEqualTo(1);
        for (int i = 0; i < 3; i++) {
            FileEntry e = ((Translation.Found) holding.lookup(target("/big"), true)).entry();
            assertThat(e.inMemory()).as("sent by sendfile from the kept handle").isFalse();
            assertThat(e.residentChecked()).isTrue();
            assertThat(contentOf(e)).isEqualTo(b);
        }
        assertThat(holding.heldSent.sum()).isEqualTo(3);
        FileEntry plain = ((Translation.Found) holding.lookup(target("/big"), false)).entry();
        assertThat(plain.inMemory()).as("a connection without sendfile gets the held bytes").isTrue();
        assertThat(contentOf(plain)).isEqualTo(b);
        for (int i = 0; i < 3; i++) {
            FileEntry e = ((Translation.Found) holding.lookup(target("/small"), true)).entry();
            assertThat(e.inMemory()).as("below the bound: head and body in one write").isTrue();
            assertThat(contentOf(e)).isEqualTo(s);
        }
        assertThat(openOn(translator.root().resolve("small"))).isZero();
        assertThat(holding.heldSent.sum()).isEqualTo(3);

        write(root.resolve("big"), big, 11); // changed in place, same length: the fstat of the kept handle sees it
        FileEntry stale = ((Translation.Found) holding.lookup(target("/big"), true)).entry();
        assertThat(stale.inMemory()).as("the held bytes until the bound, as without sendfile").isTrue();
        assertThat(contentOf(stale)).isEqualTo(b);
        holding.clear();
        assertThat(openOn(real)).isZero();
    }
}
