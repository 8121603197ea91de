package flash.content;

import java.nio.ByteBuffer;

/**
 * A small file's bytes in memory of their own ({@link BodyMemory}), freed when the last reference is released: the
 * translation's request, the path cache's byte tier while it holds them, and each response still sending them.
 *
 * <p>Why counted and not left to the collector: the byte tier keeps bytes for seconds, so their buffers are promoted,
 * and the serial collector frees what the old generation holds only in a full collection, which a heap growing
 * towards its ceiling postpones for minutes. On a site of 100,000 files the bytes dropped by the byte tier (and those
 * it refused) waited there: 1.6 GB resident for 64 MiB held (docs/performance.md section 42).
 */
final class OwnedBody extends BodyRef {
    private final ByteBuffer buffer;
    private final BodyMemory.Block block; // null: a direct buffer, left to the collector

    OwnedBody(ByteBuffer buffer, BodyMemory.Block block) {
        this.buffer = buffer;
        this.block = block;
    }

    /** The memory, position 0 and limit its size, to fill once before any other holder sees it. */
    ByteBuffer buffer() { return buffer; }

    @Override
    public void release() {
        if (drop() && block != null) block.free();
    }
}
