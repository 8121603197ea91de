package flash.content;

import flash.sys.DiskGuard;
import flash.sys.Native;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChunkCacheTest {
    static final long MIB = ChunkCache.CHUNK_SIZE;

    @TempDir Path dir;
    private final List<FileEntry> entries = new ArrayList<>();

    @BeforeEach
    void linux() { assumeTrue(Native.available() && Native.fdAccess(), "native layer unavailable"); }

    @org.junit.jupiter.api.AfterEach
    void releaseEntries() { entries.forEach(FileEntry::release); }

    private FileEntry entry(Path f) throws IOException {
        BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
        FileEntry e = new FileEntry(f, a.size(), a.lastModifiedTime().toMillis(), a.fileKey(), "application/octet-stream",
                null, new FileHandle(FileChannel.open(f, StandardOpenOption.READ)), true);
        entries.add(e);
        return e;
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    @Test
    void viewsAreTheFileBytesAcrossChunkBoundaries() throws Exception {
        Path f = dir.resolve("f");
        byte[] data = NativeTest.writeRandom(f, (int) (2 * MIB + 1000));
        ChunkCache cache = new ChunkCache(64 * MIB, 64 * 1024, 8 * MIB);
        FileEntry e = entry(f);
        assertThat(cache.covers(e)).isTrue();
        long off = MIB - 10, len = MIB + 5;
        List<ChunkCache.Chunk> chunks = cache.acquire(e, off, len);
        assertThat(chunks).hasSize(2);
        ByteBuffer a = chunks.get(0).view(off, MIB - off), b = chunks.get(1).view(MIB, off + len - MIB);
        byte[] joined = new byte[(int) len];
        System.arraycopy(bytes(a), 0, joined, 0, a.remaining());
        System.arraycopy(bytes(b), 0, joined, a.remaining(), b.remaining());
        assertThat(joined).isEqualTo(Arrays.copyOfRange(data, (int) off, (int) (off + len)));
        assertThat(cache.misses.sum()).isEqualTo(2);
        chunks.forEach(ChunkCache.Chunk::release);
        cache.acquire(e, 0, 10).forEach(ChunkCache.Chunk::release);
        assertThat(cache.hits.sum()).isEqualTo(1);
        cache.clear();
        assertThat(cache.bytesMapped()).isZero();
    }

    @Test
    void staysWithinBudgetAndUnmapsOnlyWhenTheLastSenderIsDone() throws Exception {
        ChunkCache cache = new ChunkCache(4 * MIB, 0, 4 * MIB);
        Path first = dir.resolve("first");
        NativeTest.writeRandom(first, (int) MIB);
        ChunkCache.Chunk held = cache.acquire(entry(first), 0, MIB).getFirst(); // "a response still sending"
        for (int i = 0; i < 12; i++) {
            Path f = dir.resolve("f" + i);
            NativeTest.writeRandom(f, (int) MIB);
            cache.acquire(entry(f), 0, MIB).forEach(ChunkCache.Chunk::release);
            assertThat(cache.bytesMapped()).isLessThanOrEqualTo(4 * MIB);
        }
        assertThat(cache.evictions.sum()).isPositive();
        // Evicted from the cache, but still mapped and readable for its holder.
        assertThat(held.isMapped()).isTrue();
        assertThat(bytes(held.view(0, 4096))).isEqualTo(Arrays.copyOf(Files.readAllBytes(first), 4096));
        held.release();
        assertThat(held.isMapped()).isFalse();
    }

    @Test
    void residencyIsTruthfulAndTouchMakesResident() throws Exception {
        Path f = dir.resolve("cold");
        NativeTest.writeRandom(f, (int) MIB);
        ChunkCache cache = new ChunkCache(8 * MIB, 0, 8 * MIB);
        flash.testing.ColdFile.dropPages(f);
        ChunkCache.Chunk c = cache.acquire(entry(f), 0, MIB).getFirst();
        ByteBuffer view = c.view(0, MIB);
        int epoch = ResidencyHint.epoch();
        assertThat(c.resident(view)).isFalse(); // mincore starts no readahead: no retry needed
        assertThat(ResidencyHint.epoch()).as("the failed test withdrew every residency hint").isNotEqualTo(epoch);
        c.touch(view);
        assertThat(c.resident(view)).isTrue();
        c.release();
        cache.clear();
    }

    @Test
    void truncatedUnderTheMappingFailsTheTouchNotTheProcess() throws Exception {
        Path f = dir.resolve("shrinks");
        NativeTest.writeRandom(f, (int) MIB);
        ChunkCache cache = new ChunkCache(8 * MIB, 0, 8 * MIB);
        ChunkCache.Chunk c = cache.acquire(entry(f), 0, MIB).getFirst();
        try (FileChannel w = FileChannel.open(f, StandardOpenOption.WRITE)) {
            w.truncate(0);
        }
        ByteBuffer view = c.view(0, MIB);
        assertThat(c.resident(view)).isFalse();
        assertThatThrownBy(() -> c.touch(view)).isInstanceOf(IOException.class).hasMessageContaining("truncated");
        c.release();
        cache.clear();
    }

    @Test
    void touchIsABlockingOperation() throws Exception {
        assumeTrue(DiskGuard.enabled(), "run with -Dflash.invariants=true");
        Path f = dir.resolve("g");
        NativeTest.writeRandom(f, (int) MIB);
        ChunkCache cache = new ChunkCache(8 * MIB, 0, 8 * MIB);
        ChunkCache.Chunk c = cache.acquire(entry(f), 0, MIB).getFirst();
        Throwable[] thrown = new Throwable[1];
        Thread t = Thread.ofPlatform().start(() -> {
            DiskGuard.forbidBlockingOnThisThread();
            try {
                c.touch(c.view(0, MIB));
            } catch (Throwable e) {
                thrown[0] = e;
            }
        });
        t.join();
        assertThat(thrown[0]).isInstanceOf(DiskGuard.BlockingOnLoopError.class);
        c.release();
        cache.clear();
    }
}
