package flash.content;

import flash.sys.Native;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.util.concurrent.atomic.LongAdder;

/**
 * Tells, without blocking, whether a byte range of an open file is in the page cache (AMPED's residency test).
 *
 * <p>Choice, measured on Linux 6.18 (root and {@code nobody}, root-owned 0644 file): mincore lies (all resident)
 * for a file the caller neither owns nor may write; cachestat refuses it (EPERM) and, worse, counts pages whose read
 * is still in flight (WILLNEED on a cold file: cachestat 2048 pages, mincore-uptodate 256-512), so it can block.
 * preadv2(RWF_NOWAIT) is truthful for any reader, in-flight pages included, hence the default. Hot-file cost per
 * check (FFM, this VM): 1 page 0.8 us, 64 KiB 4 us, 1 MiB 45 us; 1-byte-per-page reads cost 0.75 us per page,
 * mincore with a temporary mapping 6-27 us, cachestat 0.6-3 us. A miss starts readahead of the probed range.
 *
 * <p>For an open {@link FileHandle} whose file mincore is truthful for (this process owns or may write it), the
 * default test asks mincore on the handle's long-lived whole-file mapping instead ({@link #isResidentFile(FileHandle,
 * long, long)}): one syscall, no copy, no mmap per check. mincore reports "uptodate", so in-flight pages count as
 * not resident (sound), and it starts no readahead (the helper's read does). See docs/performance.md section 7.
 */
public final class Residency {
    /** How residency is tested. Every test answers false when it cannot tell: a false "no" only costs a helper trip. */
    public enum Test {
        /**
         * cachestat(2): one syscall, no copy, but NOT sound: it counts pages whose read I/O is still in flight, so a
         * "yes" can block sendfile. Owner, writer or CAP_FOWNER only (else EPERM). Kept for measurements.
         */
        CACHESTAT,
        /**
         * mincore(2) on a temporary mapping of the range (mmap+mincore+munmap): checks "uptodate", but for a file the
         * caller neither owns nor may write (and lacks CAP_FOWNER) the kernel reports every page resident.
         */
        MINCORE,
        /** preadv2(RWF_NOWAIT) of the range into a scratch buffer: truthful for any readable file. */
        PREADV2_NOWAIT,
        /** No native layer: never claims residency. */
        UNAVAILABLE
    }

    private static final long PAGE = Native.pageSize();

    /**
     * {@code -Dflash.residency=preadv2}: test file regions with the copying preadv2 probe even where mincore on the
     * handle's mapping is truthful (for A/B runs; docs/performance.md section 13 has the per-response counts).
     */
    static final boolean MAPPED_MINCORE = !"preadv2".equals(System.getProperty("flash.residency"));

    private final Test test;
    /** Checks answered by mincore on a handle's mapping, and by {@link #test} (the copying probe by default). */
    public final LongAdder mincoreChecks = new LongAdder(), probeChecks = new LongAdder();
    /** Regions of watched files sent on a whole-file test's hint instead of a test ({@link FileHandle#hinted}). */
    public final LongAdder hintedChecks = new LongAdder();

    private Residency(Test test) { this.test = test; }

    /** A residency checker that always uses {@code test}. */
    public static Residency of(Test test) { return new Residency(test); }

    /** The cheapest sound test this process can use: preadv2 RWF_NOWAIT, or UNAVAILABLE without native/fd access. */
    public static Residency detect() {
        if (!Native.available() || !Native.fdAccess()) return new Residency(Test.UNAVAILABLE);
        return new Residency(Test.PREADV2_NOWAIT);
    }

    public Test test() { return test; }

    /**
     * Whether every page of [offset, offset+length) is cached. The range must lie within the file (pages past EOF
     * are never cached). Non-blocking: safe on an event-loop thread.
     */
    public boolean isResident(FileChannel ch, long offset, long length) {
        return isResident(test, ch, offset, length);
    }

    /**
     * Whether every page of [offset, offset+length) of an open file is cached: mincore on the handle's whole-file
     * mapping when that is truthful and the range lies inside it, else this checker's test. The caller holds a
     * reference to {@code file}. Non-blocking: safe on an event-loop thread.
     */
    public boolean isResidentFile(FileHandle file, long offset, long length) {
        if (length <= 0) return true;
        if (test == Test.PREADV2_NOWAIT && MAPPED_MINCORE) {
            long mapped = file.mappedLength();
            if (mapped > 0 && offset >= 0 && offset + length <= mapped) {
                if (file.hinted(offset, length)) {
                    hintedChecks.increment();
                    return true;
                }
                mincoreChecks.increment();
                return file.residentRegion(offset, length);
            }
        }
        probeChecks.increment();
        return isResident(test, file.channel(), offset, length);
    }

