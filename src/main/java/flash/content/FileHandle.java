package flash.content;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;

/**
 * An open file shared by the responses that send from it (positional reads and transferTo need no lock).
 * Reference counted so that a cache can drop it while a transfer is still running: the descriptor is closed
 * when the last holder releases it, never earlier and never leaked.
 *
 * <p>When mincore tells the truth for the file, the handle also lends one read-only mapping of the whole file, made on
 * first use, for AMPED's residency test ({@link Residency#isResidentFile(FileHandle, long, long)}): mapping only reserves
 * address space and reads nothing, and nothing in Java ever touches it. It is unmapped with the descriptor.
 */
public final class FileHandle {
    private final FileChannel channel;
    private final int fd; // looked up once: two method-handle calls a lookup, per sendfile otherwise
    private final boolean mincoreTruthful;
    private final RefCount refs = new RefCount();
    private volatile MemorySegment mapping; // whole file at first use; null until then
    private Arena mappingArena;             // guarded by this; null until mapped
    private boolean mappingFailed;          // guarded by this: never retry a failed map

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
     * A read-only mapping of the whole file (as long as it was at first call) for mincore, or null when mincore would
     * lie for this file, mapping failed, or the handle is closed. The caller must hold a reference while using it and
     * must never read the memory (a truncated file would raise SIGBUS). One mmap on first call: safe on a loop.
     */
    public MemorySegment residencyMapping() {
        MemorySegment m = mapping;
        if (m != null || !mincoreTruthful) return m;
        synchronized (this) {
            if (mapping != null || mappingFailed || !refs.live()) return mapping;
            if (MAPPINGS.incrementAndGet() > MAX_MAPPINGS) {
                MAPPINGS.decrementAndGet(); // no room now; a later call may find some
                return null;
            }
            Arena arena = Arena.ofShared();
            try {
                long size = channel.size();
                if (size == 0) throw new IOException("empty file");
                mapping = channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
                mappingArena = arena;
            } catch (IOException | RuntimeException e) {
                arena.close();
                MAPPINGS.decrementAndGet();
                mappingFailed = true; // the caller falls back to reading probes
            }
            return mapping;
        }
    }

    /** Takes one more reference; false if the handle is already closed (the caller must not use it). */
    public boolean retain() { return refs.retain(); }

    public void release() {
        if (refs.drop()) {
            synchronized (this) {
                if (mappingArena != null) {
                    mappingArena.close(); // no holder is left to be using it
                    MAPPINGS.decrementAndGet();
                }
                mappingArena = null;
                mapping = null;
                mappingFailed = true;
            }
            try {
                channel.close();
            } catch (IOException ignored) {
                // closing a read-only descriptor cannot lose data
            }
        }
    }

    public boolean isOpen() { return refs.live(); }
}
