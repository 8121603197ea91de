package flash.content;

import java.io.IOException;
import java.nio.channels.FileChannel;

/**
 * An open file shared by the responses that send from it (positional reads and transferTo need no lock).
 * Reference counted so that a cache can drop it while a transfer is still running: the descriptor is closed
 * when the last holder releases it, never earlier and never leaked. The count is this object's own field
 * ({@link RefCount}): a send from a kept descriptor takes a reference right after reading the mapping's fields, and a
 * count in an object of its own was one more line no recent request had touched (docs/performance.md section 40).
 *
 * <p>When mincore tells the truth for the file, the handle also keeps one read-only mapping of the whole file, made on
 * first use, for AMPED's residency test ({@link #resident(long, long)}): mapping only reserves address space and reads
 * nothing, and nothing ever touches it. It is made by mmap itself, outside any memory session, and unmapped with the
 * descriptor: a session per handle cost each test two atomic updates of a line no recent request had touched, and
 * each close of a shared one a handshake with every thread of the JVM (docs/performance.md section 36).
 */
public final class FileHandle extends RefCount {
    private final FileChannel channel;
    private final int fd; // looked up once: two method-handle calls a lookup, per sendfile otherwise
    private final boolean mincoreTruthful;
    private volatile long mapAddress;       // whole file at first use; 0 until then and after the release
    private long mapLength;                 // written before mapAddress is published, read after it
    private boolean mappingFailed;          // guarded by this: never retry a failed map
    // The last whole-file test that found every page in memory (ResidencyHint). Plain fields, written and read by
    // whichever loop sends: a stale or mismatched pair only makes one more test, or trusts an older success.
    private long residentAt;
    private int residentEpoch;
    // The watch that drops this file's cached entry at any change of it, when that entry was cached with every name
    // watched (PathCache.put); null otherwise. While it watches, the entry's size is the file's, so a whole-file test
    // may stand for the tests of the file's later regions ({@link #hinted}).
    private volatile FileWatch.Registration vouching;

    /**
     * Residency mappings alive in this process, and the most it may hold: half of {@code vm.max_map_count} (65,530 by
     * default), since unheld entries' kept files map one each (issue #11) and a process past the kernel's count fails
     * every mmap, the JVM's own included. Past the cap a handle simply has no mapping and its caller tests otherwise.
     */
    private static final java.util.concurrent.atomic.AtomicInteger MAPPINGS = new java.util.concurrent.atomic.AtomicInteger();
    private static final int MAX_MAPPINGS = maxMappings();

    private static int maxMappings() {
        try {
            // A line, not readString: an integer sysctl read in pieces ends after its first byte (the kernel's
            // proc_dointvec answers nothing past offset 0), and readString of a size-0 file reads in pieces ("6").
            String v = java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/sys/vm/max_map_count")).getFirst().trim();
            return (int) Math.min(Integer.MAX_VALUE, Long.parseLong(v) / 2);
        } catch (IOException | RuntimeException e) {
            return 32_765;
        }
    }

    /** Residency mappings alive in this process (the status page, tests). */
    public static int mappings() { return MAPPINGS.get(); }

    public FileHandle(FileChannel channel) { this(channel, false); }

    /** @param mincoreTruthful this process owns or may write the file, so mincore on a mapping of it tells the truth */
    public FileHandle(FileChannel channel, boolean mincoreTruthful) {
        this.channel = channel;
        this.mincoreTruthful = mincoreTruthful;
        this.fd = flash.sys.Native.fd(channel);
    }

    public FileChannel channel() { return channel; }

    /** The channel's descriptor number, or -1 where it cannot be known; valid while a reference is held. */
    public int fd() { return fd; }

    public boolean mincoreTruthful() { return mincoreTruthful; }

    /**
     * The bytes of the file its residency mapping covers (the whole file as long as it was at the first call), making
     * the mapping then; 0 when mincore would lie for this file, mapping failed, or the handle is closed. The caller
     * holds a reference. One mmap on first call: safe on a loop.
     */
    public long mappedLength() {
        if (mapAddress != 0) return mapLength;
        if (!mincoreTruthful) return 0;
        synchronized (this) {
            if (mapAddress != 0 || mappingFailed || !live()) return mapAddress != 0 ? mapLength : 0;
            if (MAPPINGS.incrementAndGet() > MAX_MAPPINGS) {
                MAPPINGS.decrementAndGet(); // no room now; a later call may find some
                return 0;
            }
            long size, address = 0;
            try {
                size = channel.size();
                address = size > 0 ? flash.sys.Native.mapReadOnly(fd, size) : 0;
            } catch (IOException | RuntimeException e) {
                size = 0;
            }
            if (address == 0) {
                MAPPINGS.decrementAndGet();
                mappingFailed = true; // the caller falls back to reading probes
                return 0;
            }
            mapLength = size;
            mapAddress = address;
            return size;
        }
    }

