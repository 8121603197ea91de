package flash.pipeline;

import flash.content.FileHandle;
import flash.net.Transport;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * The sending state of one response. In-memory segments next to each other go out in one gathering write
 * (header and a small body: one writev); file regions go by the transport's sendfile in chunks
 * (or, on a transport that must see the bytes, such as TLS, read through a buffer and written); a streamed body
 * is pulled piece by piece, framed as chunks when its length is unknown. Works unchanged on blocking and
 * non-blocking transports.
 *
 * <p>One instance per connection is reused for every response ({@link #reset}), so steady keep-alive serving
 * allocates no sending state.
 */
public final class Outgoing {
    /** WAITING: a streamed body has nothing ready; the stream calls back when it has. */
    public enum Progress { DONE, BLOCKED, NEEDS_RESIDENCY, WAITING }

    /** Bytes of a file region tested for residency at once (AMPED), and per sendfile call on blocking sockets. */
    static final long SENDFILE_CHUNK = 1L << 20;
    /**
     * Bytes one connection sends by sendfile per turn of a non-blocking loop, after which it yields (waits for
     * writability, at once under a level-triggered selector) so the loop's other connections go first, as
     * lighttpd does. One call that hands TCP a whole large body is answered, under a pacing congestion control
     * (BBR), by pacing timers that send its segments one by one and wake the client for each; in 256 KiB turns the
     * loop's own work spaces them (docs/performance.md section 33). {@code -Dflash.sendfileTurn=0}: no turns, every
     * chunk at once (for A/B runs). AMPED's residency test still covers a 1 MiB window once, as after a partial send:
     * pages evicted between two turns of one window would be read by sendfile on the loop (a window is at most four
     * turns, a few loop passes apart).
     */
    static final long SENDFILE_TURN = turn(Long.getLong("flash.sendfileTurn", 256L << 10));

    private static long turn(long bytes) {
        return bytes <= 0 ? Long.MAX_VALUE : bytes;
    }

    /**
     * The bytes of a region's next turn, {@code left} of it unsent and {@code windowLeft} of those known resident:
     * all of them when they fit in one turn; otherwise up to the next multiple of {@link #SENDFILE_TURN} in the
     * response's bytes (head included), or the one after when that is less than half a turn away. A 1 MiB body after
     * a 239-byte head went out in turns that each crossed a 256 KiB boundary of the stream; ending on them, as
     * lighttpd's turns do, cost the client fewer wake-ups (docs/performance.md section 38). A residency window that
     * ends less than half a turn past a boundary is sent to its end, not left with a turn of a few bytes.
     */
    private long turnLength(long left, long windowLeft) {
        if (left <= SENDFILE_TURN) return left; // also every body when turns are off (SENDFILE_TURN = MAX_VALUE)
        long toBoundary = SENDFILE_TURN - bytesWritten % SENDFILE_TURN;
        if (toBoundary < SENDFILE_TURN / 2) toBoundary += SENDFILE_TURN;
        if (windowLeft < left && windowLeft > toBoundary && windowLeft - toBoundary < SENDFILE_TURN / 2) return windowLeft;
        return toBoundary;
    }

    /** Bytes per blocking gathering write, so a slow reader's progress is seen (and the deadline moves) often. */
    static final long BLOCKING_SLICE = 256L << 10;

    private static final ByteBuffer CRLF = ByteBuffer.wrap(new byte[] {'\r', '\n'}).asReadOnlyBuffer();
    private static final ByteBuffer LAST_CHUNK = ByteBuffer.wrap("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII))
            .asReadOnlyBuffer();

    private Response response;
    private ByteBuffer head;
    private List<Segment> body = List.of();
    private int count;          // segments: 0 is the head, i > 0 is body.get(i - 1)
    private ByteBuffer[] gather = new ByteBuffer[4];
    private int index;
    private long fileSent;      // bytes sent of the current file region
    private long bytesWritten;
    private long headBytes;
    private boolean released = true;
    private long residentEnd = -1; // file offset up to which the current region is known to be in memory
    // The connection's, per response (kept here, not on the connection: on an event loop an idle connection holds no
    // sender, so it does not carry them):
    boolean mappedBody;     // the body is sent from mapped file chunks (AMPED tests their residency)
    boolean mappedResident; // mapped body: a helper just faulted its pages in

    // streamed bodies
    private BodyStream stream;
    private boolean chunked;
    private ByteBuffer piece;       // the stream's data being sent, or null
    private int pieceLength;
    private final ByteBuffer chunkHead = ByteBuffer.allocate(20);
    private ByteBuffer chunkTail;   // CRLF after a chunk's data, while unsent
    private ByteBuffer lastChunk;   // "0\r\n\r\n" once the stream ended, while unsent

    /** An empty instance, to be {@link #reset} for each response. */
    public Outgoing() { }

    public Outgoing(Response response, boolean headOnly) { reset(response, headOnly); }

    /** Starts sending {@code response}; the previous one must be done or released. */
    public Outgoing reset(Response response, boolean headOnly) {
        this.response = response;
        this.head = response.head();
        this.headBytes = head.remaining();
        this.body = headOnly ? List.of() : response.body();
        this.count = body.size() + 1;
        this.index = 0;
        this.fileSent = 0;
        this.bytesWritten = 0;
        this.residentEnd = -1;
        this.mappedBody = false;
        this.mappedResident = false;
        this.copyPos = -1;
        this.released = false;
        this.stream = headOnly ? null : response.stream();
        this.chunked = response.chunked();
        this.piece = null;
        this.chunkTail = null;
        this.lastChunk = null;
        this.streamBodyBytes = 0;
        if (headOnly && response.stream() != null) response.stream().abort();
        return this;
    }

    public Response response() { return response; }
    public long bytesWritten() { return bytesWritten; }

    /** Body bytes sent so far (framing excluded): what an access log reports. */
    public long bodyBytesWritten() { return stream != null ? streamBodyBytes : Math.max(0, bytesWritten - headBytes); }

    /**
     * Data bytes of a streamed body that left, counted as they leave: chunk framing is made ahead of the data it
     * frames, so subtracting it from the bytes written undercounts a response cut short mid-chunk.
     */
    private long streamBodyBytes;

    private Segment segment(int i) { return i == 0 ? null : body.get(i - 1); }

    /** The in-memory bytes of segment i, or null if it is a file region. */
    private ByteBuffer bytes(int i) {
        if (i == 0) return head;
        return body.get(i - 1) instanceof Segment.Bytes b ? b.buffer() : null;
    }

    /**
     * The index of the file region to be sent next: the current segment, or the first one after the in-memory
     * segments about to be written (a head before its body); -1 when none comes before a streamed body or the end.
     */
    private int nextRegion() {
        for (int i = index; i < count; i++) {
            if (segment(i) instanceof Segment.FileRegion) return i;
            if (i == 0 && stream != null) return -1;
        }
        return -1;
    }

    /** The file region about to be sent, or null; AMPED checks its residency before {@link #writeTo}. */
    public Segment.FileRegion pendingRegion() {
        int i = nextRegion();
        return i < 0 ? null : (Segment.FileRegion) segment(i);
    }

    public long pendingRegionOffset() {
        int i = nextRegion();
        if (i < 0) return -1;
        Segment.FileRegion r = (Segment.FileRegion) segment(i);
        return r.offset() + (i == index ? fileSent : 0);
    }

    public long pendingRegionLength() {
        int i = nextRegion();
        if (i < 0) return 0;
        Segment.FileRegion r = (Segment.FileRegion) segment(i);
        return Math.min(SENDFILE_CHUNK, r.length() - (i == index ? fileSent : 0));
    }

    /**
     * AMPED: whether the first chunk of the file region that follows the in-memory run at {@link #index} is known
     * resident, testing it if not yet tested. Asked BEFORE the head is written, so that a cold body goes to a helper
     * with nothing sent, and a head written with MSG_MORE is always followed at once by its sendfile.
     * {@code regionAt}: the region's index.
     */
    private boolean aheadResident(ResidencyCheck residency, int regionAt) {
        Segment.FileRegion r = (Segment.FileRegion) segment(regionAt);
        long pos = r.offset(), len = Math.min(SENDFILE_CHUNK, r.length());
        if (pos < residentEnd) return true;
        // The lookup's test holds only for the response's first region, sent in the same turn as its head: a later
        // part of a multi-range body may come long after, when the pages may have left memory.
        if (r.resident() && bytesWritten == 0) {
            residentEnd = r.offset() + r.length();
            return true;
        }
        if (!residency.resident(r.handle(), pos, len)) return false;
        residentEnd = pos + len;
        return true;
    }

    /**
     * Writes as much as the transport takes.
     * @param residency the test for the pending file region's next chunk (AMPED), or null when the caller has
     *                  checked already or does not care (blocking architectures)
     */
    public Progress writeTo(Transport t, ResidencyCheck residency) throws IOException {
        while (index < count) {
            ByteBuffer first = bytes(index);
            if (first != null) {
                if (stream != null && index == 0) return writeStream(t); // the head goes with the first piece
                int run = index + 1;
                while (run < count && bytes(run) != null) run++;
                // A file region follows these bytes: under AMPED its first chunk must be resident before anything
                // is written; on a sendfile transport the bytes go with MSG_MORE, to share the body's first packet.
                boolean regionNext = run < count && !t.isBlocking();
                if (regionNext && residency != null && !aheadResident(residency, run)) return Progress.NEEDS_RESIDENCY;
                boolean more = regionNext && t.supportsSendfile();
                boolean cork = more && ((Segment.FileRegion) segment(run)).length() > SENDFILE_TURN;
                long w;
                try {
                    if (t.isBlocking()) w = writeSlice(t);
                    else if (run == index + 1 && !more) w = t.write(first);
                    else w = writeGathered(t, run, more, cork);
                } catch (IOException e) {
                    throw mappedTruncation(e, run);
                }
                bytesWritten += w;
                while (index < count && bytes(index) instanceof ByteBuffer b && !b.hasRemaining()) index++;
                if (index < count && bytes(index) != null) return Progress.BLOCKED;
                if (t.isBlocking() && index < count) return Progress.BLOCKED;
            } else {
                Segment.FileRegion r = (Segment.FileRegion) segment(index);
                if (fileSent == r.length()) {
                    index++;
                    fileSent = 0;
                    residentEnd = -1;
                    copyPos = -1;
                    continue;
                }
                long pos = r.offset() + fileSent;
                long len = Math.min(SENDFILE_CHUNK, r.length() - fileSent);
                if (residency != null) {
                    // AMPED: send only what a check (or a helper) found in memory, and test each chunk once: a partial
                    // send must neither skip the check for bytes past the chunk nor re-test the same pages.
                    if (pos >= residentEnd) {
                        if (r.resident() && fileSent == 0 && bytesWritten == 0) {
                            residentEnd = r.offset() + r.length();
                        } else {
                            if (!residency.resident(r.handle(), pos, len)) return Progress.NEEDS_RESIDENCY;
                            residentEnd = pos + len;
                        }
                    }
                    len = Math.min(len, residentEnd - pos);
                }
                boolean turns = !t.isBlocking() && t.supportsSendfile();
                if (turns) {
                    len = Math.min(len, turnLength(r.length() - fileSent,
                            residency != null ? residentEnd - pos : Long.MAX_VALUE));
                }
                long w = t.sendFile(r.handle().channel(), r.handle().fd(), pos, len);
                if (w == Transport.UNSUPPORTED) w = copyFile(t, r.handle().channel(), pos, len);
                if (w <= 0) {
                    // Either the socket is full, or the file shrank under us: tell them apart by the file's size.
                    if (r.handle().channel().size() <= pos) throw new TruncatedFileException(r.handle(), pos);
                    if (!t.isBlocking()) return Progress.BLOCKED;
                    throw new TruncatedFileException(r.handle(), pos);
                }
                fileSent += w;
                bytesWritten += w;
                if (turns && SENDFILE_TURN != Long.MAX_VALUE && fileSent < r.length()) return Progress.BLOCKED;
                // Blocking sockets return after each chunk so the driver can push the write deadline forward.
                if (t.isBlocking() && index < count) return Progress.BLOCKED;
            }
        }
        return stream == null ? Progress.DONE : writeStream(t);
    }

    /**
     * A streamed body: the head (until sent), then each piece the stream has ready, framed as a chunk when the
     * length is unknown, all in one gathering write. The stream's buffer is consumed only once it is sent, so a
     * full client socket stops the origin from being read (backpressure).
     */
    private Progress writeStream(Transport t) throws IOException {
        while (true) {
            if (piece == null && lastChunk == null) {
                ByteBuffer next;
                try {
                    next = stream.next();
                } catch (IOException e) {
                    // The origin failed at its first piece: the head still goes out, so the client sees a response
                    // cut short (as when the failure comes a read later), not a connection closed without a word.
                    if (head.hasRemaining()) bytesWritten += t.write(head);
                    throw e;
                }
                if (next != null && next.hasRemaining()) {
                    piece = next;
                    pieceLength = next.remaining();
                    if (chunked) {
                        chunkHead.clear().put(Long.toHexString(pieceLength).getBytes(StandardCharsets.US_ASCII))
                                .put((byte) '\r').put((byte) '\n').flip();
                        chunkTail = CRLF.duplicate();
                    }
                } else if (stream.ended()) {
                    if (chunked) {
                        lastChunk = LAST_CHUNK.duplicate();
                    } else if (!head.hasRemaining()) {
                        index = count;
                        stream.finished();
                        return Progress.DONE;
                    }
                } else if (!head.hasRemaining()) {
                    index = count;
                    return Progress.WAITING;
                }
            }
            int n = 0;
            if (head.hasRemaining()) gather[n++] = head;
            if (piece != null) {
                if (chunked && chunkHead.hasRemaining()) gather[n++] = chunkHead;
                gather[n++] = piece;
                if (chunked) gather[n++] = chunkTail;
            }
            if (lastChunk != null) gather[n++] = lastChunk;
            int pieceBefore = piece == null ? 0 : piece.remaining();
            long w = t.write(gather, 0, n);
            Arrays.fill(gather, 0, n, null);
            bytesWritten += w;
            if (piece != null) streamBodyBytes += pieceBefore - piece.remaining();
            if (piece != null && !piece.hasRemaining() && (chunkTail == null || !chunkTail.hasRemaining())) {
                piece = null;
                chunkTail = null;
                stream.consumed(pieceLength);
            }
            if (lastChunk != null && !lastChunk.hasRemaining()) {
                index = count;
                stream.finished();
                return Progress.DONE;
            }
            if (head.hasRemaining() || piece != null || lastChunk != null) return Progress.BLOCKED;
            index = count;
            if (t.isBlocking()) return Progress.BLOCKED; // progress made: let the driver move the deadline
        }
    }

    /**
     * One gathering write of at most {@link #BLOCKING_SLICE} bytes on a blocking socket. A blocking write returns
     * only when all it was given is sent, so without a bound one call would carry a whole mapped body, and the
     * driver could not move the write deadline forward as a slow client makes progress.
     */
    /** The in-memory segments [{@link #index}, {@code run}) in one gathering write, with MSG_MORE or corked as asked. */
    private long writeGathered(Transport t, int run, boolean more, boolean cork) throws IOException {
        int n = 0;
        for (int i = index; i < run; i++) {
            if (n == gather.length) gather = Arrays.copyOf(gather, n * 2);
            gather[n++] = bytes(i);
        }
        try {
            return cork ? t.writeCorked(gather, 0, n) : more ? t.writeMore(gather, 0, n) : t.write(gather, 0, n);
        } finally {
            Arrays.fill(gather, 0, n, null); // do not pin the response's buffers past its life
        }
    }

    private long writeSlice(Transport t) throws IOException {
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
            return t.write(gather, 0, n);
        } finally {
            if (cut != null) cut.limit(cutLimit);
            Arrays.fill(gather, 0, n, null);
        }
    }

    /**
     * A transport that cannot send a file without seeing its bytes (TLS encrypts them): read the region through a
     * buffer and write that. AMPED has tested [pos, pos + len) resident before this is called, as it would before a
     * sendfile, so the read does not block the loop. A short read (the file shrank) returns 0, which the caller tells
     * from a full socket by the file's size. Bytes read but not yet taken by the transport stay in the buffer for
     * the next call, which continues from where the transport stopped.
     */
    private long copyFile(Transport t, java.nio.channels.FileChannel file, long pos, long len) throws IOException {
        if (copy == null || copyPos != pos || !copy.hasRemaining()) {
            if (copy == null) copy = ByteBuffer.allocate(COPY_CHUNK);
            copy.clear().limit((int) Math.min(len, COPY_CHUNK));
            int n = file.read(copy, pos);
            if (n <= 0) {
                copy.clear().limit(0);
                return 0;
            }
            copy.flip();
            copyPos = pos;
        }
        int w = t.write(copy);
        copyPos += w;
        return w;
    }

    /** Bytes read per copy of a file region (four TLS records). */
    static final int COPY_CHUNK = 64 * 1024;
    private ByteBuffer copy;      // file bytes read for a transport without sendfile, from copyPos on; null when none
    private long copyPos = -1;

    /** A helper has just read [offset, offset + length) of the pending region into memory: send it unchecked. */
    public void markResident(long offset, long length) {
        if (offset <= pendingRegionOffset()) residentEnd = Math.max(residentEnd, offset + length);
    }

    /** Releases the open files, mapped chunks and bodies' memory this response holds, and a stream not sent whole; idempotent. */
    public void release() {
        if (released) return;
        released = true;
        List<Segment> b = response.body();
        for (int i = 0; i < b.size(); i++) {
            if (b.get(i) instanceof Segment.FileRegion r) r.handle().release();
            else if (b.get(i) instanceof Segment.Bytes m) {
                if (m.chunk() != null) m.chunk().release();
                if (m.body() != null) m.body().release();
            }
        }
        if (response.stream() != null) response.stream().abort(); // a no-op once the stream finished
        copy = null; // an idle keep-alive connection holds no copy buffer
        copyPos = -1;
        response = null;
        head = null;
        body = List.of();
        count = 0;
        stream = null;
        piece = null;
    }

    /** Residency test for the next chunk of a file region; AMPED supplies one, other architectures pass null. */
    @FunctionalInterface
    public interface ResidencyCheck {
        boolean resident(FileHandle file, long offset, long length);
    }

    /**
     * A write of segments [{@link #index}, {@code run}) failed with {@code e}: a {@link TruncatedFileException} when one
     * of them views a mapped chunk and the kernel answered EFAULT, which is what a write from a mapping past its
     * file's end gets (the file shrank under it); {@code e} itself otherwise (the client went away, most often). The
     * JDK reports the errno only by its text, strerror's ("Bad address").
     */
    private IOException mappedTruncation(IOException e, int run) {
        if (!"Bad address".equals(e.getMessage())) return e;
        for (int i = Math.max(index, 1); i < run; i++) {
            if (segment(i) instanceof Segment.Bytes b && b.chunk() != null) {
                return new TruncatedFileException("file truncated under its mapping while sending", e);
            }
        }
        return e;
    }

    /** The file is now shorter than the Content-Length we promised: the only honest move is to close. */
    public static final class TruncatedFileException extends IOException {
        public TruncatedFileException(FileHandle file, long pos) {
            super("file truncated while sending (at offset " + pos + ")");
        }

        TruncatedFileException(String message, IOException cause) { super(message, cause); }
    }
}
