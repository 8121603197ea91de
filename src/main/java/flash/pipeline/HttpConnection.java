package flash.pipeline;

import flash.content.Translation;
import flash.http.BadRequest;
import flash.http.Method;
import flash.http.ParseResult;
import flash.http.Request;
import flash.http.RequestParser;
import flash.http.RequestTarget;
import flash.http.Status;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;

/**
 * One client connection running the request pipeline: read, parse, translate, build the head, send head
 * and body. Written once for every architecture. It is driven by readiness calls ({@link #onReadable},
 * {@link #onWritable}) from an event loop, or by a thread looping over a blocking socket; the disk steps go
 * through the {@link DiskSeam}, in continuation style at exactly those points.
 *
 * <p>Requests on one connection are handled strictly one at a time (pipelined requests wait in the read
 * buffer), so responses leave in request order. All state is confined to the driving thread, except the
 * phase and deadline, which a blocking driver's watchdog reads.
 */
public final class HttpConnection {
    public enum Phase { IDLE, READING, BUSY, WRITING, LINGERING, CLOSED }

    /** How long a closing connection keeps draining the client's input so our last response is not lost to a RST. */
    private static final long LINGER_NANOS = 2_000_000_000L;

    private final SocketChannel ch;
    private final PipelineContext ctx;
    private final ConnectionIo io;
    private final DiskSeam seam;
    private final RequestParser parser;
    private ByteBuffer in;
    private Outgoing outgoing;                       // the response being sent, or null
    private final Outgoing sender = new Outgoing();  // reused by every response of this connection
    private Request current;
    private boolean awaitingDisk;
    private boolean closeAfterResponse;
    private boolean inputClosed;
    private int served; // requests handled on this connection
    private boolean residencyChecked; // mapped body: a helper just faulted its pages in
    private boolean mappedBody;       // the body is sent from mapped file chunks (AMPED tests their residency)
    private volatile Phase phase = Phase.IDLE;
    /** Set by another thread (a blocking driver's watchdog): the deadline passed; the owner acts on it. */
    private volatile boolean timerFired;
    private long interruptedDeadline; // the watchdog's own field: the deadline it last acted on
    /** Set by another thread (shutdown under a blocking driver): close after the current response. */
    private volatile boolean drainRequested;
    /** The driver's handle for this connection (an event loop keeps its SelectionKey here). */
    public Object ioKey;
    private volatile long deadline;

    public HttpConnection(SocketChannel ch, PipelineContext ctx, ConnectionIo io, DiskSeam seam) {
        this.ch = ch;
        this.ctx = ctx;
        this.io = io;
        this.seam = seam;
        this.parser = new RequestParser(ctx.config().limits());
        this.deadline = System.nanoTime() + ctx.config().idleTimeout().toNanos();
        io.stats().openConnections.increment();
    }

    public SocketChannel channel() { return ch; }
    public Phase phase() { return phase; }
    public long deadline() { return deadline; }

    // ------------------------------------------------------------------ readiness

    public void onReadable() {
        if (phase == Phase.CLOSED) return;
        if (awaitingDisk || outgoing != null) {
            // Busy with a response: stop reading until it is done (pipelined bytes wait in the kernel), or an
            // EOF or a full buffer would make the loop spin on a connection it cannot serve yet.
            io.interest(this, false, outgoing != null && !awaitingDisk);
            return;
        }
        if (in == null) in = io.acquireBuffer();
        int n;
        try {
            n = ch.read(in);
        } catch (IOException e) {
            close();
            return;
        }
        if (phase == Phase.LINGERING) {
            in.clear();
            if (n < 0) close();
            return;
        }
        if (n < 0 && timerFired) {
            expire(); // a watchdog shut our input down to wake this read: the head did not arrive in time
            return;
        }
        if (n < 0) {
            inputClosed = true;
            process();
            if (phase != Phase.CLOSED && outgoing == null && !awaitingDisk) close();
            return;
        }
        if (n > 0) process();
        else releaseBufferIfEmpty();
    }

    public void onWritable() {
        if (phase == Phase.CLOSED || outgoing == null || awaitingDisk) return;
        write();
    }

