package flash.embed;

import flash.http.Head;
import flash.http.Headers;
import flash.http.Method;
import flash.http.Request;
import flash.http.Status;
import flash.net.Driver;
import flash.pipeline.BadBodyException;
import flash.pipeline.BodyStream;
import flash.pipeline.ErrorCause;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One request to an embedded {@link Handler}: the handler runs on a virtual thread of its own, and this bridge
 * carries its request body in and its response out, to and from the connection's thread, which it never blocks.
 *
 * <p><b>Two threads.</b> The <em>handler's thread</em> sees the {@link Exchange} side; the <em>connection's
 * thread</em> (an event loop under amped and sped; the connection's own thread under mt and vt) sees the
 * {@link BodyStream} side and is the only one that touches the pipeline's exchange. They share a few fields under
 * one lock: the committed head, a queue of body pieces (bounded: a writer waits while {@link #WINDOW} bytes are
 * unsent, the backpressure the connection's pull gives), the request body piece the handler asked for, and how it
 * ended. The handler tells the connection's thread that something changed in {@link #signal}:
 * <ul>
 *   <li>on an event loop, with a task on the loop (its queue is thread-safe and wakes the Selector), at most one
 *       queued at a time;</li>
 *   <li>under a blocking driver, whose task queue belongs to its thread, by a condition the connection's thread
 *       waits on while it has nothing else to do ({@link #step}): waiting is that thread's way of waiting for a
 *       slow origin, as a CGI pipe read is. It waits only while neither the socket nor the response needs it.</li>
 * </ul>
 * The request body is read on demand only: the handler asks ({@code wantBody}), the connection's thread takes the
 * next piece the pipeline has (reading the client when none is there) and hands over a copy.
 */
final class Bridge implements Exchange, BodyStream {
    private static final Logger LOG = Logger.getLogger(Bridge.class.getName());
    /** The response body's buffer on the handler's side: one piece for the connection when full. */
    static final int PIECE = 16 * 1024;
    /** Unsent bytes past which the handler's writes wait for the client. */
    static final int WINDOW = 64 * 1024;

    // Set on the connection's thread before the handler's thread starts (Thread.start publishes them).
    private final flash.pipeline.Exchange ex;
    private final Driver driver;
    private final boolean blocking;
    private final String method;
    private final String path;
    private final String query;
    private final List<String> headerNames = new ArrayList<>();
    private final List<String> headerValues = new ArrayList<>();
    private final Set<Thread> running;

    // Shared, under lock.
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition forHandler = lock.newCondition();
    private final Condition forConnection = lock.newCondition();
    private Head head;                 // committed by the handler: the connection may respond
    private long length = -1;          // its body length, or -1: chunked
    private final ArrayDeque<ByteBuffer> out = new ArrayDeque<>();
    private long queued;               // bytes in `out` not yet sent
    private boolean outClosed;         // the handler wrote its last byte
    private Throwable failure;         // the handler threw (or wrote a body short of its length)
    private boolean wantBody;          // the handler waits for request body bytes
    private byte[] inPiece;
    private int inPos;
    private boolean inEnded;
    private IOException inError;
    private boolean gone;              // the exchange is over or the client left: the handler's I/O fails
    private boolean discard;           // HEAD, 204, 304: what the handler writes goes nowhere
    private boolean signalled;         // blocking drivers: something changed for the connection's thread

    // The handler's thread only.
    private int status = 200;
    private final List<String[]> responseHeaders = new ArrayList<>();
    private long declaredLength = -1;
    private boolean committed;
    private final BodyOut body = new BodyOut();
    private final BodyIn in = new BodyIn();

    // The connection's thread only.
    private boolean responded;
    private boolean bodyless;
    private boolean fetching;          // waiting for the client's body bytes (pipeline onBody)
    private boolean done;              // the connection wants nothing more from this bridge
    private boolean inStep;
    private boolean again;
    private Runnable ready;            // the connection waits for the next piece (BodyStream.onReady)
    private final AtomicBoolean scheduled = new AtomicBoolean(); // event loops: a step is queued

    Bridge(flash.pipeline.Exchange ex, Set<Thread> running) {
        this.ex = ex;
        this.driver = ex.driver();
        this.blocking = driver.blocking();
        this.running = running;
        Request req = ex.request();
        this.method = req.methodToken();
        this.path = ex.target().path();
        this.query = req.query();
        Headers h = req.headers();
        for (int i = 0; i < h.size(); i++) {
            headerNames.add(h.name(i));
            headerValues.add(h.value(i));
        }
    }

    // ================================================================== the connection's thread

    /** On the connection's thread: starts the handler's virtual thread. */
    void start(Handler handler) {
        ex.onAbort(() -> finish(false, "the client went away"));
        Thread t = Thread.ofVirtual().name("flash-embed").unstarted(() -> run(handler));
        running.add(t);
        t.start();
        if (blocking) driver.execute(this::step);
    }

    private void scheduledStep() {
        scheduled.set(false);
        step();
    }

    /**
     * Does whatever the handler's last change calls for; under a blocking driver, then waits for the next change
     * for as long as nothing else (the client socket, the response being written) needs this thread.
     */
    private void step() {
        if (inStep) { // re-entered from a pipeline callback: the running step goes round once more
            again = true;
            return;
        }
        inStep = true;
        try {
            while (!done) {
                again = false;
                boolean waitForHandler = stepOnce();
                if (again) continue;
                if (!blocking || !waitForHandler || done) return;
                if (!awaitHandler()) return;
            }
        } finally {
            inStep = false;
        }
    }

    /** One round; returns whether the connection now waits for the handler and for nothing else. */
    private boolean stepOnce() {
        boolean needBody;
        Head h;
        long len;
        Throwable fail;
        boolean closed;
        lock.lock();
        try {
            signalled = false;
            needBody = wantBody && inPiece == null && !inEnded && inError == null;
            h = head;
            len = length;
            fail = failure;
            closed = outClosed;
        } finally {
            lock.unlock();
        }
        if (needBody && !fetching) fetchBody();
        if (done) return false;
        if (!responded) {
            if (fail != null && !closed) { // nothing has left for the client yet: a clean 500 is still possible
                responded = true;
                ex.failedBecause(ErrorCause.EMBED, ErrorCause.describe(fail));
                ex.fail(Status.INTERNAL_SERVER_ERROR);
                finish(false, "the handler failed");
                return false;
            }
            if (h == null) return !fetching;
            responded = true;
            bodyless = !h.allowsBody() || ex.request().method() == Method.HEAD;
            ex.respond(h, this, len);
            // Responding drops a body waiter: a handler still reading its request body is waited for again.
            if (fetching && !done && ex.active()) ex.onBody(this::bodyArrived);
        }
        if (done) return false;
        Runnable r = ready;
        if (r != null && readyNow()) {
            ready = null;
            r.run();
        }
        return !done && ready != null && !fetching;
    }

    /** Blocking drivers: waits for the handler's next change; false when interrupted (the server stops). */
    private boolean awaitHandler() {
        lock.lock();
        try {
            while (!signalled) forConnection.await();
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            lock.unlock();
        }
        finish(false, "the server is stopping");
        if (ex.active()) {
            if (ex.responseStarted()) {
                ex.abort();
            } else {
                ex.fail(Status.SERVICE_UNAVAILABLE, ErrorCause.EMBED, "the server stopped while the handler of " + path + " ran");
            }
        }
        return false;
    }

    /** Takes the next request body piece for the handler, or waits (without blocking) for the client to send it. */
    private void fetchBody() {
        try {
            ByteBuffer piece = ex.bodyNext();
            if (piece != null) {
                byte[] b = new byte[piece.remaining()];
                piece.get(b);
                ex.bodyConsumed(b.length);
                lock.lock();
                try {
                    inPiece = b;
                    inPos = 0;
                    wantBody = false;
                    forHandler.signalAll();
                } finally {
                    lock.unlock();
                }
            } else if (ex.bodyEnded()) {
                lock.lock();
                try {
                    inEnded = true;
                    wantBody = false;
                    forHandler.signalAll();
                } finally {
                    lock.unlock();
                }
            } else {
                fetching = true;
                ex.onBody(this::bodyArrived);
            }
        } catch (BadBodyException e) {
            bodyFailed(new IOException("bad request body: " + e.getMessage()));
            if (!responded) {
                responded = true;
                ex.fail(e.status());
                finish(false, "bad request body");
            } else {
                ex.abort();
            }
        } catch (IOException e) {
            bodyFailed(e);
        }
    }

    private void bodyFailed(IOException e) {
        lock.lock();
        try {
            inError = e;
            wantBody = false;
            forHandler.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void bodyArrived() {
        fetching = false;
        step();
    }

    private boolean readyNow() {
        lock.lock();
        try {
            return !out.isEmpty() || outClosed || failure != null;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The connection is done with this bridge: the handler's further reads fail, and its writes fail too, or go
     * nowhere ({@code bodyless}: HEAD, 204, 304, where the body is simply not sent).
     */
    private void finish(boolean bodylessEnd, String why) {
        done = true;
        ready = null;
        lock.lock();
        try {
            if (bodylessEnd) discard = true;
            else gone = true;
            if (inPiece == null && !inEnded && inError == null) inError = new IOException(why);
            forHandler.signalAll();
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ BodyStream (pulled by the connection)

    @Override
    public ByteBuffer next() throws IOException {
        lock.lock();
        try {
            if (failure != null && !outClosed) throw new IOException("the handler failed mid-body: " + failure);
            ByteBuffer b = out.peekFirst();
            return b == null ? null : b.slice(); // a view: the connection moves its position, consumed() moves ours
        } finally {
            lock.unlock();
        }
    }

    @Override
    public boolean ended() {
        lock.lock();
        try {
            return outClosed && out.isEmpty();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void consumed(int n) {
        lock.lock();
        try {
            ByteBuffer b = out.peekFirst();
            if (b == null) return;
            b.position(b.position() + n);
            queued -= n;
            if (!b.hasRemaining()) out.pollFirst();
            forHandler.signalAll();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void onReady(Runnable r) {
        if (readyNow()) {
            driver.execute(r);
            return;
        }
        ready = r;
        if (blocking && !inStep) driver.execute(this::step); // wait for the handler, as a task of this thread
    }

    @Override
    public void finished() { finish(false, "the response was sent"); }

    @Override
    public void abort() {
        if (done) return;
        finish(bodyless, bodyless ? "no body is sent" : "the response was cut short");
    }

    // ================================================================== the handler's thread

    private void run(Handler handler) {
        Throwable thrown = null;
        try {
            handler.handle(this);
            body.close();
        } catch (Throwable t) {
            thrown = t;
        } finally {
            running.remove(Thread.currentThread());
        }
        if (thrown == null) return;
        boolean quiet;
        lock.lock();
        try {
            quiet = gone; // the client left: failing its I/O is expected, not a defect
            if (failure == null) failure = thrown;
            signal();
        } finally {
            lock.unlock();
        }
        LOG.log(quiet ? Level.FINE : Level.WARNING, "embedded handler for " + method + " " + path + " threw", thrown);
    }

    /** Under lock: tells the connection's thread that something changed. */
    private void signal() {
        signalled = true;
        forConnection.signalAll();
        if (!blocking && scheduled.compareAndSet(false, true)) driver.execute(this::scheduledStep);
    }

    private void commit(long len) {
        Head h = new Head(status, Reasons.of(status));
        for (String[] f : responseHeaders) h.add(f[0], f[1]);
        committed = true;
        lock.lock();
        try {
            head = h;
            length = len;
            signal();
        } finally {
            lock.unlock();
        }
    }

    /** Hands a piece to the connection, waiting while the client is {@link #WINDOW} bytes behind. */
    private void push(ByteBuffer piece) throws IOException {
        lock.lock();
        try {
            while (queued >= WINDOW && !gone && !discard) forHandler.await();
            if (discard) return;
            if (gone) throw new IOException("the client went away");
            out.addLast(piece);
            queued += piece.remaining();
            signal();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while the client was slow");
        } finally {
            lock.unlock();
        }
    }

    private void closeBody(boolean shortBody, long written) {
        lock.lock();
        try {
            if (shortBody && failure == null) {
                failure = new IOException("the handler wrote " + written + " bytes of its Content-Length " + declaredLength);
            } else {
                outClosed = true;
            }
            signal();
        } finally {
            lock.unlock();
        }
    }

    @Override public String method() { return method; }

    @Override public String path() { return path; }

    @Override public String query() { return query; }

    @Override
    public String header(String name) {
        for (int i = 0; i < headerNames.size(); i++) if (headerNames.get(i).equalsIgnoreCase(name)) return headerValues.get(i);
        return null;
    }

    @Override public InputStream requestBody() { return in; }

    @Override
    public void status(int status) {
        if (committed) throw new IllegalStateException("the response head was already sent");
        if (status < 200 || status > 599) throw new IllegalArgumentException("status " + status + " is not 200 to 599");
        this.status = status;
    }

    @Override
    public void header(String name, String value) {
        if (committed) throw new IllegalStateException("the response head was already sent");
        if (name == null || name.isEmpty() || !isToken(name)) throw new IllegalArgumentException("not a header name: " + name);
        if (value == null || value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0 || value.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("header " + name + ": a value must not be null or contain CR, LF or NUL");
        }
        if (name.equalsIgnoreCase("Content-Length")) {
            try {
                declaredLength = Long.parseLong(value.trim());
            } catch (NumberFormatException e) {
                declaredLength = -2;
            }
            if (declaredLength < 0) throw new IllegalArgumentException("Content-Length: not a length: " + value);
            return;
        }
        if (name.equalsIgnoreCase("Transfer-Encoding") || name.equalsIgnoreCase("Connection")) {
            throw new IllegalArgumentException(name + " is set by Flash");
        }
        responseHeaders.add(new String[] {name, value});
    }

    private static boolean isToken(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
            if (!ok) return false;
        }
        return true;
    }

    @Override public OutputStream responseBody() { return body; }

    @Override
    public void send(int status, String contentType, byte[] bytes) {
        if (committed || body.used()) throw new IllegalStateException("the response was already begun");
        status(status);
        if (contentType != null) header("Content-Type", contentType);
        declaredLength = bytes.length;
        try {
            body.write(bytes);
            body.close();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The response body, buffered in pieces of {@link #PIECE} bytes. */
    private final class BodyOut extends OutputStream {
        private byte[] buf = new byte[PIECE];
        private int n;
        private long written;
        private boolean closed;

        boolean used() { return written > 0 || closed; }

        @Override
        public void write(int b) throws IOException { write(new byte[] {(byte) b}, 0, 1); }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            java.util.Objects.checkFromIndexSize(off, len, b.length);
            if (closed) throw new IOException("the response body is closed");
            if (declaredLength >= 0 && written + len > declaredLength) {
                throw new IOException("more than the Content-Length " + declaredLength + " written");
            }
            lock.lock();
            try {
                if (gone) throw new IOException("the client went away");
            } finally {
                lock.unlock();
            }
            while (len > 0) {
                int k = Math.min(len, buf.length - n);
                System.arraycopy(b, off, buf, n, k);
                n += k;
                off += k;
                len -= k;
                written += k;
                if (n == buf.length) sendPiece();
            }
        }

        private void sendPiece() throws IOException {
            if (!committed) commit(declaredLength);
            if (n == 0) return;
            ByteBuffer piece = ByteBuffer.wrap(buf, 0, n);
            buf = new byte[PIECE]; // the connection owns the old one until it is sent
            n = 0;
            push(piece);
        }

        @Override
        public void flush() throws IOException {
            if (closed) return;
            sendPiece();
        }

        @Override
        public void close() throws IOException {
            if (closed) return;
            closed = true;
            if (!committed) commit(declaredLength >= 0 ? declaredLength : n); // finished in one piece: length known
            if (n > 0) {
                ByteBuffer piece = ByteBuffer.wrap(buf, 0, n);
                n = 0;
                push(piece);
            }
            boolean shortBody = declaredLength >= 0 && written < declaredLength;
            closeBody(shortBody, written);
            if (shortBody) throw new IOException("the handler wrote " + written + " bytes of its Content-Length " + declaredLength);
        }
    }

    /** The request body, fetched piece by piece by the connection's thread when asked. */
    private final class BodyIn extends InputStream {
        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int r = read(one, 0, 1);
            return r < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            java.util.Objects.checkFromIndexSize(off, len, b.length);
            if (len == 0) return 0;
            lock.lock();
            try {
                while (true) {
                    if (inPiece != null) {
                        int k = Math.min(len, inPiece.length - inPos);
                        System.arraycopy(inPiece, inPos, b, off, k);
                        inPos += k;
                        if (inPos == inPiece.length) inPiece = null;
                        return k;
                    }
                    if (inEnded) return -1;
                    if (inError != null) throw new IOException(inError.getMessage(), inError);
                    if (!wantBody) {
                        wantBody = true;
                        signal();
                    }
                    forHandler.await();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while waiting for the request body");
            } finally {
                lock.unlock();
            }
        }

        @Override
        public int available() {
            lock.lock();
            try {
                return inPiece == null ? 0 : inPiece.length - inPos;
            } finally {
                lock.unlock();
            }
        }
    }
}
