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

    @TempDir Path root;

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
            byte[] c = new byte[SIZE];
            for (int j = 0; j < SIZE; j++) c[j] = (byte) (i * 31 + j);
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
    void unzeroedBodyMemoryIsFreedOnceNoViewIsReachable() throws Exception {
        assumeTrue(Native.available(), "native layer unavailable");
        settle(); // bodies other tests dropped are freed first, so what changes below is this test's buffer
        long before = BodyMemory.outstanding();
        ByteBuffer b = BodyMemory.allocate(1 << 20);
        ByteBuffer view = b.asReadOnlyBuffer().slice(10, 100);
        b = null;
        assertThat(BodyMemory.outstanding() - before).isEqualTo(1 << 20);
        for (int i = 0; i < 10; i++) {
            System.gc();
            Thread.sleep(20);
        }
        assertThat(BodyMemory.outstanding() - before).as("a view is still reachable: kept").isEqualTo(1 << 20);
        assertThat(view.get(0)).isNotNull(); // keeps the view reachable up to here
        view = null;
        for (int i = 0; i < 100 && BodyMemory.outstanding() - before > 0; i++) {
            System.gc();
            Thread.sleep(20);
        }
        assertThat(BodyMemory.outstanding() - before).as("freed by the cleaner").isLessThanOrEqualTo(0);
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
