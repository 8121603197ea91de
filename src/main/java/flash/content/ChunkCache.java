package flash.content;

import flash.sys.DiskGuard;
import flash.sys.Native;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Flash's mapped-file cache: file data mapped read-only in {@value #CHUNK_SIZE_MIB} MiB chunks, least recently
 * used chunks unmapped past the byte budget. Responses send straight from the mapping (the head and the body
 * leave in one gathering writev); under AMPED the loop asks {@link Chunk#resident} first and a helper faults the
 * pages in ({@link Chunk#touch}) when they are not.
 *
 * <p><b>Which files.</b> Since issue #11 this cache serves only connections that cannot or should not sendfile
 * (TLS, blocking sockets: {@code flash.pipeline.BodyPath}); on the event loops' plain sockets every body above
 * 64 KiB goes by sendfile (docs/performance.md sections 13 and 33). The rest of this paragraph is the measurement
 * that set its bounds.
 * Bodies up to {@code smallFileMax} (64 KiB) are copied into memory by the translator (no
 * mapping, no SIGBUS risk, always resident, no residency test, no per-chunk bookkeeping); larger bodies up to an eighth
 * of this cache's budget (24 MiB by default) go through this cache; still larger ones go by sendfile, so that one big
 * download cannot flush the working set the LRU keeps. Measured as server CPU per response (the machine was shared,
 * load ~12 on 2 cores, so CPU time, not req/s; wrk -t1 -c8, hot files, amped, 1 loop, two rounds; commands in
 * docs/amped.md), in microseconds:
 * <pre>
 *   size     in memory   mapped      sendfile (--no-file-cache)
 *   16 KiB   35, 93      100, 178    -
 *   64 KiB   39, 45      45, 80      -
 *   256 KiB  -           201, 192    482, 399
 *   1 MiB    -           332, 497    556, 576
 *   4 MiB    -           1166, 1080  2055, 1488
 *   16 MiB   -           5360, 4251  6168, 7865
 * </pre>
 * Mapping wins at every size measured: one writev carries head and body (sendfile needs writev(head) plus, on this
 * JDK, copy_file_range failing with EINVAL before each sendfile), and the AMPED residency test is one mincore on a
 * live mapping (the sendfile path now does the same on a whole-file mapping of the handle, see
 * {@link FileHandle#mappedLength}; these figures predate that). The upper limit is about cache pollution, not speed.
 *
 * <p><b>Lifetime.</b> Each chunk has its own shared {@link Arena}; the cache holds one reference, every response
 * sending from it one more; the arena is closed (munmap) when the last reference goes, so eviction never pulls
 * memory from under a response still sending it. A chunk is keyed by the file's identity, size and mtime, so a
 * changed or replaced file (seen through {@link PathCache} revalidation) maps fresh chunks while old ones age out.
 *
 * <p><b>Residency.</b> mincore on the live mapping costs one syscall and no copy, but the kernel reports every page
 * resident for a file the process neither owns nor may write ({@link Residency}); for those files the test is
 * preadv2(RWF_NOWAIT) on the descriptor, which is truthful for any reader.
 */
public final class ChunkCache {
    static final int CHUNK_SIZE_MIB = 1;
    public static final long CHUNK_SIZE = (long) CHUNK_SIZE_MIB << 20;
    /** Files larger than this fraction of the budget are not mapped: they would evict everyone else's chunks. */
    public static final int MAP_MAX_FRACTION = 8;
    private static final long PAGE = Native.pageSize();

    private record Key(Object fileKey, long size, long mtime, long index) {}

    private final Map<Key, Chunk> map = new ConcurrentHashMap<>();
    private final long maxBytes;
    private final long minSize;
    private final long mapMax;
    private final AtomicLong bytes = new AtomicLong();
    public final LongAdder hits = new LongAdder();
    public final LongAdder misses = new LongAdder();
    public final LongAdder evictions = new LongAdder();

    /**
     * @param maxBytes budget of mapped bytes
     * @param minSize  files of at most this size are not mapped (they are in memory already)
     * @param mapMax   files larger than this are not mapped (sendfile streams them without pinning the cache);
     *                 normally {@code maxBytes / MAP_MAX_FRACTION}
     */
    public ChunkCache(long maxBytes, long minSize, long mapMax) {
        this.maxBytes = maxBytes;
        this.minSize = minSize;
        this.mapMax = mapMax;
    }

    /** Whether {@code e}'s body is sent from this cache. */
    public boolean covers(FileEntry e) {
        return e.handle() != null && e.fileKey() != null && e.size() > minSize && e.size() <= mapMax
                && e.size() <= maxBytes;
    }

    /**
     * The chunks covering [offset, offset+length) of a covered entry, each with one reference the caller owns
     * (released by whoever sends them), or null if mapping failed (the caller falls back to sendfile). Maps missing
     * chunks: an mmap, which reads no data (pages fault in later, on a helper under AMPED), so it may run on a loop.
     */
    public List<Chunk> acquire(FileEntry e, long offset, long length) {
        List<Chunk> out = new ArrayList<>(2);
        for (long i = offset / CHUNK_SIZE, last = (offset + length - 1) / CHUNK_SIZE; i <= last; i++) {
            Chunk c = acquire(e, i);
            if (c == null) {
                out.forEach(Chunk::release);
                return null;
            }
            out.add(c);
        }
        return out;
    }

    private Chunk acquire(FileEntry e, long index) {
        Key key = new Key(e.fileKey(), e.size(), e.mtimeMillis(), index);
        long now = System.nanoTime();
        Chunk c = map.get(key);
        if (c != null && c.retain()) {
            c.lastUsed = now;
            hits.increment();
            return c;
        }
        misses.increment();
        Chunk fresh;
        try {
            fresh = map(e, key, index);
        } catch (IOException | RuntimeException ex) {
            return null; // e.g. the file shrank below this chunk since it was opened
        }
        fresh.retain(); // the caller's reference; the cache holds the first
        Chunk raced = map.putIfAbsent(key, fresh);
        if (raced != null) {
            // another loop mapped it first: use theirs if still live, else replace the dead one with ours
            if (raced.retain()) {
                fresh.release();
                fresh.release();
                raced.lastUsed = now;
                return raced;
            }
            if (!map.replace(key, raced, fresh)) {
                fresh.release(); // lost a second race: serve from our mapping uncached, unmapped when sent
                return fresh;
            }
        }
        bytes.addAndGet(fresh.length);
        if (bytes.get() > maxBytes) evict();
        return fresh;
    }

    private Chunk map(FileEntry e, Key key, long index) throws IOException {
        long off = index * CHUNK_SIZE;
        long len = Math.min(CHUNK_SIZE, e.size() - off);
        Arena arena = Arena.ofShared();
        try {
            FileChannel ch = e.handle().channel();
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, off, len, arena);
            FileHandle probe = null;
            if (!e.mincoreTruthful()) {
                if (!e.handle().retain()) throw new IOException("file closed");
                probe = e.handle();
            }
            return new Chunk(this, key, arena, seg, off, len, probe);
        } catch (IOException | RuntimeException ex) {
            arena.close();
            throw ex;
        }
    }

    /** Approximate LRU: unmap the least recently used eighth (at least one), amortising the scan. */
    private synchronized void evict() {
        if (bytes.get() <= maxBytes) return;
        List<Chunk> all = new ArrayList<>(map.values());
        all.sort((a, b) -> Long.compare(a.lastUsed, b.lastUsed));
        int target = Math.max(1, all.size() / 8), removed = 0;
        for (Chunk c : all) {
            if (removed >= target && bytes.get() <= maxBytes) break;
            if (map.remove(c.key, c)) {
                bytes.addAndGet(-c.length);
                evictions.increment();
                c.release();
                removed++;
            }
        }
    }

    public long bytesMapped() { return bytes.get(); }
    public int chunks() { return map.size(); }

    /** Drops every chunk (shutdown); chunks still sending unmap when their responses end. */
    public void clear() {
        for (Chunk c : new ArrayList<>(map.values())) {
            if (map.remove(c.key, c)) {
                bytes.addAndGet(-c.length);
                c.release();
            }
        }
    }

    /** One mapped piece of a file, reference counted. */
    public static final class Chunk {
        private final Key key;
        private final Arena arena;
        private final MemorySegment segment;
        private final long fileOffset;
        private final long length;
        private final FileHandle probe; // non-null when mincore cannot be trusted for this file
        private final RefCount refs = new RefCount();
        private volatile long lastUsed = System.nanoTime();

        private Chunk(ChunkCache owner, Key key, Arena arena, MemorySegment segment, long fileOffset, long length, FileHandle probe) {
            this.key = key;
            this.arena = arena;
            this.segment = segment;
            this.fileOffset = fileOffset;
            this.length = length;
            this.probe = probe;
        }

        public long fileOffset() { return fileOffset; }
        public long length() { return length; }

        boolean retain() { return refs.retain(); }

        /** Drops one reference; the last one unmaps. */
        public void release() {
            if (refs.drop()) {
                arena.close();
                if (probe != null) probe.release();
            }
        }

        public boolean isMapped() { return refs.live(); }

        /** A fresh buffer over the file range [from, from+len) (file offsets, within this chunk). */
        public ByteBuffer view(long from, long len) {
            return segment.asSlice(from - fileOffset, len).asByteBuffer();
        }

        /** Whether the part of {@code view} still to send is in memory. Non-blocking: safe on a loop. */
        public boolean resident(ByteBuffer view) {
            if (!view.hasRemaining()) return true;
            MemorySegment rest = MemorySegment.ofBuffer(view);
            long rel = rest.address() - segment.address();
            if (probe != null) {
                return Residency.preadv2(Native.fd(probe.channel()), fileOffset + rel, rest.byteSize());
            }
            long start = rel - rel % PAGE, len = rel + rest.byteSize() - start;
            int pages = (int) ((len + PAGE - 1) / PAGE);
            MemorySegment vec = VEC.get();
            if (pages > vec.byteSize()) return false;
            if (Native.mincore(segment.asSlice(start, len), len, vec) != 0) return false;
            for (int i = 0; i < pages; i++) if ((vec.get(ValueLayout.JAVA_BYTE, i) & 1) == 0) return Residency.missed();
            return true;
        }

        /**
         * Blocking (a helper's job): faults in the pages of the part of {@code view} still to send, the way the
         * paper's helpers did. A file truncated under the mapping raises SIGBUS, which Java reports as an
         * InternalError: turned into an IOException here so it fails this one request.
         */
        public void touch(ByteBuffer view) throws IOException {
            DiskGuard.check("fault in mapped file data");
            if (!view.hasRemaining()) return;
            MemorySegment rest = MemorySegment.ofBuffer(view);
            try {
                long sum = 0;
                for (long p = 0; p < rest.byteSize(); p += PAGE) sum += rest.get(ValueLayout.JAVA_BYTE, p);
                sink = sum;
            } catch (InternalError e) {
                throw new IOException("file truncated under its mapping: " + e.getMessage(), e);
            }
        }

        private static volatile long sink; // keeps the touching loop from being optimised away

        private static final ThreadLocal<MemorySegment> VEC =
                ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CHUNK_SIZE / PAGE + 1));
    }
}