    /**
     * Called by a blocking driver's watchdog, on its own thread, when {@link #deadline()} has passed. A timer only
     * interrupts: it wakes the owning thread out of its blocking read or write and leaves every release to it,
     * because the owner may be inside a write from a mapped chunk that must not be unmapped under it.
     */
    public void interrupt() {
        Phase p = phase;
        long d = deadline;
        if (p == Phase.BUSY || p == Phase.CLOSED || d == interruptedDeadline) return; // once per deadline
        interruptedDeadline = d;
        timerFired = true;
        try {
            if (p == Phase.READING) {
                ch.shutdownInput(); // the owner's read returns EOF, and it can still write the 408
            } else {
                if (p == Phase.WRITING) io.stats().timeouts.increment();
                if (p == Phase.IDLE) io.stats().idleCloses.increment();
                ch.close();         // the owner's read or write fails, and the owner closes and releases
            }
        } catch (IOException ignored) {
            // the channel is already gone: the owner finds out on its next call
        }
    }

    /** Hard stop from another thread: closing the channel makes the owner's next read or write fail, and it releases. */
    public void abort() {
        try {
            ch.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    /** Shutdown under a blocking driver (another thread): an idle or reading connection ends, a busy one after its response. */
    public void requestDrain() {
        drainRequested = true;
        Phase p = phase;
        if (p == Phase.IDLE || p == Phase.READING) {
            try {
                ch.shutdownInput(); // the owner's read sees EOF and closes
            } catch (IOException ignored) {
                // already closed
            }
        }
    }

    /** Called on the owning thread when {@link #deadline()} has passed (an event loop's timer, or after {@link #interrupt}). */
    public void expire() {
        switch (phase) {
            case READING -> {
                io.stats().timeouts.increment();
                // Slowloris defence: a head that has not arrived in time is answered 408 and the connection closed.
                Response r = ctx.responder().error(Status.REQUEST_TIMEOUT, false, true);
                try {
                    ch.write(new ByteBuffer[] {r.head(), ((Segment.Bytes) r.body().getFirst()).buffer()});
                } catch (IOException ignored) {
                    // the client is gone or not reading: closing is all that is left
                }
                close();
            }
            case IDLE, WRITING, LINGERING -> {
                if (phase == Phase.WRITING) io.stats().timeouts.increment();
                if (phase == Phase.IDLE) io.stats().idleCloses.increment();
                close();
            }
            case BUSY, CLOSED -> { }
        }
    }

    /** Graceful shutdown: an idle connection closes now; a busy one after its current response. */
    public void drain() {
        if (phase == Phase.IDLE || phase == Phase.READING) close();
        else closeAfterResponse = true;
    }

    // ------------------------------------------------------------------ pipeline

    private void process() {
        while (phase != Phase.CLOSED && phase != Phase.LINGERING && outgoing == null && !awaitingDisk) {
            if (in == null) return;
            boolean inBody = parser.discardingBody();
            in.flip();
            ParseResult r = parser.parse(in);
            in.compact();
            switch (r) {
                case ParseResult.NeedMore nm -> {
                    // A head larger than a small starting buffer: grow it (the parser's limits bound the size).
                    if (!in.hasRemaining()) in = io.grow(in);
                    waitForInput();
                    return;
                }
                case BadRequest bad when inBody -> {
                    // The body of a request already answered broke a limit: no request is waiting for a
                    // response, so an error response would answer the client's next request. Just end.
                    io.stats().badRequests.increment();
                    linger();
                }
                case BadRequest bad -> {
                    io.stats().badRequests.increment();
                    current = null;
                    send(ctx.responder().error(bad.status(), false, true), false);
                }
                case Request req -> handle(req);
            }
        }
    }

    private void waitForInput() {
        if (inputClosed) {
            close();
            return;
        }
        long now = System.nanoTime();
        if (in.position() > 0 || !parser.idle()) {
            if (phase != Phase.READING) {
                phase = Phase.READING;
                deadline = now + ctx.config().headerTimeout().toNanos();
            }
        } else {
            phase = Phase.IDLE;
            deadline = now + ctx.config().idleTimeout().toNanos();
            releaseBufferIfEmpty();
        }
        io.interest(this, true, false);
    }

    private void handle(Request parsed) {
        phase = Phase.BUSY;
        int cap = ctx.config().limits().maxKeepAliveRequests();
        // The last request a connection may carry is answered with Connection: close, then the connection closes.
        Request req = cap > 0 && ++served >= cap ? parsed.closing() : parsed;
        current = req;
        io.stats().requests.increment();
        Object begun = ctx.responder().begin(req);
        if (begun instanceof Response immediate) {
            send(immediate, req.method() == Method.HEAD);
            return;
        }
        RequestTarget.Normalized target = (RequestTarget.Normalized) begun;
        if (ctx.statusPage() != null && ctx.statusPage().matches(target)) {
            send(ctx.statusPage().respond(req), req.method() == Method.HEAD);
            return;
        }
        Translation cached = ctx.lookup(target);
        if (cached != null) {
            translated(req, cached);
            return;
        }
        awaitingDisk = true;
        io.stats().diskTasks.increment();
        seam.run(() -> ctx.translate(target), outcome -> {
            awaitingDisk = false;
            Translation t = outcome.ok() ? outcome.value() : new Translation.Failed(String.valueOf(outcome.failure()));
            if (phase == Phase.CLOSED) {
                release(t);
                return;
            }
            translated(req, t);
            if (outgoing == null && phase != Phase.CLOSED) process();
        });
    }

    private void translated(Request req, Translation t) {
        Response r;
        try {
            r = ctx.responder().respond(req, t);
        } finally {
            release(t);
        }
        send(r, req.method() == Method.HEAD);
    }

    private static void release(Translation t) {
        if (t instanceof Translation.Found f) f.entry().release();
    }

    private void send(Response r, boolean headOnly) {
        if (r.close()) closeAfterResponse = true;
        outgoing = sender.reset(r, headOnly);
        residencyChecked = false;
        mappedBody = !headOnly && seam.checksResidency() && hasMappedSegment(r);
        phase = Phase.WRITING;
        deadline = System.nanoTime() + ctx.config().writeTimeout().toNanos();
        write();
    }

    private void write() {
        Outgoing.Progress p;
        Outgoing out = outgoing; // a blocking driver's watchdog may close() (and null the field) mid-write
        long before = out.bytesWritten();
        if (mappedBody && !residencyChecked) {
            List<Segment.Bytes> cold = coldMappedSegments();
            if (!cold.isEmpty()) {
                makeMappedResident(cold);
                return;
            }
        }
        try {
            Outgoing.ResidencyCheck check = seam.checksResidency() ? ctx.residency() : null;
            p = out.writeTo(ch, check);
        } catch (IOException | RuntimeException | InternalError e) {
            // Client gone, or the file changed under us: truncated under sendfile, or under a mapping (the kernel
            // answers writev with EFAULT; Java code touching such memory gets SIGBUS as an InternalError).
            // This response cannot complete, so the connection ends; other connections are untouched.
            close();
            return;
        }
        if (phase == Phase.CLOSED) return; // expired by the watchdog while the write was under way
        long written = out.bytesWritten() - before;
        if (written > 0) {
            io.stats().bytesOut.add(written);
            residencyChecked = false; // the socket blocked part-way: re-test the rest of a mapped body next time
        }
        switch (p) {
            case DONE -> finishResponse();
            case BLOCKED -> {
                if (written > 0) deadline = System.nanoTime() + ctx.config().writeTimeout().toNanos();
                phase = Phase.WRITING;
                io.interest(this, false, true);
            }
            case NEEDS_RESIDENCY -> makeResident();
        }
    }

    /** AMPED: the next chunk of file data is not in memory; a helper reads it in, then the loop sends it. */
    private void makeResident() {
        io.stats().residencyMisses.increment();
        Segment.FileRegion region = outgoing.pendingRegion();
        long offset = outgoing.pendingRegionOffset();
        long length = outgoing.pendingRegionLength();
        awaitingDisk = true;
        phase = Phase.BUSY;
        io.interest(this, false, false);
        io.stats().diskTasks.increment();
        seam.run(() -> ctx.warm(region.handle(), offset, length), outcome -> {
            awaitingDisk = false;
            if (phase == Phase.CLOSED) return;
            if (!outcome.ok()) {
                close(); // an I/O error mid-body: the head is gone already, so closing is the only signal left
                return;
            }
            outgoing.markResident(offset, length);
            write();
            if (outgoing == null && phase != Phase.CLOSED) process();
        });
    }

    private static boolean hasMappedSegment(Response r) {
        for (Segment s : r.body()) if (s instanceof Segment.Bytes b && b.chunk() != null) return true;
        return false;
    }

    /** AMPED: the parts of the mapped body still to send whose pages are not all in memory (non-blocking test). */
    private List<Segment.Bytes> coldMappedSegments() {
        List<Segment.Bytes> cold = List.of();
        for (Segment s : outgoing.response().body()) {
            if (s instanceof Segment.Bytes b && b.chunk() != null && !b.chunk().resident(b.buffer())) {
                if (cold.isEmpty()) cold = new ArrayList<>(2);
                cold.add(b);
            }
        }
        return cold;
    }

    /**
     * AMPED, mapped body: a helper faults the pages in, then the loop writes from the mapping. If that fails (the
     * file was truncated under the mapping) before any byte left, the client gets a 500 instead; later, only a close.
     */
    private void makeMappedResident(List<Segment.Bytes> cold) {
        io.stats().residencyMisses.increment();
        awaitingDisk = true;
        phase = Phase.BUSY;
        io.interest(this, false, false);
        io.stats().diskTasks.increment();
        List<ByteBuffer> views = new ArrayList<>(cold.size());
        for (Segment.Bytes b : cold) views.add(b.buffer().duplicate()); // the helper reads positions, never moves them
        seam.run(() -> {
            for (int i = 0; i < cold.size(); i++) cold.get(i).chunk().touch(views.get(i));
            return Boolean.TRUE;
        }, outcome -> {
            awaitingDisk = false;
            if (phase == Phase.CLOSED) return;
            if (!outcome.ok()) {
                if (outgoing.bytesWritten() > 0) {
                    close();
                    return;
                }
                outgoing.release();
                outgoing = null;
                send(ctx.responder().error(Status.INTERNAL_SERVER_ERROR, current, closeAfterResponse),
                        current != null && current.method() == Method.HEAD);
            } else {
                residencyChecked = true;
                write();
            }
            if (outgoing == null && phase != Phase.CLOSED) process();
        });
    }

    private void finishResponse() {
        outgoing.release();
        outgoing = null;
        current = null;
        if (closeAfterResponse || drainRequested) {
            linger();
            return;
        }
        phase = Phase.IDLE;
        process();
    }

    /**
     * Half-close, then drain what the client still sends for a moment: closing a socket with unread input
     * makes the kernel send RST, which can destroy the response we just wrote before the client reads it.
     */
    private void linger() {
        try {
            ch.shutdownOutput();
        } catch (IOException e) {
            close();
            return;
        }
        if (inputClosed) {
            close();
            return;
        }
        phase = Phase.LINGERING;
        deadline = System.nanoTime() + LINGER_NANOS;
        if (in != null) in.clear();
        io.interest(this, true, false);
    }

    /** Only the owning thread closes: it releases the buffers and chunks that its own reads and writes use. */
    public void close() {
        if (phase == Phase.CLOSED) return;
        phase = Phase.CLOSED;
        if (outgoing != null) {
            outgoing.release();
            outgoing = null;
        }
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing more to do for a socket we are abandoning
        }
        if (in != null) {
            io.releaseBuffer(in);
            in = null;
        }
        io.stats().openConnections.decrement();
        io.closed(this);
    }

    /** Idle connections hold no buffer: that is what keeps thousands of idle keep-alive clients cheap. */
    private void releaseBufferIfEmpty() {
        if (in != null && in.position() == 0 && parser.idle() && outgoing == null && !awaitingDisk) {
            io.releaseBuffer(in);
            in = null;
        }
    }

    /** For blocking drivers: true once the connection has nothing more to do. */
    public boolean finished() { return phase == Phase.CLOSED; }

    /** For blocking drivers: a response is partly sent and the next step is to write, not to read. */
    public boolean wantsWrite() { return outgoing != null && !awaitingDisk; }
}
