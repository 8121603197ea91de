package flash.content;

import flash.http.RequestTarget;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
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
        assertThat(cache.bytesHeld()).as("bytes held").isEqualTo((long) cache.size() * fileSize)
                .isLessThanOrEqualTo(maxBytes);
        cache.clear();
        assertThat(cache.size()).isZero();
        assertThat(cache.bytesHeld()).isZero();
    }

    @Test
    void anEntryUsedSinceTheLastSweepOutlivesOneThatWasNot() {
        PathCache cache = new PathCache(4, Long.MAX_VALUE, NEVER);
        for (int i = 0; i < 4; i++) cache.put(target(i), Translation.NOT_FOUND);
        assertThat(cache.lookup(target(0))).isNotNull();
        cache.put(target(4), Translation.NOT_FOUND);
        assertThat(cache.size()).isEqualTo(4);
        assertThat(cache.lookup(target(0))).as("used since it was cached: kept").isNotNull();
        assertThat(cache.lookup(target(1))).as("the oldest unused entry: evicted").isNull();
        assertThat(cache.lookup(target(4))).as("the newest: kept").isNotNull();
    }

    @Test
    void aStaleEntryIsNeverServedAndItsReplacementIsNotDoubleCounted() throws Exception {
        PathCache cache = new PathCache(10, Long.MAX_VALUE, TimeUnit.MILLISECONDS.toNanos(20));
        cache.put(target(1), new Translation.Redirect("/a/"));
        assertThat(cache.lookup(target(1))).isNotNull();
        Thread.sleep(40);
        assertThat(cache.lookup(target(1))).as("older than the revalidation bound").isNull();
        cache.put(target(1), new Translation.Redirect("/b/"));
        assertThat(cache.lookup(target(1))).isEqualTo(new Translation.Redirect("/b/"));
        assertThat(cache.size()).isEqualTo(1);
    }
}
