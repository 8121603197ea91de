package flash.pipeline;

import flash.content.ChunkCache;
import flash.content.FileHandle;
import flash.content.BodyRef;

import java.nio.ByteBuffer;

/** A piece of a response on its way out: bytes in memory, or a region of an open file (sent with sendfile). */
public sealed interface Segment {
    /**
     * {@code chunk}: the mapped file chunk the buffer views, or null; {@code body}: the counted memory it views (a
     * pooled buffer an unheld entry's body was read into for this request, or bytes the path cache may hold), or
     * null. One reference each, released by {@link Outgoing}.
     */
    record Bytes(ByteBuffer buffer, ChunkCache.Chunk chunk, BodyRef body) implements Segment {
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
