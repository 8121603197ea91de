package flash.pipeline;

import flash.content.ChunkCache;
import flash.content.FileHandle;
import flash.content.PooledBody;

import java.nio.ByteBuffer;

/** A piece of a response on its way out: bytes in memory, or a region of an open file (sent with sendfile). */
public sealed interface Segment {
    /**
     * {@code chunk}: the mapped file chunk the buffer views, or null; {@code pooled}: the pooled buffer it views (an
     * unheld entry's body read for this request), or null. One reference each, released by {@link Outgoing}.
     */
    record Bytes(ByteBuffer buffer, ChunkCache.Chunk chunk, PooledBody pooled) implements Segment {
        public Bytes(ByteBuffer buffer) { this(buffer, null, null); }
        public Bytes(ByteBuffer buffer, ChunkCache.Chunk chunk) { this(buffer, chunk, null); }
    }

    /**
     * {@code handle} is retained for this segment and released by {@link Outgoing} when done or aborted.
     * {@code resident}: every page of the region was just found in memory (an unheld file's lookup tested it), so
     * AMPED need not test it again before the first send.
     */
    record FileRegion(FileHandle handle, long offset, long length, boolean resident) implements Segment {
        public FileRegion(FileHandle handle, long offset, long length) { this(handle, offset, length, false); }
    }
}
