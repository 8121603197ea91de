package flash.content;

import flash.http.RequestTarget;
import flash.sys.Native;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import static flash.content.CacheFixture.bytes;
import static flash.content.CacheFixture.bytesOf;
import static flash.content.CacheFixture.served;
import static flash.content.CacheFixture.target;
import static flash.content.CacheFixture.translate;
import static flash.content.CacheFixture.write;
import static flash.content.CacheFixture.writeFiles;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Unheld entries (issue #11): a small file whose bytes the path cache's byte budget cannot hold keeps its translation
 * and is read without blocking at lookup; a lookup that cannot be answered so, or finds another file, is a miss. The
 * revalidation bound is "never" here, so whatever is seen fresh is seen by the unheld read itself: by its open of the
 * path on a first read, and by the fstat of the descriptor it keeps on later ones (KeptDescriptorTest).
 */
class UnheldEntryTest {
    private static final long NEVER = Long.MAX_VALUE;
    private static final int SIZE = 20_000;

    @TempDir Path dir;
    Path root;
    Path outside;
    PathTranslator translator;

    @BeforeEach
    void site() throws Exception {
        assumeTrue(Native.available() && Native.fdAccess(), "needs the native layer");
        root = Files.createDirectories(dir.resolve("www"));
        outside = Files.createDirectories(dir.resolve("secret"));
        translator = new PathTranslator(root, false, false, false, 64 * 1024);
    }

    /** A cache whose byte budget holds two of the files: the others' translations are kept without their bytes. */
    private PathCache smallCache() { return new PathCache(1000, 2L * SIZE + SIZE / 2, NEVER); }

    @Test
    void filesPastTheByteBudgetAreCachedUnheldAndServedWithTheirBytes() throws Exception {
        int files = 20;
        byte[][] data = writeFiles(root, files, i -> SIZE - i);
        PathCache cache = smallCache();
        for (int i = 0; i < files; i++) translate(translator, cache, "/f" + i);
        cache.cleanUp();
        // the budget (2.5 files) holds at most two files' bytes; every translation is kept, most without theirs
        assertThat(cache.bytesHeld()).isLessThanOrEqualTo(2L * SIZE);
        assertThat(cache.unheldEntries()).isGreaterThanOrEqualTo(files - 2);
        assertThat(cache.size()).isEqualTo(files); // no translation was dropped with its bytes
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < files; i++) assertThat(served(cache, "/f" + i)).as("f%d", i).isEqualTo(data[i]);
        }
        assertThat(cache.unheldHits.sum()).isEqualTo(3L * cache.unheldEntries());
        assertThat(cache.unheldFallbacks.sum()).isZero();
        assertThat(cache.misses.sum()).as("lookups that would have gone to a helper").isZero();
        assertThat(cache.hits.sum()).isEqualTo(3L * files);
        cache.clear();
    }

    @Test
    void aChangedRenamedOverDeletedOrSymlinkedFileIsAMissNotStaleBytes() throws Exception {
        PathCache cache = new PathCache(1000, 1, NEVER); // holds no bytes: every small file is read unheld
        byte[] v1 = write(root.resolve("a"), SIZE, 1);
        write(root.resolve("b"), SIZE, 2);
        write(root.resolve("c"), SIZE, 3);
        write(root.resolve("d"), SIZE, 4);
        byte[] secret = write(outside.resolve("secret"), SIZE, 5);
        for (String n : new String[] {"a", "b", "c", "d"}) translate(translator, cache, "/" + n);
        assertThat(cache.unheldEntries()).isGreaterThanOrEqualTo(4);
        assertThat(served(cache, "/a")).isEqualTo(v1);

        // changed in place, same size: the identity (mtime, ctime) differs
        byte[] v2 = write(root.resolve("a"), SIZE, 11);
        assertThat(served(cache, "/a")).isNull();
        translate(translator, cache, "/a");
        assertThat(served(cache, "/a")).isEqualTo(v2);

        // another file renamed over it: another inode
        write(root.resolve("b.tmp"), SIZE, 12);
        Files.move(root.resolve("b.tmp"), root.resolve("b"), StandardCopyOption.ATOMIC_MOVE);
        assertThat(served(cache, "/b")).isNull();

        // deleted
        Files.delete(root.resolve("c"));
        assertThat(served(cache, "/c")).isNull();
        assertThat(translator.translate(target("/c"))).isInstanceOf(Translation.NotFound.class);

        // replaced by a symlink to a file outside the root: never opened through the link
        Files.delete(root.resolve("d"));
        Files.createSymbolicLink(root.resolve("d"), outside.resolve("secret"));
        assertThat(served(cache, "/d")).isNull();
        translate(translator, cache, "/d");
        assertThat(cache.lookup(target("/d"))).isInstanceOf(Translation.NotFound.class);
        assertThat(secret).isNotEmpty();

        assertThat(cache.unheldFallbacks.sum()).isEqualTo(4);
        cache.clear();
    }

    /** The read that would wait for the disk is not made on the lookup's thread: the page-cache miss is a miss. */
    @Test
    void aFileWhosePagesLeftThePageCacheIsAMissUntilTranslatedAgain() throws Exception {
        PathCache cache = new PathCache(1000, 1, NEVER); // holds no bytes
        byte[] v = write(root.resolve("f"), SIZE, 1);
        translate(translator, cache, "/f");
        assertThat(served(cache, "/f")).isEqualTo(v);
        flash.testing.ColdFile.evict(root.resolve("f"));
        int epoch = ResidencyHint.epoch();
        assertThat(served(cache, "/f")).as("preadv2 RWF_NOWAIT of a cold page").isNull();
        assertThat(cache.unheldFallbacks.sum()).isEqualTo(1);
        assertThat(ResidencyHint.epoch()).as("the failed read withdrew every residency hint").isNotEqualTo(epoch);
        translate(translator, cache, "/f"); // where blocking is allowed: reads the file back into the page cache
        assertThat(served(cache, "/f")).isEqualTo(v);
        cache.clear();
    }

    /**
     * The bytes held are not only those offered when translations were made: a file read unheld often (four times
     * within a second) has its bytes offered again, and the policy admits them against bytes nobody asks for. Once
     * held, its lookups are plain hits, not reads.
     */
    @Test
    void aFileReadUnheldOftenHasItsBytesOfferedAndThenHeld() throws Exception {
        int files = 10;
        byte[][] data = writeFiles(root, files, i -> SIZE);
        PathCache cache = smallCache();
        for (int i = 0; i < files; i++) translate(translator, cache, "/f" + i);
        cache.cleanUp();
        String hot = null;
        for (int i = files - 1; i >= 0 && hot == null; i--) {
            long before = cache.unheldHits.sum();
            served(cache, "/f" + i);
            if (cache.unheldHits.sum() > before) hot = "/f" + i;
        }
        assertThat(hot).as("a file whose bytes are not held").isNotNull();
        byte[] expected = data[Integer.parseInt(hot.substring(2))];
        long deadline = System.nanoTime() + 10_000_000_000L;
        boolean held = false;
        while (!held && System.nanoTime() < deadline) {
            for (int k = 0; k < 2 * PathCache.OFFER_AFTER_READS; k++) assertThat(served(cache, hot)).isEqualTo(expected);
            cache.cleanUp();
            long before = cache.unheldHits.sum();
            assertThat(served(cache, hot)).isEqualTo(expected);
            held = cache.unheldHits.sum() == before;
        }
        assertThat(cache.bodiesOffered.sum()).isPositive();
        assertThat(held).as("held after its offers").isTrue();
        // Bodies evicted from under translations that stay (unheld), and one held again: each translation points at
        // exactly the bytes held for it (a lookup reads them there), or at none.
        cache.cleanUp();
        for (int i = 0; i < files; i++) assertThat(cache.heldExact("/f" + i)).as("/f%d", i).isTrue();
        assertThat(cache.bytesHeld()).isLessThanOrEqualTo(2L * SIZE + SIZE / 2);
        cache.clear();
        assertThat(cache.bytesHeld()).isZero();
    }

    /** A file read unheld less often than that is never copied: uniformly random access offers nothing. */
    @Test
    void aFileReadUnheldRarelyIsNotOffered() throws Exception {
        int files = 10;
        byte[][] data = writeFiles(root, files, i -> SIZE);
        PathCache cache = smallCache(); // two files' bytes fit: the others could be offered
        for (int i = 0; i < files; i++) translate(translator, cache, "/f" + i);
        cache.cleanUp();
        for (int i = 0; i < files; i++) {
            for (int k = 0; k < PathCache.OFFER_AFTER_READS - 1; k++) assertThat(served(cache, "/f" + i)).isEqualTo(data[i]);
        }
        assertThat(cache.unheldHits.sum()).as("files read unheld").isGreaterThanOrEqualTo(PathCache.OFFER_AFTER_READS - 1);
        assertThat(cache.bodiesOffered.sum()).isZero();
        cache.clear();
    }

    /** The waited read's bytes, or null; releases what it got. */
    private static byte[] readWaiting(PathCache cache, String path) {
        return bytesOf(cache.readWaiting(target(path)));
    }

    /**
     * Where blocking is allowed, an unheld entry whose pages left the page cache is read from the descriptor the
     * failed lookup kept, without a new translation: the cache keeps the same entry, and the next lookup reads the
     * pages that read brought back.
     */
    @Test
    void aFileWhosePagesLeftThePageCacheIsReadWhereBlockingIsAllowedWithoutANewTranslation() throws Exception {
        PathCache cache = new PathCache(1000, 1, NEVER); // holds no bytes
        byte[] v = write(root.resolve("f"), SIZE, 1);
        translate(translator, cache, "/f");
        assertThat(cache.keptDescriptors()).as("a translation keeps no descriptor").isZero();
        flash.testing.ColdFile.evict(root.resolve("f"));
        assertThat(served(cache, "/f")).isNull();
        assertThat(cache.keptDescriptors()).as("the failed lookup found the file and kept it open").isEqualTo(1);
        flash.testing.ColdFile.evict(root.resolve("f")); // the lookup's preadv2 may have started readahead
        assertThat(readWaiting(cache, "/f")).isEqualTo(v);
        assertThat(cache.unheldWaited.sum()).isEqualTo(1);
        assertThat(cache.size()).isEqualTo(1);
        assertThat(served(cache, "/f")).as("the waited read brought the pages back").isEqualTo(v);
        assertThat(cache.unheldFallbacks.sum()).isEqualTo(1);
        cache.clear();
        assertThat(cache.keptDescriptors()).isZero();
    }

    /** A file changed, renamed over or deleted is not read by the waited read either: the caller translates. */
    @Test
    void aWaitedReadOfAFileThatIsNoLongerTheOneCachedIsNull() throws Exception {
        PathCache cache = new PathCache(1000, 1, NEVER);
        write(root.resolve("a"), SIZE, 1);
        write(root.resolve("b"), SIZE, 2);
        write(root.resolve("c"), SIZE, 3);
        for (String n : new String[] {"a", "b", "c"}) {
            translate(translator, cache, "/" + n);
            assertThat(served(cache, "/" + n)).isNotNull(); // each keeps its descriptor
        }
        write(root.resolve("a"), SIZE, 11); // in place, same size
        write(root.resolve("b.tmp"), SIZE, 12);
        Files.move(root.resolve("b.tmp"), root.resolve("b"), StandardCopyOption.ATOMIC_MOVE);
        Files.delete(root.resolve("c"));
        for (String n : new String[] {"a", "b", "c"}) {
            flash.testing.ColdFile.evictIfPresent(root.resolve(n));
            assertThat(readWaiting(cache, "/" + n)).as(n).isNull();
        }
        assertThat(readWaiting(cache, "/none")).as("no entry").isNull();
        assertThat(cache.unheldWaited.sum()).isZero();
        cache.clear();
    }

    /**
     * Past its bound (0 here), the waited read opens the real path again, and a directory on it swapped for a symlink
     * out of the root fails that open: null, so the caller translates (and finds the link goes out of the root).
     */
    @Test
    void aWaitedReadPastTheBoundReopensThePathAndADirectorySwappedForASymlinkFailsIt() throws Exception {
        Path sub = Files.createDirectories(root.resolve("sub"));
        PathCache cache = new PathCache(1000, 1, 0, 0, 100, translator.root()); // holds nothing; every lookup is due
        byte[] v = write(sub.resolve("f"), SIZE, 1);
        write(outside.resolve("f"), SIZE, 2);
        translate(translator, cache, "/sub/f");
        flash.testing.ColdFile.evict(sub.resolve("f"));
        assertThat(readWaiting(cache, "/sub/f")).as("the path still names the file").isEqualTo(v);
        assertThat(cache.recheckedInPlace.sum()).isEqualTo(1);
        Files.move(sub, root.resolve("sub.old"));
        Files.createSymbolicLink(sub, outside);
        flash.testing.ColdFile.evict(outside.resolve("f"));
        assertThat(readWaiting(cache, "/sub/f")).as("never through the link").isNull();
        assertThat(cache.unheldWaited.sum()).isEqualTo(1);
        cache.clear();
    }

    /** Bytes held since the loop's lookup missed (offered meanwhile) are served by the waited read as they are. */
    @Test
    void aWaitedReadServesBytesHeldSinceTheLookup() throws Exception {
        PathCache cache = new PathCache(1000, 1 << 20, NEVER); // room for the bytes
        byte[] v = write(root.resolve("f"), SIZE, 1);
        translate(translator, cache, "/f");
        cache.cleanUp();
        Translation t = cache.readWaiting(target("/f"));
        assertThat(t).isInstanceOf(Translation.Found.class);
        assertThat(bytes(((Translation.Found) t).entry().body())).isEqualTo(v);
        assertThat(cache.unheldWaited.sum()).as("no read: the held bytes").isZero();
        cache.clear();
    }

    /** The waited read may block, so the invariant check fails it on a loop's thread. */
    @Test
    void theWaitedReadIsForbiddenOnALoop() throws Exception {
        assumeTrue(flash.sys.DiskGuard.enabled(), "run with -Dflash.invariants=true");
        PathCache cache = new PathCache(1000, 1, NEVER);
        write(root.resolve("f"), SIZE, 1);
        translate(translator, cache, "/f");
        Throwable[] thrown = new Throwable[1];
        Thread t = Thread.ofPlatform().start(() -> {
            flash.sys.DiskGuard.forbidBlockingOnThisThread();
            try {
                readWaiting(cache, "/f");
            } catch (Throwable e) {
                thrown[0] = e;
            }
        });
        t.join();
        assertThat(thrown[0]).isInstanceOf(flash.sys.DiskGuard.BlockingOnLoopError.class);
        cache.clear();
    }

    /**
     * Past its bound (0 here, the root known: every lookup is), an unheld read opens the path again, and a directory
     * on it swapped for a symlink fails that open; within the bound it reads the descriptor it kept, the file it was
     * translated from, as a held body would be served (KeptDescriptorTest).
     */
    @Test
    void aDirectoryOnThePathSwappedForASymlinkIsAMissPastTheBound() throws Exception {
        Path sub = Files.createDirectories(root.resolve("sub"));
        PathCache cache = new PathCache(1000, 1, 0, 0, 100, translator.root()); // holds nothing: every small file is unheld
        byte[] v = write(sub.resolve("f"), SIZE, 1);
        write(outside.resolve("f"), SIZE, 2);
        translate(translator, cache, "/sub/f");
        assertThat(cache.unheldEntries()).isEqualTo(1);
        assertThat(served(cache, "/sub/f")).isEqualTo(v);
        assertThat(cache.keptDescriptors()).isEqualTo(1);
        Files.move(sub, root.resolve("sub.old"));
        Files.createSymbolicLink(sub, outside);
        assertThat(served(cache, "/sub/f")).isNull();
        cache.clear();
        assertThat(cache.keptDescriptors()).isZero();
    }

    /**
     * A request's pooled body has room in front of it for the head of its one response (section 28 of
     * docs/performance.md): direct memory that lives as long as the loan, lent once, never overlapping the body.
     */
    @Test
    void aPooledBodyLendsRoomForOneHeadInFrontOfItsBytes() throws Exception {
        PathCache cache = new PathCache(1000, 1, NEVER);
        byte[] v = write(root.resolve("f"), SIZE, 1);
        translate(translator, cache, "/f");
        FileEntry e = ((Translation.Found) cache.lookup(target("/f"))).entry();
        ByteBuffer room = e.pooledHeadSpace(300);
        assertThat(room).isNotNull();
        assertThat(room.isDirect()).isTrue();
        assertThat(room.remaining()).isEqualTo(300);
        while (room.hasRemaining()) room.put((byte) 'x');
        assertThat(bytes(e.body())).as("the body is untouched").isEqualTo(v);
        assertThat(e.pooledHeadSpace(10)).as("one head per loan").isNull();
        assertThat(e.representation("text/plain", null, false).pooledHeadSpace(10)).as("borrowed").isNull();
        e.release();
        FileEntry again = ((Translation.Found) cache.lookup(target("/f"))).entry();
        assertThat(again.pooledHeadSpace(PooledBody.HEADROOM + 1)).as("longer than the room").isNull();
        assertThat(again.pooledHeadSpace(PooledBody.HEADROOM)).isNotNull();
        assertThat(bytes(again.body())).isEqualTo(v);
        again.release();
        cache.clear();
    }

    /**
     * An empty file's response has no body segment, so nothing holds its loan once the request releases its entry:
     * a head lent room there would be written from a buffer back in the pool (found in review). It gets none.
     */
    @Test
    void anEmptyFilesLoanLendsNoRoomForAHead() throws Exception {
        PathCache cache = new PathCache(1000, 0, NEVER); // no byte tier: every small file is read unheld
        Files.write(root.resolve("empty"), new byte[0]);
        translate(translator, cache, "/empty");
        FileEntry e = ((Translation.Found) cache.lookup(target("/empty"))).entry();
        assertThat(e.inMemory()).as("read unheld, into a pooled buffer").isTrue();
        assertThat(e.body().remaining()).isZero();
        assertThat(e.pooledHeadSpace(100)).isNull();
        e.release();
        cache.clear();
    }

    @Test
    void pooledBodiesGoBackToTheirPoolWhenTheLastHolderReleases() throws Exception {
        PathCache cache = new PathCache(1000, 1, NEVER);
        byte[] v = write(root.resolve("f"), SIZE, 1);
        translate(translator, cache, "/f");
        served(cache, "/f"); // a first buffer for this thread's pool
        int pooled = PooledBody.pooledOnThisThread();
        FileEntry e = ((Translation.Found) cache.lookup(target("/f"))).entry();
        BodyRef segmentRef = e.retainBody(); // as a response segment holds it
        assertThat(PooledBody.pooledOnThisThread()).isEqualTo(pooled - 1);
        e.release();
        assertThat(PooledBody.pooledOnThisThread()).as("a response still views it").isEqualTo(pooled - 1);
        ByteBuffer body = e.body();
        segmentRef.release();
        assertThat(PooledBody.pooledOnThisThread()).isEqualTo(pooled);
        assertThat(segmentRef.retain()).as("a loan that ended cannot be revived").isFalse();
        assertThat(bytes(body)).isEqualTo(v); // reused only by the next read
        cache.clear();
    }

    @Test
    void entriesHoldingAnOpenFileAreBoundedByMaxHandles() throws Exception {
        int files = 40, maxHandles = 8;
        PathTranslator large = new PathTranslator(root, false, false, false, 1024);
        for (int i = 0; i < files; i++) write(root.resolve("big" + i), 8 * 1024, i);
        long before = Procfs.openFds();
        PathCache cache = new PathCache(1000, 1 << 20, NEVER, NEVER, maxHandles);
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < files; i++) {
                RequestTarget.Normalized t = target("/big" + i);
                Translation cached = cache.lookup(t);
                Translation tr = cached != null ? cached : large.translate(t);
                if (cached == null) cache.put(t, tr);
                ((Translation.Found) tr).entry().release();
                cache.cleanUp();
                assertThat(cache.handleEntries()).isLessThanOrEqualTo(maxHandles);
            }
        }
        assertThat(Procfs.openFds() - before).isLessThanOrEqualTo(maxHandles);
        cache.clear();
        assertThat(cache.handleEntries()).isZero();
        assertThat(Procfs.openFds()).isEqualTo(before);
    }

    @Test
    void theDefaultHandleBoundIsAQuarterOfTheDescriptorLimit() {
        long limit = ((com.sun.management.UnixOperatingSystemMXBean)
                java.lang.management.ManagementFactory.getOperatingSystemMXBean()).getMaxFileDescriptorCount();
        assertThat(PathCache.defaultMaxHandles()).isEqualTo((int) Math.max(16, limit / 4));
    }

    /** Descriptors of this process now. */
    static final class Procfs {
        static long openFds() throws java.io.IOException {
            try (var s = Files.list(Path.of("/proc/self/fd"))) {
                return s.count() - 1; // the listing's own descriptor
            }
        }
    }
}
