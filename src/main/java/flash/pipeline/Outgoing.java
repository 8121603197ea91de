package flash.pipeline;

import flash.content.Native;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SocketChannel;
import java.util.Arrays;
import java.util.List;

/**
 * The sending state of one response. In-memory segments next to each other go out in one gathering write
 * (header and a small body: one writev); file regions go by sendfile, which the kernel caps at 0x7ffff000
 * bytes per call, so it loops. Works unchanged on blocking and non-blocking sockets.
 *
 * <p>On a non-blocking socket file regions go through a direct {@code sendfile(2)} downcall
 * ({@link Native#sendfile}): {@code FileChannel.transferTo} on this JDK tries {@code copy_file_range} (which
 * fails) before every {@code sendfile}. Blocking sockets (thread per connection, virtual threads) keep
 * {@code transferTo}, which knows how to park; so does everything when the native layer is unavailable.
 *
 * <p>One instance per connection is reused for every response ({@link #reset}), so steady keep-alive serving
 * allocates no sending state.
 */
public final class Outgoing {
    public enum Progress { DONE, BLOCKED, NEEDS_RESIDENCY }

    /** Bytes per sendfile call: large enough to amortise the call, small enough to keep loops fair. */
    static final long SENDFILE_CHUNK = 1L << 20;

    /** Bytes per blocking gathering write, so a slow reader's progress is seen (and the deadline moves) often. */
    static final long BLOCKING_SLICE = 256L << 10;

    /** Direct sendfile unless disabled ({@code -Dflash.sendfile=transferTo}, for A/B measurements). */
    static final boolean DIRECT_SENDFILE = Native.available() && Native.fdAccess()
            && !"transferTo".equals(System.getProperty("flash.sendfile"));

    private Response response;
    private ByteBuffer head;
    private List<Segment> body = List.of();
    private int count;          // segments: 0 is the head, i > 0 is body.get(i - 1)
    private ByteBuffer[] gather = new ByteBuffer[2];
    private int index;
    private long fileSent;      // bytes sent of the current file region
    private long bytesWritten;
    private boolean released = true;
    private SocketChannel fdOwner; // the channel whose fd is cached in socketFd
    private int socketFd = -1;
    private int fileFd = -1;       // fd of the current file region, -1 before its first chunk
    private long residentEnd = -1; // file offset up to which the current region is known to be in memory
    private boolean direct = DIRECT_SENDFILE;
    private ByteBuffer parkBuffer;  // virtual threads only: see copyParking

    /** An empty instance, to be {@link #reset} for each response. */
    public Outgoing() { }

    public Outgoing(Response response, boolean headOnly) { reset(response, headOnly); }

    /** Starts sending {@code response}; the previous one must be done or released. */
    public Outgoing reset(Response response, boolean headOnly) {
        this.response = response;
        this.head = response.head();
        this.body = response.body();
        this.count = headOnly ? 1 : body.size() + 1;
        this.index = 0;
        this.fileSent = 0;
        this.bytesWritten = 0;
        this.fileFd = -1;
        this.residentEnd = -1;
        this.released = false;
        return this;
    }

    public Response response() { return response; }
    public long bytesWritten() { return bytesWritten; }

    private Segment segment(int i) { return i == 0 ? null : body.get(i - 1); }

    /** The in-memory bytes of segment i, or null if it is a file region. */
    private ByteBuffer bytes(int i) {
        if (i == 0) return head;
        return body.get(i - 1) instanceof Segment.Bytes b ? b.buffer() : null;
    }

