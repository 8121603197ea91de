package flash.content;

import flash.http.RequestTarget;
import flash.sys.Native;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Issue #11, "a cheap miss path": translating a small file reads it into memory that is neither a new zeroed direct
 * buffer (allocateDirect: a reservation, a cleaner and Bits.setMemory over every byte, per file) nor a heap copy.
 * Counted, not timed: the JDK's direct-buffer pool and this thread's allocated heap bytes.
 */
class MissPathAllocationTest {
    static final int FILES = 200, SIZE = 16 * 1024;
    private static final long NEVER = Long.MAX_VALUE;

    @TempDir Path root;

    /** File {@code i}'s bytes: SIZE of them, different from every other file's at the same offset. */
    private static byte[] content(int i) {
        byte[] c = new byte[SIZE];
        for (int j = 0; j < SIZE; j++) c[j] = (byte) (i * 31 + j);
        return c;
    }

    private static BufferPoolMXBean directPool() {
        for (BufferPoolMXBean b : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            if (b.getName().equals("direct")) return b;
        }
        throw new IllegalStateException("no direct buffer pool");
    }

    private static long threadAllocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    @Test
    void aSmallFileIsReadIntoUnzeroedNativeMemoryNotANewDirectBufferOrTheHeap() throws Exception {
        assumeTrue(Native.available(), "native layer unavailable: allocateDirect is the fallback");
        List<RequestTarget.Normalized> targets = new ArrayList<>();
        List<byte[]> contents = new ArrayList<>();
        for (int i = 0; i < FILES; i++) {
            byte[] c = content(i);
            Files.createDirectories(root.resolve("d" + (i % 10)));
            Files.write(root.resolve("d" + (i % 10)).resolve("f" + i + ".html"), c);
            contents.add(c);
            targets.add((RequestTarget.Normalized) RequestTarget.normalize("/d" + (i % 10) + "/f" + i + ".html"));
        }
        PathTranslator translator = new PathTranslator(root, false, false, false, 64 * 1024);
        for (int i = 0; i < 20; i++) translator.translate(targets.get(i)); // warm: first-use classes and caches

        List<Translation> held = new ArrayList<>(FILES); // held, like the path cache holds them: nothing is freed
        long directBefore = directPool().getCount();
        long nativeBefore = BodyMemory.allocated();
        long heapBefore = threadAllocatedBytes();
        for (RequestTarget.Normalized t : targets) held.add(translator.translate(t));
        long heapPerMiss = (threadAllocatedBytes() - heapBefore) / FILES;
        long newDirectBuffers = directPool().getCount() - directBefore;

        assertThat(newDirectBuffers).as("direct buffers allocated for %d small files", FILES).isLessThan(FILES / 10);
        assertThat(BodyMemory.allocated() - nativeBefore).as("unzeroed native body bytes").isEqualTo((long) FILES * SIZE);
        assertThat(heapPerMiss).as("heap bytes per small-file translation (the body is not on the heap)")
                .isLessThan(SIZE / 2);
        for (int i = 0; i < FILES; i++) {
            FileEntry e = ((Translation.Found) held.get(i)).entry();
            ByteBuffer b = e.body();
            assertThat(b.isDirect()).isTrue();
            byte[] got = new byte[b.remaining()];
            b.get(got);
            assertThat(got).as("file %d read whole into unzeroed memory", i).isEqualTo(contents.get(i));
        }
    }

    @Test
    void unzeroedBodyMemoryNeverReleasedIsFreedOnceNoViewIsReachable() throws Exception {
        assumeTrue(Native.available(), "native layer unavailable");
        settle(); // bodies other tests dropped are freed first, so what changes below is this test's buffer
        long before = BodyMemory.outstanding();
        ByteBuffer b = BodyMemory.allocate(1 << 20).buffer(); // its reference never released: the cleaner's case
        ByteBuffer view = b.asReadOnlyBuffer().slice(10, 100);
        b = null;
        assertThat(BodyMemory.outstanding() - before).isEqualTo(1 << 20);
        collect(10, () -> false);
        assertThat(BodyMemory.outstanding() - before).as("a view is still reachable: kept").isEqualTo(1 << 20);
        assertThat(view.get(0)).isNotNull(); // keeps the view reachable up to here
        view = null;
        collect(100, () -> BodyMemory.outstanding() - before <= 0);
        assertThat(BodyMemory.outstanding() - before).as("freed by the cleaner").isLessThanOrEqualTo(0);
    }