    /**
     * Whether every page of [offset, offset+length) is in memory, by mincore on the residency mapping; false when there
     * is none or the range is not inside it. The caller holds a reference (so the mapping stays).
     */
    boolean resident(long offset, long length) { return resident(offset, length, true); }

    /** As {@link #resident(long, long)}; with {@code withdraw} false a "no" withdraws no hint (Residency.mincoreAt). */
    private boolean resident(long offset, long length, boolean withdraw) {
        long address = mapAddress;
        if (address == 0 || offset < 0 || offset + length > mapLength) return false;
        return Residency.mincoreAt(address, offset, length, withdraw);
    }

    /**
     * As {@link #resident} for the whole file of {@code size} bytes (the size its caller just checked, by fstat or a
     * watch), where a test of it that succeeded within {@link ResidencyHint}'s window, with no failed test anywhere
     * since, answers without another. Only for callers that find a changed file some other way: the test would also
     * have found a file shrunk under a stale size (its lost pages are not in memory), and a hint does not.
     */
    boolean residentWhole(long size) {
        long now = flash.sys.LoopClock.nanoTime();
        if (size <= mapLength && ResidencyHint.holds(residentAt, residentEpoch, now)) return true;
        int epoch = ResidencyHint.epoch(); // before the test: a failure meanwhile leaves this hint stale
        if (!resident(0, size)) return false;
        if (size == mapLength) {
            residentEpoch = epoch;
            residentAt = now;
        }
        return true;
    }

    /**
     * A file of at most this many bytes whose cached size a watch vouches for is tested whole at the test of a region
     * that starts it, and that success is remembered ({@link ResidencyHint}) for its later sends and regions. A body up
     * to 1 MiB is one test window already ({@code flash.pipeline.Outgoing.SENDFILE_CHUNK}, 256 mincore pages); a
     * larger one stays tested window by window every time, since one test of a long video would hold the loop for
     * milliseconds (docs/performance.md section 46). {@code -Dflash.wholeTestMaxBytes=BYTES} for A/B runs; 0 turns
     * these hints off.
     */
    static final long WHOLE_TEST_MAX = Long.getLong("flash.wholeTestMaxBytes", 1 << 20);

    /** The watch that will drop this file's cached entry at any change of it (see {@link #hinted}). */
    void vouchedFor(FileWatch.Registration watch) { vouching = watch; }

    /**
     * Whether [offset, offset+length) may be sent without a test: a whole-file test of this file, of at most
     * {@link #WHOLE_TEST_MAX} bytes, succeeded within {@link ResidencyHint}'s window with no failed test anywhere
     * since, the range lies within the mapping, and the watch still vouches for the file's cached size. Without the
     * watch the test must run every time: it is also what finds a file truncated under a stale cached size before any
     * byte leaves (a 500, not a closed connection). With it, a truncation in place in the moment before the watch
     * thread handles its event (or one the watch never sees: a write through a hard link in an unwatched directory)
     * ends such a response short instead, as a send from a watched kept descriptor does ({@code UnheldRead.Check}).
     */
    boolean hinted(long offset, long length) {
        return vouched() && offset + length <= mapLength
                && ResidencyHint.holds(residentAt, residentEpoch, flash.sys.LoopClock.nanoTime());
    }

    /** Whether a watch still vouches for this file's cached size, and the file is small enough to be tested whole. */
    private boolean vouched() {
        FileWatch.Registration w = vouching;
        return w != null && mapLength <= WHOLE_TEST_MAX && w.watching();
    }

    /**
     * As {@link #resident}, for a region of a body about to be sent; a region at offset 0 of a file {@link #vouched}
     * for is tested, then the rest of the file, and the success of both becomes the hint {@link #hinted} reads. Only
     * the region's own test decides the send, and only its failure withdraws other hints: the rest of the file not in
     * memory (a range of its first bytes, a file read in part) says nothing about the page cache under pressure.
     */
    boolean residentRegion(long offset, long length) {
        long now = flash.sys.LoopClock.nanoTime();
        int epoch = ResidencyHint.epoch(); // before the test: a failure meanwhile leaves this hint stale
        if (!resident(offset, length)) return false;
        if (offset == 0 && vouched() && (length >= mapLength || resident(length, mapLength - length, false))) {
            residentEpoch = epoch;
            residentAt = now;
        }
        return true;
    }

    /** Takes one more reference; false if the handle is already closed (the caller must not use it). */
    @Override public boolean retain() { return super.retain(); }

    public void release() {
        if (drop()) {
            synchronized (this) {
                long address = mapAddress;
                if (address != 0) {
                    mapAddress = 0;
                    flash.sys.Native.unmap(address, mapLength); // no holder is left to be testing it
                    MAPPINGS.decrementAndGet();
                }
                mappingFailed = true;
            }
            try {
                channel.close();
            } catch (IOException ignored) {
                // closing a read-only descriptor cannot lose data
            }
        }
    }

    public boolean isOpen() { return live(); }
}