    /** The file region about to be sent, or null; AMPED checks its residency before {@link #writeTo}. */
    public Segment.FileRegion pendingRegion() {
        return index < count && segment(index) instanceof Segment.FileRegion r ? r : null;
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
     * @param residency the test for the pending file region's next chunk (AMPED), or null when the caller has
     *                  checked already or does not care (blocking architectures)
     */
    public Progress writeTo(SocketChannel ch, ResidencyCheck residency) throws IOException {
        while (index < count) {
            ByteBuffer first = bytes(index);
            if (first != null) {
                long w;
                if (ch.isBlocking()) {
                    w = writeSlice(ch);
                } else if (index + 1 >= count || bytes(index + 1) == null) {
                    w = ch.write(first);
                } else {
                    int n = 0;
                    for (int i = index; i < count; i++) {
                        ByteBuffer b = bytes(i);
                        if (b == null) break;
                        if (n == gather.length) gather = Arrays.copyOf(gather, n * 2);
                        gather[n++] = b;
                    }
                    w = ch.write(gather, 0, n);
                    Arrays.fill(gather, 0, n, null); // do not pin the response's buffers past its life
                }
                bytesWritten += w;
                while (index < count && bytes(index) instanceof ByteBuffer b && !b.hasRemaining()) index++;
                if (index < count && bytes(index) != null) return Progress.BLOCKED;
                if (ch.isBlocking() && index < count) return Progress.BLOCKED;
            } else {
                Segment.FileRegion r = (Segment.FileRegion) segment(index);
                if (fileSent == r.length()) {
                    index++;
                    fileSent = 0;
                    fileFd = -1;
                    residentEnd = -1;
                    continue;
                }
                long pos = r.offset() + fileSent;
                long len = Math.min(SENDFILE_CHUNK, r.length() - fileSent);
                if (residency != null) {
                    // AMPED: send only what a check (or a helper) found in memory, and test each chunk once: a partial
                    // send must neither skip the check for bytes past the chunk nor re-test the same pages.
                    if (pos >= residentEnd) {
                        if (!residency.resident(r.handle(), pos, len)) return Progress.NEEDS_RESIDENCY;
                        residentEnd = pos + len;
                    }
                    len = Math.min(len, residentEnd - pos);
                }
                long w = direct && !ch.isBlocking() ? sendfile(ch, r.handle().channel(), pos, len)
                        : r.handle().channel().transferTo(pos, len, ch);
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
                if (ch.isBlocking() && index < count) return Progress.BLOCKED;
            }
        }
        return Progress.DONE;
    }

    /**
     * One gathering write of at most {@link #BLOCKING_SLICE} bytes on a blocking socket. A blocking write returns
     * only when all it was given is sent, so without a bound one call would carry a whole mapped body, and the
     * driver could not move the write deadline forward as a slow client makes progress.
     */
    private long writeSlice(SocketChannel ch) throws IOException {
        int n = 0;
        long budget = BLOCKING_SLICE;
        ByteBuffer cut = null;
        int cutLimit = 0;
        for (int i = index; i < count && budget > 0; i++) {
            ByteBuffer b = bytes(i);
            if (b == null) break;
            if (b.remaining() > budget) {
                cut = b;
                cutLimit = b.limit();
                b.limit(b.position() + (int) budget); // each response has its own views: the limit is ours to move
            }
            budget -= b.remaining();
            if (n == gather.length) gather = Arrays.copyOf(gather, n * 2);
            gather[n++] = b;
        }
        try {
            return ch.write(gather, 0, n);
        } finally {
            if (cut != null) cut.limit(cutLimit);
            Arrays.fill(gather, 0, n, null);
        }
    }

    /** A helper has just read [offset, offset + length) of the pending region into memory: send it unchecked. */
    public void markResident(long offset, long length) {
        if (offset <= pendingRegionOffset()) residentEnd = Math.max(residentEnd, offset + length);
    }

    /**
     * sendfile(2) straight from the file's descriptor: 0 when the socket is full. Falls back to transferTo for
     * good if the kernel refuses the pair (EINVAL, ENOSYS: a file system without sendfile support).
     */
    private long sendfile(SocketChannel ch, FileChannel file, long pos, long len) throws IOException {
        if (ch != fdOwner) {
            fdOwner = ch;
            socketFd = Native.fd(ch);
        }
        if (fileFd < 0) fileFd = Native.fd(file);
        if (socketFd < 0 || fileFd < 0) return file.transferTo(pos, len, ch);
        for (int attempt = 0; ; attempt++) {
            long n = Native.sendfile(socketFd, fileFd, pos, len);
            if (n >= 0) return n;
            if (n == -Native.EAGAIN) return 0;
            if (n == -Native.EINTR && attempt < 8) continue;
            if (n == -Native.EINVAL || n == -Native.ENOSYS || n == -Native.EOPNOTSUPP) {
                direct = false;
                return file.transferTo(pos, len, ch);
            }
            throw new IOException("sendfile failed: errno " + -n);
        }
    }

    /**
     * One small piece by a plain positional read and write, which parks a virtual thread until the socket drains
     * (sendfile on a virtual thread's socket returns 0 instead). The buffer is kept for this connection's life.
     */
    private long copyParking(FileChannel file, long pos, long len, SocketChannel ch) throws IOException {
        if (parkBuffer == null) parkBuffer = ByteBuffer.allocateDirect(16 * 1024);
        ByteBuffer b = parkBuffer.clear().limit((int) Math.min(len, parkBuffer.capacity()));
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
        List<Segment> b = body;
        for (int i = 0; i < b.size(); i++) {
            if (b.get(i) instanceof Segment.FileRegion r) r.handle().release();
            else if (b.get(i) instanceof Segment.Bytes m && m.chunk() != null) m.chunk().release();
        }
        response = null;
        head = null;
        body = List.of();
        count = 0;
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