    @Test
    void unzeroedBodyMemoryIsFreedByItsLastReleaseWithoutACollection() throws Exception {
        assumeTrue(Native.available(), "native layer unavailable");
        settle(); // bodies other tests dropped are freed first: only this test's change the count below
        long before = BodyMemory.outstanding();
        OwnedBody body = BodyMemory.allocate(1 << 20);
        ByteBuffer reachable = body.buffer(); // a view still reachable: only the count decides
        assertThat(body.retain()).as("a second holder").isTrue();
        body.release();
        assertThat(BodyMemory.outstanding() - before).as("one holder left").isEqualTo(1 << 20);
        body.release();
        assertThat(BodyMemory.outstanding() - before).as("freed by the last release").isEqualTo(0);
        assertThat(body.retain()).as("never revived").isFalse();
        assertThat(reachable.capacity()).isEqualTo(1 << 20);
        reachable = null;
        collect(5, () -> false);
        assertThat(BodyMemory.outstanding() - before).as("the cleaner does not free it twice").isEqualTo(0);
    }

    /**
     * The bytes a site larger than the byte budget makes: every translation reads its file into memory of its own, the
     * byte tier keeps the most used and drops the rest. Dropped (refused, evicted) bytes are freed when their last
     * holder releases them, not when the collector next finds them unreachable: on a big site those buffers were
     * promoted and waited for a full collection (1.6 GB resident, section 42 of docs/performance.md). Here every entry
     * stays reachable, so only the counts can free anything.
     */
    @Test
    void bytesTheByteTierDropsAreFreedByTheirLastReleaseNotByTheCollector() throws Exception {
        assumeTrue(Native.available(), "native layer unavailable");
        List<RequestTarget.Normalized> targets = new ArrayList<>();
        for (int i = 0; i < FILES; i++) {
            Files.write(root.resolve("f" + i + ".html"), content(i));
            targets.add((RequestTarget.Normalized) RequestTarget.normalize("/f" + i + ".html"));
        }
        PathTranslator translator = new PathTranslator(root, false, false, false, 64 * 1024);
        long budget = 20L * SIZE; // a tenth of the site
        PathCache cache = new PathCache(10_000, budget, NEVER);
        settle();
        long before = BodyMemory.outstanding();
        List<Translation> kept = new ArrayList<>(); // reachable to the end: the collector cannot free them
        for (RequestTarget.Normalized t : targets) {
            Translation made = translator.translate(t);
            cache.put(t, made);
            kept.add(made);
            ((Translation.Found) made).entry().release(); // the request's reference, as StaticHandler drops it
        }
        cache.cleanUp();
        assertThat(BodyMemory.outstanding() - before).as("bytes not freed, %d translated, budget %d", FILES * SIZE, budget)
                .isEqualTo(cache.bytesHeld()).isLessThanOrEqualTo(budget);
        // A hit's bytes are the file's own while the request holds its reference, whatever the tier dropped since.
        for (int i = 0; i < FILES; i++) {
            if (cache.lookup(targets.get(i)) instanceof Translation.Found f) {
                ByteBuffer b = f.entry().body();
                if (b != null) assertThat(b.get(7)).as("file %d", i).isEqualTo(content(i)[7]);
                f.entry().release();
            }
        }
        assertThat(BodyMemory.outstanding() - before).as("what the tier holds outlives the requests that served it")
                .isEqualTo(cache.bytesHeld()).isPositive();
        // A file read unheld often enough is copied and offered again; the copy is the tier's or freed at once.
        long offered = cache.bodiesOffered.sum();
        for (int i = 0; i < FILES && cache.bodiesOffered.sum() == offered; i++) {
            for (int r = 0; r < PathCache.OFFER_AFTER_READS; r++) {
                if (cache.lookup(targets.get(i)) instanceof Translation.Found f) f.entry().release();
            }
        }
        assertThat(cache.bodiesOffered.sum()).as("an offer made").isGreaterThan(offered);
        cache.cleanUp();
        assertThat(BodyMemory.outstanding() - before).as("after an offer").isEqualTo(cache.bytesHeld());
        cache.clear();
        assertThat(BodyMemory.outstanding() - before).as("all freed once the cache is cleared").isZero();
        assertThat(kept).hasSize(FILES);
    }

