package flash.content;

import flash.sys.Native;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Residency of an open handle: mincore on its whole-file mapping when truthful, the copying probe otherwise. */
class HandleResidencyTest {
    static final long PAGE = Native.pageSize();
    static final int SIZE = 2 * 1024 * 1024 + 3 * 4096 + 100; // crosses two 1 MiB mincore windows, partial last page

    @TempDir Path dir;
    Path file;

    @BeforeEach
    void setUp() throws Exception {
        assumeTrue(Native.available() && Native.fdAccess(), "native layer unavailable");
        file = dir.resolve("f.bin");
        byte[] data = new byte[SIZE];
        new Random(1).nextBytes(data);
        written(file, data);
    }

    /** {@code f} holding {@code data}, on the disk: dirty pages are not dropped, so a test could not evict them. */
    private static Path written(Path f, byte[] data) throws Exception {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(data));
            ch.force(true);
        }
        return f;
    }

    /** A file of three sendfile turns and a bit, under the largest tested whole; a turn. */
    static final int MID = 600 * 1024, TURN = 256 * 1024;

    private static FileWatch watch() {
        FileWatch w = FileWatch.start(16);
        assumeTrue(w.available(), "no inotify here");
        return w;
    }

    /** A registration watching {@code name} in the test's directory, attached, handed to {@code h} as the cache does. */
    private FileWatch.Registration vouch(FileWatch watch, FileHandle h, String name) throws Exception {
        FileWatch.Registration reg = watch.register();
        assertThat(reg.watch(dir.toRealPath(), name)).isTrue();
        assertThat(reg.attach(() -> { })).isTrue();
        h.vouchedFor(reg);
        return reg;
    }

    private static FileHandle open(Path f, boolean truthful) throws Exception {
        return new FileHandle(FileChannel.open(f, StandardOpenOption.READ), truthful);
    }

    private static void readAll(FileHandle h) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(64 * 1024);
        for (long p = 0; h.channel().read(b.clear(), p) > 0; p += b.position()) { }
    }

    @Test
    void mincoreSeesAColdTailPageAcrossWindows() throws Exception {
        Residency r = Residency.detect();
        FileHandle h = open(file, true);
        try {
            readAll(h);
            assertThat(r.isResidentFile(h, 100, SIZE - 100)).isTrue();
            int fd = Native.openReadOnly(file);
            try {
                assertThat(Native.fadviseDontNeed(fd, SIZE - 100, 0)).isZero(); // drop only the last page (to EOF)
            } finally {
                Native.close(fd);
            }
            assertThat(r.isResidentFile(h, 100, SIZE - 100)).isFalse();
            assertThat(r.isResidentFile(h, SIZE - 1, 1)).isFalse();
            assertThat(r.isResidentFile(h, 0, SIZE - 2 * PAGE)).isTrue();
            assertThat(r.mincoreChecks.sum()).isEqualTo(4);
            assertThat(r.probeChecks.sum()).isZero();
        } finally {
            h.release();
        }
        assertThat(h.mappedLength()).isZero(); // unmapped with the descriptor
    }

    @Test
    void untruthfulFilesAndFailedMappingsUseTheProbe() throws Exception {
        Residency r = Residency.detect();
        FileHandle lying = open(file, false);
        try {
            readAll(lying);
            assertThat(lying.mappedLength()).isZero();
            assertThat(r.isResidentFile(lying, 0, SIZE)).isTrue();
            assertThat(r.probeChecks.sum()).isEqualTo(1);
        } finally {
            lying.release();
        }
        Path empty = dir.resolve("empty.bin");
        FileChannel.open(empty, StandardOpenOption.CREATE, StandardOpenOption.WRITE).close();
        FileHandle unmappable = open(empty, true); // an empty file cannot be mapped: the probe answers
        try {
            assertThat(unmappable.mappedLength()).isZero();
            assertThat(r.isResidentFile(unmappable, 0, 10)).isFalse(); // past EOF is never resident
            assertThat(r.probeChecks.sum()).isEqualTo(2);
            assertThat(r.mincoreChecks.sum()).isZero();
        } finally {
            unmappable.release();
        }
    }

    /**
     * The file's pages dropped as from outside the process: {@link Native#evictFromPageCache} alone, without the
     * withdrawal of residency hints that {@code ColdFile.dropPages} adds.
     */
    private static void dropFromOutside(Path f) throws Exception {
        Native.evictFromPageCache(f);
    }

    @Test
    void aWholeFileFoundInMemoryIsTrustedUntilAnyTestFails() throws Exception {
        Path cold = dir.resolve("cold.bin");
        java.nio.file.Files.write(cold, new byte[3 * 4096]);
        flash.testing.ColdFile.evict(cold);
        FileHandle h = open(file, true), other = open(cold, true);
        try {
            readAll(h);
            assertThat(h.mappedLength()).isEqualTo(SIZE);
            assertThat(other.mappedLength()).isEqualTo(3 * 4096);
            int epoch = ResidencyHint.epoch();
            assertThat(h.residentWhole(SIZE)).isTrue(); // tested: every page in memory, and remembered
            dropFromOutside(file);
            assumeTrue(ResidencyHint.epoch() == epoch, "another thread's residency test failed meanwhile");
            // The hint's blind spot, by design (ResidencyHint): pages dropped from outside, no test failed since.
            assertThat(h.residentWhole(SIZE)).isTrue();
            assertThat(h.residentWhole(SIZE + 1)).as("grown past the mapping: not what was tested").isFalse();
            assertThat(other.residentWhole(3 * 4096)).isFalse(); // any failed test...
            assertThat(h.residentWhole(SIZE)).isFalse();         // ...withdraws every hint: tested again, truthfully
        } finally {
            h.release();
            other.release();
        }
    }

    /**
     * A large body's regions (docs/performance.md section 46): a file whose cached size a watch vouches for, found whole
     * in memory by the test of a region that starts it, is not tested again within the window; without that watch, once
     * it stops watching, or for a file larger than {@link FileHandle#WHOLE_TEST_MAX}, every region is tested.
     */
    @Test
    void aWatchedFileFoundWholeInMemoryIsTrustedForItsRegionsUntilItsWatchStops() throws Exception {
        int mid = MID, turn = TURN;
        Path f = written(dir.resolve("mid.bin"), new byte[mid]);
        FileWatch watch = watch();
        FileHandle h = open(f, true), large = open(file, true);
        Residency r = Residency.detect();
        long window = ResidencyHint.windowNanos;
        ResidencyHint.windowNanos = 60_000_000_000L; // the drop from outside (an fdatasync) may take a while
        try {
            readAll(h);
            assertThat(r.isResidentFile(h, 0, turn)).isTrue();
            assertThat(r.isResidentFile(h, turn, turn)).isTrue();
            assertThat(r.hintedChecks.sum()).as("not vouched for: every region tested").isZero();

            FileWatch.Registration reg = vouch(watch, h, "mid.bin");
            int epoch = ResidencyHint.epoch();
            assertThat(r.isResidentFile(h, 0, turn)).isTrue(); // the whole file tested, and remembered
            dropFromOutside(f);
            assumeTrue(ResidencyHint.epoch() == epoch, "another thread's residency test failed meanwhile");
            assertThat(r.isResidentFile(h, turn, turn)).as("the hint's blind spot, by design").isTrue();
            assertThat(r.isResidentFile(h, 0, mid)).isTrue();
            assertThat(r.hintedChecks.sum()).isEqualTo(2);
            reg.cancel(); // the watch no longer vouches (a change fired it, or its entry went)
            assertThat(r.isResidentFile(h, turn, turn)).as("tested again, truthfully").isFalse();
            assertThat(r.mincoreChecks.sum()).isEqualTo(4);

            readAll(large); // over the largest file tested whole: its regions are tested every time, watched or not
            FileWatch.Registration big = vouch(watch, large, "f.bin");
            assertThat(r.isResidentFile(large, 0, SIZE)).isTrue();
            dropFromOutside(file);
            assertThat(r.isResidentFile(large, 0, turn)).isFalse();
            assertThat(r.hintedChecks.sum()).isEqualTo(2);
            big.cancel();
        } finally {
            ResidencyHint.windowNanos = window;
            h.release();
            large.release();
            watch.close();
        }
    }

    /**
     * A region at the start of a file whose rest is not in memory (a range of its first bytes, a file read in part): the
     * region goes out, no hint is left, and the rest's absence withdraws no other hint (it says nothing of the page
     * cache under pressure).
     */
    @Test
    void aFirstRegionInMemoryIsSentWithoutAHintWhenTheRestIsNotAndWithdrawsNone() throws Exception {
        int mid = MID, turn = TURN;
        FileWatch watch = watch();
        Path f = written(dir.resolve("tail.bin"), new byte[mid]);
        FileHandle h = open(f, true);
        Residency r = Residency.detect();
        try {
            readAll(h);
            FileWatch.Registration reg = vouch(watch, h, "tail.bin");
            assertThat(h.mappedLength()).isEqualTo(mid);
            int fd = Native.openReadOnly(f);
            try {
                // The pages past the first two turns out (from a 512 KiB boundary: a large folio partly in the range
                // stays whole)
                assertThat(Native.fadviseDontNeed(fd, 2L * turn, 0)).isZero();
            } finally {
                Native.close(fd);
            }
            assumeTrue(!h.resident(2L * turn, mid - 2L * turn), "the tail's pages could not be dropped here");
            int epoch = ResidencyHint.epoch();
            assertThat(r.isResidentFile(h, 0, turn)).as("the first region is in memory").isTrue();
            assertThat(ResidencyHint.epoch()).as("the rest's test withdrew no hint").isEqualTo(epoch);
            assertThat(r.isResidentFile(h, 2L * turn, mid - 2L * turn)).as("no hint was left: tested").isFalse();
            assertThat(r.hintedChecks.sum()).isZero();
            reg.cancel();
        } finally {
            h.release();
            watch.close();
        }
    }

    @Test
    void onlyAWholeFileTestWithinTheWindowIsRemembered() throws Exception {
        FileHandle h = open(file, true);
        long window = ResidencyHint.windowNanos;
        try {
            readAll(h);
            assertThat(h.mappedLength()).isEqualTo(SIZE);
            assertThat(h.resident(0, SIZE)).isTrue(); // a range, even the whole file's: not remembered
            assertThat(h.residentWhole(SIZE - 1)).isTrue(); // a size other than the mapping's: not remembered
            dropFromOutside(file);
            assertThat(h.residentWhole(SIZE)).isFalse();

            readAll(h);
            assertThat(h.residentWhole(SIZE)).isTrue(); // remembered
            dropFromOutside(file);
            assertThat(h.resident(0, SIZE)).as("a range is tested, hint or not").isFalse();

            readAll(h);
            ResidencyHint.windowNanos = 0; // -Dflash.residencyHintMs=0: test before every send
            assertThat(h.residentWhole(SIZE)).isTrue();
            dropFromOutside(file);
            assertThat(h.residentWhole(SIZE)).isFalse();
        } finally {
            ResidencyHint.windowNanos = window;
            h.release();
        }
    }
}