    /** Per-thread mincore vector: one byte per page of a page-aligned 1 MiB window (padded). */
    private static final long WINDOW = 1L << 20;
    private static final ThreadLocal<MemorySegment> VEC =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(WINDOW / PAGE + 8, 8));
    private static final long LOW_BITS = 0x0101010101010101L;

    /**
     * mincore over the page-aligned cover of [offset, offset+length) of a live mapping at {@code mapAddress} of the file
     * from offset 0 ({@link FileHandle}'s, which its caller keeps alive).
     */
    static boolean mincoreAt(long mapAddress, long offset, long length) {
        return mincoreAt(mapAddress, offset, length, true);
    }

    /**
     * As {@link #mincoreAt(long, long, long)}; with {@code withdraw} false a page not in memory withdraws no residency
     * hint: for a test nothing waits on (the rest of a file whose sent region was found in memory, FileHandle).
     */
    static boolean mincoreAt(long mapAddress, long offset, long length, boolean withdraw) {
        MemorySegment vec = VEC.get();
        long vecAddress = vec.address();
        for (long p = offset, end = offset + length; p < end; ) {
            long start = p - p % PAGE, stop = Math.min(end, start + WINDOW), len = stop - start;
            int n = (int) ((len + PAGE - 1) / PAGE);
            if (Native.mincoreAt(mapAddress + start, len, vecAddress) != 0) return false;
            int i = 0;
            for (; i + 8 <= n; i += 8) {
                if ((vec.get(ValueLayout.JAVA_LONG_UNALIGNED, i) & LOW_BITS) != LOW_BITS) return withdraw && missed();
            }
            for (; i < n; i++) if ((vec.get(ValueLayout.JAVA_BYTE, i) & 1) == 0) return withdraw && missed();
            p = stop;
        }
        return true;
    }

    /** The pure test, no counters; a "no" withdraws every residency hint ({@link ResidencyHint}). */
    public static boolean isResident(Test test, FileChannel ch, long offset, long length) {
        if (length <= 0) return true;
        if (test == Test.UNAVAILABLE) return false; // cannot tell: no sign of eviction, so no hint is withdrawn
        boolean resident = switch (test) {
            case CACHESTAT -> cachestat(Native.fd(ch), offset, length);
            case MINCORE -> mincore(ch, offset, length);
            case PREADV2_NOWAIT -> preadv2(Native.fd(ch), offset, length); // a "no" was counted there
            case UNAVAILABLE -> false;
        };
        return resident || (test != Test.PREADV2_NOWAIT && missed());
    }

    /** A page was found not in memory: false, and no residency hint made before counts ({@link ResidencyHint}). */
    static boolean missed() {
        ResidencyHint.notResident();
        return false;
    }

    static long pages(long offset, long length) { return (offset + length - 1) / PAGE - offset / PAGE + 1; }

    static boolean cachestat(int fd, long offset, long length) {
        if (fd < 0) return false;
        return Native.cachestat(fd, offset, length) == pages(offset, length);
    }

    static boolean mincore(FileChannel ch, long offset, long length) {
        long start = offset - offset % PAGE, len = offset + length - start;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment map = ch.map(FileChannel.MapMode.READ_ONLY, start, len, arena);
            int n = (int) pages(offset, length);
            MemorySegment vec = arena.allocate(n);
            if (Native.mincore(map, len, vec) != 0) return false;
            for (int i = 0; i < n; i++) if ((vec.get(ValueLayout.JAVA_BYTE, i) & 1) == 0) return false;
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Per-thread sink for probe reads: 64 KiB stays in L2, where copying beats one syscall per page. */
    private static final long SCRATCH = 64 * 1024;
    private static final ThreadLocal<MemorySegment> SINK =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(SCRATCH, PAGE));

    /** RWF_NOWAIT reads of the range in 64 KiB pieces; any EAGAIN or short read means not (all) resident. */
    static boolean preadv2(int fd, long offset, long length) {
        if (fd < 0) return false;
        MemorySegment sink = SINK.get();
        for (long p = offset, end = offset + length; p < end; ) {
            long n = Math.min(SCRATCH, end - p);
            if (Native.preadv2Nowait(fd, n == SCRATCH ? sink : sink.asSlice(0, n), p) != n) return missed();
            p += n;
        }
        return true;
    }
}
