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
    private final boolean mincoreTruthful;
    private final RefCount refs = new RefCount();
    private volatile MemorySegment mapping; // whole file at first use; null until then
    private Arena mappingArena;             // guarded by this; null until mapped
    private boolean mappingFailed;          // guarded by this: never retry a failed map

    public FileHandle(FileChannel channel) { this(channel, false); }

    /** @param mincoreTruthful this process owns or may write the file, so mincore on a mapping of it tells the truth */
    public FileHandle(FileChannel channel, boolean mincoreTruthful) {
        this.channel = channel;
        this.mincoreTruthful = mincoreTruthful;
    }

    public FileChannel channel() { return channel; }

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
            Arena arena = Arena.ofShared();
            try {
                long size = channel.size();
                if (size == 0) throw new IOException("empty file");
                mapping = channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
                mappingArena = arena;
            } catch (IOException | RuntimeException e) {
                arena.close();
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
                if (mappingArena != null) mappingArena.close(); // no holder is left to be using it
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