    /**
     * Many threads translating, inserting, serving and releasing over caches smaller than the site, as helpers and
     * loops do: every hit's bytes are the file's own while its reference is held, and once the cache is cleared nothing
     * is left allocated (a lost release would leak, an extra one would free bytes still served).
     */
    @Test
    void countedBodiesNeitherLeakNorGoEarlyUnderConcurrentChurn() throws Exception {
        assumeTrue(Native.available(), "native layer unavailable");
        int keys = 60, threads = 6, size = 4096;
        List<RequestTarget.Normalized> targets = new ArrayList<>();
        for (int i = 0; i < keys; i++) {
            byte[] c = new byte[size];
            java.util.Arrays.fill(c, (byte) i);
            Files.write(root.resolve("c" + i), c);
            targets.add((RequestTarget.Normalized) RequestTarget.normalize("/c" + i));
        }
        PathTranslator translator = new PathTranslator(root, false, false, false, 64 * 1024);
        PathCache cache = new PathCache(20, 10L * size, NEVER); // a third of the paths, a sixth of the bytes
        settle();
        long before = BodyMemory.outstanding();
        java.util.concurrent.ConcurrentLinkedQueue<Throwable> failures = new java.util.concurrent.ConcurrentLinkedQueue<>();
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            workers.add(Thread.ofPlatform().start(() -> {
                java.util.concurrent.ThreadLocalRandom r = java.util.concurrent.ThreadLocalRandom.current();
                try {
                    for (int n = 0; n < 5_000; n++) {
                        int k = r.nextInt(keys);
                        Translation t2 = cache.lookup(targets.get(k));
                        if (t2 == null) {
                            t2 = translator.translate(targets.get(k));
                            cache.put(targets.get(k), t2);
                        }
                        FileEntry e = ((Translation.Found) t2).entry();
                        ByteBuffer b = e.body();
                        if (b != null && (b.get(0) != (byte) k || b.get(size - 1) != (byte) k)) {
                            throw new AssertionError("path " + k + " served another file's bytes");
                        }
                        e.release();
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            }));
        }
        for (Thread w : workers) w.join();
        assertThat(failures).isEmpty();
        cache.cleanUp();
        assertThat(BodyMemory.outstanding() - before).as("held by the tier only").isEqualTo(cache.bytesHeld());
        cache.clear();
        assertThat(BodyMemory.outstanding() - before).as("nothing left once cleared").isZero();
    }

    /** Collects (and gives the cleaner 20 ms) up to {@code rounds} times, stopping early once {@code done}. */
    private static void collect(int rounds, java.util.function.BooleanSupplier done) throws InterruptedException {
        for (int i = 0; i < rounds && !done.getAsBoolean(); i++) {
            System.gc();
            Thread.sleep(20);
        }
    }

    /** Collects until the outstanding native bytes stop changing (three readings in a row). */
    private static void settle() throws InterruptedException {
        long last = -1;
        for (int same = 0, i = 0; same < 3 && i < 200; i++) {
            System.gc();
            Thread.sleep(20);
            long now = BodyMemory.outstanding();
            same = now == last ? same + 1 : 0;
            last = now;
        }
    }
}
