package flash.content;

import flash.sys.Native;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Direct memory for a small file's body, read whole on a miss and then held by the path cache (issue #11, "a cheap
 * miss path"). {@code ByteBuffer.allocateDirect} zeroes every byte it hands out ({@code Bits.setMemory} was the top
 * frame of a miss-heavy JFR profile), and then the read overwrites every one of them; it also reserves against the
 * JDK's direct-memory limit and registers a cleaner, per file. Here the bytes come from malloc, not zeroed, as an
 * {@link OwnedBody}: freed (free) when its last reference is released.
 *
 * <p>Why not a heap buffer: a cached body is sent many times for each read, and a socket write of a heap buffer
 * copies it into a temporary direct buffer first; a direct body goes to writev as it is. Why not a pooled slab:
 * a long-lived hot file would pin its whole slab.
 *
 * <p>A body whose references were not all released (a defect) is still freed, once the collector finds no view of
 * it reachable: the cleaner frees a block at most once, whichever comes first. Bytes outstanding here are bounded by
 * {@link #LIMIT}; past it a body is a plain direct buffer, left to the collector. Also the fallback when the native
 * layer is unavailable.
 */
public final class BodyMemory {
    /** Bytes of unzeroed bodies allowed at once: a quarter of the heap (the JDK's direct limit defaults to all of it). */
    static final long LIMIT = Long.getLong("flash.bodyMemoryMax", Runtime.getRuntime().maxMemory() / 4);

    private static final AtomicLong OUTSTANDING = new AtomicLong();
    private static final LongAdder ALLOCATED = new LongAdder();
    private static final LongAdder FALLBACK = new LongAdder();
    private static final ByteBuffer EMPTY = ByteBuffer.allocateDirect(0);

    private BodyMemory() {}

    /**
     * Memory of exactly {@code size} bytes (its buffer at position 0, limit size, contents undefined: fill it whole),
     * with one reference, the caller's.
     */
    static OwnedBody allocate(int size) {
        if (size == 0) return new OwnedBody(EMPTY.duplicate(), null);
        OwnedBody body = Native.available() ? malloced(size, true) : null;
        if (body != null) return body;
        FALLBACK.add(size);
        return new OwnedBody(ByteBuffer.allocateDirect(size), null);
    }

    /**
     * As {@link #allocate} for an event loop, or null: never a direct buffer (past {@link #LIMIT} the JDK's
     * reservation can run the collector and sleep), and no cleaner, whose registration takes a lock that every thread
     * making a file channel or an arena shares (a loop waited 10 ms and more for it, docs/performance.md section 54).
     * So a body leaked by a defect is never freed; {@link #LIMIT} still bounds all the bytes outstanding.
     */
    static OwnedBody allocateWithoutWaiting(int size) {
        if (size == 0) return new OwnedBody(EMPTY.duplicate(), null);
        return Native.available() ? malloced(size, false) : null;
    }

    /**
     * {@code size} bytes from malloc, counted against {@link #LIMIT}, with a cleaner that frees them if no release
     * ever comes ({@code cleaner}) or without one; null past the limit or when malloc or native access fails.
     */
    private static OwnedBody malloced(int size, boolean cleaner) {
        if (OUTSTANDING.addAndGet(size) <= LIMIT) {
            MemorySegment raw = Native.malloc(size);
            if (raw.address() != 0) {
                try {
                    Block block = new Block(raw.address(), size);
                    // The cleanup holds the block, not the buffer: the arena stays collectable once no view is reachable.
                    ByteBuffer b = (cleaner ? raw.reinterpret(size, Arena.ofAuto(), s -> block.free()) : raw.reinterpret(size))
                            .asByteBuffer();
                    ALLOCATED.add(size);
                    return new OwnedBody(b, block);
                } catch (RuntimeException e) { // IllegalCallerException: native access was denied after all
                    Native.free(raw);
                }
            }
        }
        OUTSTANDING.addAndGet(-size);
        return null;
    }

    /** One malloc'd block, freed once: by the last release of its body, or by the cleaner if that never came. */
    static final class Block extends AtomicBoolean { // true once freed
        private final long address;
        private final long size;

        Block(long address, long size) {
            this.address = address;
            this.size = size;
        }

        void free() {
            if (!compareAndSet(false, true)) return;
            OUTSTANDING.addAndGet(-size);
            Native.free(MemorySegment.ofAddress(address));
        }
    }

    /** Bytes allocated here and not yet freed (tests, and the status page). */
    public static long outstanding() { return OUTSTANDING.get(); }

    /** Bytes ever given out as plain direct buffers: past {@link #LIMIT}, or without the native layer (the status page). */
    public static long fallbackBytes() { return FALLBACK.sum(); }

    /** Bytes ever allocated here, freed or not (tests). */
    static long allocated() { return ALLOCATED.sum(); }
}
