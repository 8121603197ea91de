package flash.content;

import flash.http.RequestTarget;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The pathname-translation cache under the load of a site larger than it: lookups and inserts from many threads at
 * once, eviction on every insert past the bound. Issue #11: the eviction sorted the map by a field that other threads
 * kept writing, TimSort threw "Comparison method violates its general contract!" out of {@code put}, and the helper's
 * request was answered 500.
 */
class PathCacheTest {
    private static final long NEVER = Long.MAX_VALUE;

    private static RequestTarget.Normalized target(int i) {
        return (RequestTarget.Normalized) RequestTarget.normalize("/f" + i);
    }

    @Test
    void manyThreadsLookingUpAndInsertingOverACacheSmallerThanTheKeySet() throws Exception {
        int keys = 2000, capacity = 400, threads = 8;
        long runNanos = TimeUnit.SECONDS.toNanos(3);
        PathCache cache = new PathCache(capacity, Long.MAX_VALUE, NEVER);
        RequestTarget.Normalized[] targets = new RequestTarget.Normalized[keys];
        for (int i = 0; i < keys; i++) targets[i] = target(i);
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        AtomicBoolean stop = new AtomicBoolean();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            workers.add(Thread.ofPlatform().start(() -> {
                ThreadLocalRandom r = ThreadLocalRandom.current();
                try {
                    start.await();
                    while (!stop.get()) {
                        // Skewed: most requests go to a hot fifth of the keys, which stays cached and keeps being hit
                        // (and so keeps changing recency) while other threads' inserts evict.
                        int k = r.nextInt(10) < 8 ? r.nextInt(keys / 5) : r.nextInt(keys);
                        if (cache.lookup(targets[k]) == null) cache.put(targets[k], new Translation.Redirect("/f" + k + "/"));
                    }
                } catch (Throwable e) {
                    failures.add(e);
                    stop.set(true);
                }
            }));
        }
        long deadline = System.nanoTime() + runNanos;
        start.countDown();
        while (!stop.get() && System.nanoTime() < deadline) Thread.sleep(10);
        stop.set(true);
        for (Thread w : workers) w.join();
        assertThat(failures).as("exceptions out of lookup/put").isEmpty();
        assertThat(cache.size()).as("entries after the run").isLessThanOrEqualTo(capacity);
        assertThat(cache.evictions.sum()).as("the run evicted").isPositive();
    }

    @Test
    void bytesAndReferencesAreAccountedExactlyUnderConcurrentChurn() throws Exception {
        int keys = 600, threads = 6, fileSize = 100;
        long maxBytes = 200L * fileSize; // the byte bound binds before the entry bound
        PathCache cache = new PathCache(10_000, maxBytes, NEVER);
        RequestTarget.Normalized[] targets = new RequestTarget.Normalized[keys];
        for (int i = 0; i < keys; i++) targets[i] = target(i);
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            workers.add(Thread.ofPlatform().start(() -> {
                ThreadLocalRandom r = ThreadLocalRandom.current();
                try {
                    for (int i = 0; i < 20_000; i++) {
                        int k = r.nextInt(keys);
                        Translation hit = cache.lookup(targets[k]);
                        if (hit instanceof Translation.Found f) {
                            f.entry().release();
                            continue;
                        }
                        Translation.Found made = new Translation.Found(new FileEntry(Path.of("/f" + k), fileSize, 0, null,
                                "text/plain", ByteBuffer.allocate(fileSize), null));
                        cache.put(targets[k], made);
                        made.entry().release();
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            }));
        }
        for (Thread w : workers) w.join();
        assertThat(failures).isEmpty();
        cache.cleanUp(); // drops the translations whose bytes were evicted last (they cannot be served without them)
        assertThat(cache.bytesHeld()).as("bytes held").isEqualTo((long) cache.size() * fileSize)
                .isLessThanOrEqualTo(maxBytes);
        // Each translation points at exactly the bytes held for it (a lookup reads them there), or at none, again.
        for (int i = 0; i < keys; i++) assertThat(cache.heldExact(targets[i].path())).as("key %d", i).isTrue();
        cache.clear();
        assertThat(cache.size()).isZero();
        assertThat(cache.bytesHeld()).isZero();
    }

    private static void putBody(PathCache cache, int i, int size) {
        Translation.Found made = new Translation.Found(new FileEntry(Path.of("/f" + i), size, 0, null, "text/plain",
                ByteBuffer.allocate(size), null));
        cache.put(target(i), made);
        made.entry().release();
    }

    /** A lookup, its reference released; whether it was a hit. */
    private static boolean use(PathCache cache, int i) {
        Translation t = cache.lookup(target(i));
        if (t instanceof Translation.Found f) f.entry().release();
        return t != null;
    }

    @Test
    void heldBytesUsedOftenKeepTheirPlaceAgainstNewcomersUsedLess() {
        // A lookup reads held bytes from its node, not from the byte tier; the uses it records there are what the
        // policy weighs: newcomers made twice push out bytes never used, and not those used often.
        int size = 100, fillers = 1_000, hot = 10;
        PathCache cache = new PathCache(100_000, (long) fillers * size, NEVER);
        // The run stands for many seconds of a server's life: the cap on uses recorded in one second is lifted (as
        // if the hot files' uses were spread over seconds), not the recording.
        cache.recordedUsesPerSecond = Integer.MAX_VALUE;
        for (int i = 0; i < fillers; i++) putBody(cache, 100_000 + i, size);
        cache.cleanUp();
        for (int i = 0; i < hot; i++) putBody(cache, i, size);
        for (int round = 0; round < 50; round++) for (int i = 0; i < hot; i++) assertThat(use(cache, i)).isTrue();
        cache.cleanUp();
        for (int i = 1_000; i < 1_000 + 2 * fillers; i++) { // each put twice and used once: more than the fillers
            putBody(cache, i, size);
            putBody(cache, i, size);
            use(cache, i);
            if (i % 20 == 0) for (int h = 0; h < hot; h++) use(cache, h); // still in use while newcomers come
        }
        cache.cleanUp();
        for (int i = 0; i < hot; i++) assertThat(use(cache, i)).as("hot file %d still held", i).isTrue();
        int fillersLeft = 0;
        for (int i = 0; i < fillers; i++) if (use(cache, 100_000 + i)) fillersLeft++;
        assertThat(fillersLeft).as("bytes never used, pushed out by newcomers").isLessThan(fillers / 2);
    }

    @Test
    void aHeldFilesUsesAreRecordedInThePolicyOnlyAFewTimesASecond() {
        // Past a few uses a second the count changes no decision of the policy, and each use recorded is a lookup in
        // the byte tier's table: a cache miss on a big site.
        PathCache cache = new PathCache(100, 10_000, NEVER);
        putBody(cache, 1, 100);
        long first = System.nanoTime() / 1_000_000_000L;
        for (int k = 0; k < 1_000; k++) assertThat(use(cache, 1)).isTrue();
        long seconds = System.nanoTime() / 1_000_000_000L - first + 1;
        assertThat(cache.heldUsesRecorded.sum()).isPositive()
                .isLessThanOrEqualTo(seconds * PathCache.RECORDED_USES_PER_SECOND);
    }

    @Test
    void frequentlyUsedEntriesSurviveAScanOfKeysUsedOnce() {
        // A crawler (or a cold directory tree) asks for thousands of files once each. Under CLOCK or LRU that scan
        // pushed the hot entries out: two passes of the hand clear and then take them. W-TinyLFU admits a newcomer
        // only if it is used more often than the entry it would replace.
        PathCache cache = new PathCache(100, Long.MAX_VALUE, NEVER);
        for (int round = 0; round < 5; round++) {
            for (int i = 0; i < 20; i++) {
                if (cache.lookup(target(i)) == null) cache.put(target(i), Translation.NOT_FOUND);
            }
        }
        // The hot entries keep being used while the scan passes, but less often than a CLOCK hand or an LRU list
        // turns over (every 150 newcomers; the cache holds 100): for those, each looks unused when its turn comes.
        for (int i = 1000; i < 16_000; i++) {
            if (cache.lookup(target(i)) == null) cache.put(target(i), Translation.NOT_FOUND);
            if (i % 150 == 0) {
                for (int h = 0; h < 20; h++) if (cache.lookup(target(h)) == null) cache.put(target(h), Translation.NOT_FOUND);
            }
        }
        cache.cleanUp();
        assertThat(cache.size()).isLessThanOrEqualTo(100);
        for (int i = 0; i < 20; i++) assertThat(cache.lookup(target(i))).as("hot entry %d after the scan", i).isNotNull();
        assertThat(cache.evictions.sum()).isPositive();
    }

    @Test
    void lookupsRecordTheirReadsInThePolicyOnlyOnceTheCacheIsThreeQuartersFull() {
        // Below that nothing is evicted: a recorded read only moved nodes and counters, cache misses on a big site.
        PathCache cache = new PathCache(100, Long.MAX_VALUE, NEVER);
        for (int i = 0; i < 74; i++) cache.put(target(i), Translation.NOT_FOUND);
        for (int k = 0; k < 50; k++) assertThat(cache.lookup(target(0))).isNotNull();
        assertThat(cache.recordsReads()).as("74 of 100").isFalse();
        assertThat(cache.hottestKey()).as("reads not recorded: the policy's order is the puts'").isNotEqualTo("/f0");
        cache.put(target(74), Translation.NOT_FOUND);
        assertThat(cache.recordsReads()).as("75 of 100").isTrue();
        for (int k = 0; k < 50; k++) assertThat(cache.lookup(target(0))).isNotNull();
        assertThat(cache.hottestKey()).as("reads recorded").isEqualTo("/f0");
    }

    @Test
    void anEvictedOrReplacedFileStaysOpenUntilItsLastHolderReleasesIt(@TempDir Path dir) throws Exception {
        Path file = Files.write(dir.resolve("big"), new byte[100]);
        PathCache cache = new PathCache(10, Long.MAX_VALUE, NEVER);
        FileHandle first = new FileHandle(FileChannel.open(file, StandardOpenOption.READ));
        Translation.Found made = new Translation.Found(new FileEntry(file, 100, 0, null, "text/plain", null, first));
        cache.put(target(1), made);
        made.entry().release(); // the translating helper is done with it: the cache's reference is the only one
        assertThat(first.isOpen()).isTrue();
        Translation held = cache.lookup(target(1)); // a response sending from it
        assertThat(held).isSameAs(made);

        FileHandle second = new FileHandle(FileChannel.open(file, StandardOpenOption.READ));
        Translation.Found remade = new Translation.Found(new FileEntry(file, 100, 0, null, "text/plain", null, second));
        cache.put(target(1), remade); // revalidated: the new translation replaces the old one
        remade.entry().release();
        assertThat(first.isOpen()).as("replaced, but a response still sends from it").isTrue();
        assertThat(first.channel().isOpen()).isTrue();
        ((Translation.Found) held).entry().release();
        assertThat(first.isOpen()).as("its last holder released it").isFalse();
        assertThat(first.channel().isOpen()).isFalse();

        Translation again = cache.lookup(target(1));
        cache.clear(); // evicted (shutdown) while held
        assertThat(second.channel().isOpen()).isTrue();
        ((Translation.Found) again).entry().release();
        assertThat(second.channel().isOpen()).isFalse();
    }

    @Test
    void noFileIsClosedUnderAHolderAndNoneLeaksUnderConcurrentEviction(@TempDir Path dir) throws Exception {
        Path file = Files.write(dir.resolve("big"), new byte[100]);
        int keys = 300, threads = 6;
        PathCache cache = new PathCache(50, Long.MAX_VALUE, NEVER);
        ConcurrentLinkedQueue<FileHandle> opened = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            workers.add(Thread.ofPlatform().start(() -> {
                ThreadLocalRandom r = ThreadLocalRandom.current();
                try {
                    for (int i = 0; i < 5_000; i++) {
                        int k = r.nextInt(10) < 7 ? r.nextInt(keys / 10) : r.nextInt(keys);
                        if (cache.lookup(target(k)) instanceof Translation.Found f) {
                            // a loop building a response: the file must be open for as long as it holds the entry
                            if (!f.entry().handle().channel().isOpen()) throw new AssertionError("closed under a holder");
                            f.entry().handle().channel().size();
                            f.entry().release();
                            continue;
                        }
                        FileHandle h = new FileHandle(FileChannel.open(file, StandardOpenOption.READ));
                        opened.add(h);
                        Translation.Found made = new Translation.Found(new FileEntry(file, 100, 0, null, "text/plain", null, h));
                        cache.put(target(k), made);
                        made.entry().release();
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            }));
        }
        for (Thread w : workers) w.join();
        assertThat(failures).isEmpty();
        cache.cleanUp();
        long open = opened.stream().filter(FileHandle::isOpen).count();
        assertThat(open).as("open files: exactly the cached ones").isEqualTo(cache.size()).isLessThanOrEqualTo(50);
        cache.clear();
        assertThat(opened).as("every file closed once the cache is cleared").allMatch(h -> !h.channel().isOpen());
    }

    @Test
    void aStaleEntryIsNeverServedAndItsReplacementIsNotDoubleCounted() throws Exception {
        // 300 ms, not less: a put and the lookup after it may be that far apart on a loaded machine (the first
        // replacement loads Caffeine's classes), and the fresh entry must still be fresh.
        PathCache cache = new PathCache(10, Long.MAX_VALUE, TimeUnit.MILLISECONDS.toNanos(300));
        cache.put(target(1), new Translation.Redirect("/a/"));
        assertThat(cache.lookup(target(1))).isNotNull();
        Thread.sleep(600);
        assertThat(cache.lookup(target(1))).as("older than the revalidation bound").isNull();
        cache.put(target(1), new Translation.Redirect("/b/"));
        assertThat(cache.lookup(target(1))).isEqualTo(new Translation.Redirect("/b/"));
        assertThat(cache.size()).isEqualTo(1);
    }
}
