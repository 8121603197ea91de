package flash.content;

import flash.sys.Native;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Direct memory for a small file's body, read whole on a miss and then held by the path cache (issue #11, "a cheap
 * miss path"). {@code ByteBuffer.allocateDirect} zeroes every byte it hands out ({@code Bits.setMemory} was the top
 * frame of a miss-heavy JFR profile), and then the read overwrites every one of them; it also reserves against the
 * JDK's direct-memory limit and registers a cleaner, per file. Here the bytes come from malloc, not zeroed, and are
 * freed (free) by the garbage collector's cleaner once no view of the buffer is reachable: the path cache's entry
 * and every response still sending from it hold views, so the memory lives exactly as long as a direct buffer did.
 *
 * <p>Why not a heap buffer: a cached body is sent many times for each read, and a socket write of a heap buffer
 * copies it into a temporary direct buffer first; a direct body goes to writev as it is. Why not a pooled slab:
 * nothing counts references to a small body (a response holds a view, not a reference), so a slice could never be
 * handed out again safely, and a long-lived hot file would pin its whole slab.
 *
 * <p>Memory freed by a cleaner waits for a collection; the JDK's direct buffers trigger one when their limit is
 * reached, malloc does not. So bytes outstanding here (held, or dropped and not yet collected) are bounded by
 * {@link #LIMIT}; past it a body falls back to {@code allocateDirect}, whose reservation forces that collection.
 * Also the fallback when the native layer is unavailable.
 */
final class BodyMemory {
    /** Bytes of unzeroed bodies allowed at once: a quarter of the heap (the JDK's direct limit defaults to all of it). */
    static final long LIMIT = Long.getLong("flash.bodyMemoryMax", Runtime.getRuntime().maxMemory() / 4);

    private static final AtomicLong OUTSTANDING = new AtomicLong();
    private static final java.util.concurrent.atomic.LongAdder ALLOCATED = new java.util.concurrent.atomic.LongAdder();
    private static final ByteBuffer EMPTY = ByteBuffer.allocateDirect(0);

    private BodyMemory() {}

    /** A direct buffer of exactly {@code size} bytes (position 0, limit size), contents undefined: fill it whole. */
    static ByteBuffer allocate(int size) {
        if (size == 0) return EMPTY.duplicate();
        if (Native.available() && OUTSTANDING.addAndGet(size) <= LIMIT) {
            MemorySegment raw = Native.malloc(size);
            if (raw.address() != 0) {
                try {
                    // The cleanup gets a fresh segment of the same address and size: it holds nothing that would
                    // keep the arena reachable, so the memory goes when the last view of the buffer goes.
                    ByteBuffer b = raw.reinterpret(size, Arena.ofAuto(), BodyMemory::release).asByteBuffer();
                    ALLOCATED.add(size);
                    return b;
                } catch (RuntimeException e) { // IllegalCallerException: native access was denied after all
                    Native.free(raw);
                }
            }
        }
        if (Native.available()) OUTSTANDING.addAndGet(-size);
        return ByteBuffer.allocateDirect(size);
    }

    private static void release(MemorySegment s) {
        OUTSTANDING.addAndGet(-s.byteSize());
        Native.free(s);
    }

    /** Bytes allocated here and not yet freed (tests). */
    static long outstanding() { return OUTSTANDING.get(); }

    /** Bytes ever allocated here, freed or not (tests). */
    static long allocated() { return ALLOCATED.sum(); }
}
