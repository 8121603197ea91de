package flash.pipeline;

import flash.content.ChunkCache;
import flash.content.FileHandle;

import java.nio.ByteBuffer;

/** A piece of a response on its way out: bytes in memory, or a region of an open file (sent with sendfile). */
public sealed interface Segment {
    /** {@code chunk}: the mapped file chunk the buffer views (one reference, released by {@link Outgoing}), or null. */
    record Bytes(ByteBuffer buffer, ChunkCache.Chunk chunk) implements Segment {
        public Bytes(ByteBuffer buffer) { this(buffer, null); }
    }

    /** {@code handle} is retained for this segment and released by {@link Outgoing} when done or aborted. */
    record FileRegion(FileHandle handle, long offset, long length) implements Segment {}
}
