package flash.pipeline;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.List;

/**
 * The sending state of one response. In-memory segments next to each other go out in one gathering write
 * (header and a small body: one writev); file regions go by transferTo (sendfile), which the kernel caps at
 * 0x7ffff000 bytes per call, so it loops. Works unchanged on blocking and non-blocking sockets.
 */
public final class Outgoing {
    public enum Progress { DONE, BLOCKED, NEEDS_RESIDENCY }

    /** Bytes per sendfile call: large enough to amortise the call, small enough to keep loops fair. */
    static final long SENDFILE_CHUNK = 1L << 20;

    private final Response response;
    private final Segment[] segments;
    private final ByteBuffer[] gather;
    private int index;
    private long fileSent;      // bytes sent of the current file region
    private long bytesWritten;
    private boolean released;

    public Outgoing(Response response, boolean headOnly) {
        this.response = response;
        List<Segment> body = headOnly ? List.of() : response.body();
        this.segments = new Segment[body.size() + 1];
        segments[0] = new Segment.Bytes(response.head());
        for (int i = 0; i < body.size(); i++) segments[i + 1] = body.get(i);
        this.gather = new ByteBuffer[segments.length];
    }

    public Response response() { return response; }
    public long bytesWritten() { return bytesWritten; }

    /** The file region about to be sent, or null; AMPED checks its residency before {@link #writeTo}. */
    public Segment.FileRegion pendingRegion() {
        return index < segments.length && segments[index] instanceof Segment.FileRegion r ? r : null;
    }

    public long pendingRegionOffset() {
        Segment.FileRegion r = pendingRegion();
        return r == null ? -1 : r.offset() + fileSent;
    }

    public long pendingRegionLength() {
        Segment.FileRegion r = pendingRegion();
        return r == null ? 0 : Math.min(SENDFILE_CHUNK, r.length() - fileSent);
    }

    /**
     * Writes as much as the socket takes.
     * @param residentKnown true when the caller has checked that the pending file region's next chunk is in memory
     *                      (or does not care, as blocking architectures don't)
     */
    public Progress writeTo(SocketChannel ch, ResidencyCheck residency) throws IOException {
        while (index < segments.length) {
            Segment s = segments[index];
            if (s instanceof Segment.Bytes) {
                int n = 0;
                for (int i = index; i < segments.length && segments[i] instanceof Segment.Bytes b; i++) gather[n++] = b.buffer();
                long w = n == 1 ? ch.write(gather[0]) : ch.write(gather, 0, n);
                bytesWritten += w;
                while (index < segments.length && segments[index] instanceof Segment.Bytes b && !b.buffer().hasRemaining()) index++;
                if (index < segments.length && segments[index] instanceof Segment.Bytes) return Progress.BLOCKED;
            } else {
                Segment.FileRegion r = (Segment.FileRegion) s;
                if (fileSent == r.length()) {
                    index++;
                    fileSent = 0;
                    continue;
                }
                long pos = r.offset() + fileSent;
                long len = Math.min(SENDFILE_CHUNK, r.length() - fileSent);
                if (residency != null && !residency.resident(r.handle(), pos, len)) return Progress.NEEDS_RESIDENCY;
                long w = r.handle().channel().transferTo(pos, len, ch);
                if (w <= 0) {
                    // Either the socket is full, or the file shrank under us: tell them apart by the file's size.
                    if (r.handle().channel().size() <= pos) throw new TruncatedFileException(r.handle(), pos);
                    if (!ch.isBlocking()) return Progress.BLOCKED;
                    // A virtual thread's socket is non-blocking underneath and sendfile does not park the thread:
                    // it returns 0 when the socket is full, and the driver would spin. A plain write parks until
                    // the socket drains, so send one small piece that way.
                    w = copyParking(r.handle().channel(), pos, len, ch);
                    if (w <= 0) throw new TruncatedFileException(r.handle(), pos);
                }
                fileSent += w;
                bytesWritten += w;
                // Blocking sockets return after each chunk so the driver can push the write deadline forward.
                if (ch.isBlocking() && index < segments.length) return Progress.BLOCKED;
            }
        }
        return Progress.DONE;
    }

    private static long copyParking(java.nio.channels.FileChannel file, long pos, long len, SocketChannel ch) throws IOException {
        ByteBuffer b = ByteBuffer.allocate((int) Math.min(len, 16 * 1024));
        int n = file.read(b, pos);
        if (n <= 0) return n;
        b.flip();
        while (b.hasRemaining()) ch.write(b);
        return n;
    }

    /** Releases the open files this response holds; idempotent. */
    public void release() {
        if (released) return;
        released = true;
        for (Segment s : response.body()) {
            if (s instanceof Segment.FileRegion r) r.handle().release();
        }
    }

    /** Residency test for the next chunk of a file region; AMPED supplies one, other architectures pass null. */
    @FunctionalInterface
    public interface ResidencyCheck {
        boolean resident(flash.content.FileHandle file, long offset, long length);
    }

    /** The file is now shorter than the Content-Length we promised: the only honest move is to close. */
    public static final class TruncatedFileException extends IOException {
        public TruncatedFileException(flash.content.FileHandle file, long pos) {
            super("file truncated while sending (at offset " + pos + ")");
        }
    }
}
