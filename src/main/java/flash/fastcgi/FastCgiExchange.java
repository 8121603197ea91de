package flash.fastcgi;

import flash.cgi.CgiOutputException;
import flash.cgi.CgiOutputParser;
import flash.http.Head;
import flash.http.Method;
import flash.http.Request;
import flash.http.Status;
import flash.net.Registration;
import flash.pipeline.BadBodyException;
import flash.pipeline.BodyCollector;
import flash.pipeline.BodyStream;
import flash.pipeline.Exchange;
import flash.upstream.UpstreamConnection;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.util.logging.Logger;

/**
 * One FastCGI request, as a small state machine on the client connection's thread, the proxy's twin: wait for a
 * slot (a bounded FIFO inside the server), take a pooled keep-alive connection or connect, send BEGIN_REQUEST and
 * PARAMS, stream the request body as STDIN records with backpressure (the client is read only once the backend
 * took the previous piece), parse STDOUT's CGI header block, then hand the rest of STDOUT to the client connection
 * as a {@link BodyStream} straight from the connection's read buffer (the backend is read only when the client
 * took the previous piece). STDERR goes to the error log; END_REQUEST ends the response and returns the
 * connection to the pool.
 *
 * <p>Failures: refused or reset gives 502, no progress for {@code --fastcgi-timeout} gives 504, while nothing has
 * reached the client; afterwards the client connection is closed. A client that goes away closes the backend
 * connection (FastCGI's abort), which is never reused half-way.
 */
final class FastCgiExchange implements UpstreamConnection.User, BodyStream, RecordReader.Sink {
    private static final Logger LOG = Logger.getLogger(FastCgiExchange.class.getName());
    private static final int MAX_HEAD = 64 * 1024;
    private static final int MAX_STDERR_LINE = 4096;

    private enum State { WAITING, CONNECTING, SENDING, AWAITING_HEAD, BODY, DONE }

    private final Exchange ex;
    private final FastCgiHandler.Settings s;
    private final FastCgiHandler.Found script;
    private final FastCgiHandler.Backend backend;
    private final Request req;
    private final Slots.Waiter waiter = new Slots.Waiter() {
        @Override public void granted() { grantedLater(); }
        @Override public void expired() { expiredLater(); }
        @Override public void grantedNow() { grantedInline(); }
    };
    private State state = State.WAITING;
    private boolean slot;              // holds one of the backend's slots
    private UpstreamConnection up;
    private boolean fresh;             // the connection was opened for this request (not from the pool)
    private boolean retried;
    // request
    private ByteBuffer begin;
    private final ByteBuffer stdinHeader = ByteBuffer.allocate(Records.HEADER);
    private final ByteBuffer[] gather = new ByteBuffer[3];
    private ByteBuffer piece;
    private ByteBuffer buffered;       // a chunked body, collected first: FastCGI needs CONTENT_LENGTH
    private int pieceLength;
    private boolean stdinEnding;       // the empty STDIN record is being written
    private boolean stdinDone;
    private boolean stdinInBegin;      // no body: the empty STDIN record went in the same buffer as the params
    private boolean earlyInput;        // the backend sent something while we were still sending
    private boolean bodyTouched;       // a piece of the client's body was taken: no retry after that
    private boolean received;          // a byte came from the backend on this connection
    // response
    private final RecordReader reader = new RecordReader();
    private final CgiOutputParser parser = new CgiOutputParser(MAX_HEAD);
    private Runnable ready;
    private long bodyLimit = -1;       // the script's Content-Length when the client gets a body framed by it, else -1
    private long bodySent;             // body bytes the client connection took
    private long sentAt;
    private final StringBuilder stderrLine = new StringBuilder();

    FastCgiExchange(Exchange ex, FastCgiHandler.Settings s, FastCgiHandler.Found script, FastCgiHandler.Backend backend) {
        this.ex = ex;
        this.s = s;
        this.script = script;
        this.backend = backend;
        this.req = ex.request();
    }

    void start() {
        ex.onAbort(this::abort);
        if (req.chunked()) {
            BodyCollector.collect(ex, s.maxBody(), new BodyCollector.Done() {
                @Override public void collected(byte[] body) {
                    if (state != State.WAITING || !ex.active()) return;
                    buffered = ByteBuffer.wrap(body);
                    acquire();
                }

                @Override public void refused(Status status, String why) {
                    if (state == State.WAITING && ex.active()) finishWith(status, why);
                }

                @Override public void gone() { state = State.DONE; }
            });
            return;
        }
        acquire();
    }

    private void acquire() {
        switch (backend.slots().acquire(waiter, s.timeoutNanos())) {
            case NOW -> {
                slot = true;
                go();
            }
            case QUEUED -> state = State.WAITING;
            case FULL, TIMED_OUT -> overloaded();
        }
    }

    /** Past the bound of waiting requests: 503, with a hint of when to come back. */
    private void overloaded() {
        state = State.DONE;
        if (!ex.active()) return;
        LOG.fine(() -> "fastcgi " + script.scriptName() + ": 503 (every connection busy, queue full)");
        ex.failedBecause(flash.pipeline.ErrorCause.OVERLOAD, "FastCGI queue full");
        ex.respond(flash.pipeline.Responder.error(Status.SERVICE_UNAVAILABLE, req, !req.keepAlive(), "Retry-After", "1"));
    }

    /** A slot came free for this queued request (event loops): continue on the loop, after the releaser is done. */
    private void grantedLater() {
        slot = true;
        ex.driver().execute(() -> {
            if (state != State.WAITING || !ex.active()) {
                releaseSlot();
                return;
            }
            go();
        });
    }

    /** A slot handed over by an exchange that is done with it (event loops): go on now, on the releaser's call. */
    private void grantedInline() {
        slot = true;
        if (state != State.WAITING || !ex.active()) {
            releaseSlot();
            return;
        }
        go();
    }

    /** Queued longer than --fastcgi-timeout (event loops): 503, as when the queue is full. */
    private void expiredLater() {
        ex.driver().execute(() -> {
            if (state == State.WAITING && ex.active()) overloaded();
        });
    }

    private void go() {
        UpstreamConnection pooled = backend.pool().take(script.route().upstream(), ex.driver(), this);
        if (pooled != null) {
            up = pooled;
            fresh = false;
            connected();
            return;
        }
        try {
            state = State.CONNECTING;
            fresh = true;
            up = UpstreamConnection.open(ex.driver(), script.route().upstream(), this, s.connectTimeoutNanos());
        } catch (IOException e) {
            up = null;
            finishWith(Status.BAD_GATEWAY, "cannot connect: " + e.getMessage());
        }
    }

    // ------------------------------------------------------------------ upstream events

    @Override
    public void onConnected() {
        if (state == State.DONE) return;
        connected();
    }

    @Override
    public void onConnectFailed(IOException e) {
        if (state == State.DONE) return;
        closeUpstream();
        finishWith(e instanceof SocketTimeoutException ? Status.GATEWAY_TIMEOUT : Status.BAD_GATEWAY,
                "connect failed: " + e);
    }

    private void connected() {
        piece = null;
        stdinEnding = stdinDone = earlyInput = false;
        up.startExchange();
        up.deadline(s.timeoutNanos());
        if (buffered != null) buffered.rewind(); // a retry on a fresh connection sends it again
        stdinInBegin = buffered != null ? buffered.capacity() == 0 : !ex.hasBody();
        begin = Records.begin(FastCgiParams.of(ex, s, script, bodyLength()), true, stdinInBegin);
        state = State.SENDING;
        sentAt = System.nanoTime();
        send();
    }

    @Override
    public void onUpstreamWritable() {
        if (state == State.SENDING) send();
    }

    @Override
    public void onUpstreamReadable() {
        switch (state) {
            case SENDING -> early();
            case AWAITING_HEAD -> readHead();
            case BODY -> readBody();
            default -> { if (up != null) up.interest(0); }
        }
    }

    @Override
    public void onUpstreamTimeout() {
        if (state == State.DONE) return;
        upstreamFailed(true, state == State.CONNECTING ? "connect timed out" : "timed out");
    }

    // ------------------------------------------------------------------ request

    /** BEGIN_REQUEST and PARAMS, then STDIN as the client delivers it, then the empty STDIN record. */
    private void send() {
        try {
            while (true) {
                int n = 0;
                if (begin.hasRemaining()) gather[n++] = begin;
                if (piece != null || stdinEnding) {
                    if (stdinHeader.hasRemaining()) gather[n++] = stdinHeader;
                    if (piece != null) gather[n++] = piece;
                }
                if (n > 0) {
                    long w = up.transport().write(gather, 0, n);
                    java.util.Arrays.fill(gather, 0, n, null);
                    if (w > 0) up.deadline(s.timeoutNanos());
                    if (begin.hasRemaining() || ((piece != null || stdinEnding) && stdinHeader.hasRemaining())
                            || (piece != null && piece.hasRemaining())) {
                        up.interest(earlyInput ? Registration.WRITE : Registration.WRITE | Registration.READ);
                        return;
                    }
                    if (piece != null) {
                        piece = null;
                        if (buffered == null) ex.bodyConsumed(pieceLength);
                    }
                    if (stdinEnding) {
                        stdinEnding = false;
                        stdinDone = true;
                    }
                }
                if (stdinInBegin && !begin.hasRemaining()) stdinDone = true;
                if (stdinDone) {
                    awaitHead();
                    return;
                }
                ByteBuffer next = buffered != null ? (buffered.hasRemaining() ? buffered : null)
                        : ex.hasBody() ? ex.bodyNext() : null;
                if (next != null) {
                    if (buffered == null) bodyTouched = true; // a collected body can be sent again
                    pieceLength = Math.min(next.remaining(), Records.MAX_CONTENT);
                    piece = next.slice(next.position(), pieceLength);
                    if (buffered != null) buffered.position(buffered.position() + pieceLength);
                    Records.stdinHeader(stdinHeader, pieceLength);
                } else if (buffered != null || !ex.hasBody() || ex.bodyEnded()) {
                    stdinEnding = true;
                    Records.stdinHeader(stdinHeader, 0);
                } else {
                    // The wait is the client's (its idle timeout covers it): watch the backend only for a reset.
                    up.interest(earlyInput ? 0 : Registration.READ);
                    up.deadline(0);
                    ex.onBody(this::resumeSend);
                    return;
                }
            }
        } catch (BadBodyException e) {
            closeUpstream();
            finishWith(e.status(), e.getMessage());
        } catch (IOException e) {
            if (!ex.active()) return;
            upstreamFailed(up != null && up.timedOut(), "writing: " + e.getMessage());
        }
    }

    /** CONTENT_LENGTH: the collected body's, or the request's. */
    private long bodyLength() { return buffered != null ? buffered.capacity() : req.contentLength(); }

    private void resumeSend() {
        if (state != State.SENDING || up == null) return;
        up.deadline(s.timeoutNanos());
        send();
    }

    /** The backend spoke before it had the whole request: keep what it sent (it is the response's start). */
    private void early() {
        try {
            int n = up.fill();
            if (n < 0) {
                upstreamFailed(false, "closed while the request was being sent");
                return;
            }
        } catch (IOException e) {
            upstreamFailed(up.timedOut(), "reading: " + e.getMessage());
            return;
        }
        earlyInput = true;
        received = true;
        up.interest(piece != null || stdinEnding || begin.hasRemaining() ? Registration.WRITE : 0);
    }

    private void awaitHead() {
        state = State.AWAITING_HEAD;
        sentAt = System.nanoTime();
        up.deadline(s.timeoutNanos());
        if (earlyInput) readHead();
        else up.interest(Registration.READ);
    }

    // ------------------------------------------------------------------ response

    private void readHead() {
        int n;
        try {
            n = up.fill();
        } catch (IOException e) {
            upstreamFailed(up.timedOut(), "reading: " + e.getMessage());
            return;
        }
        if (n > 0) received = true;
        ByteBuffer buf = up.buffer();
        buf.flip();
        try {
            while (true) {
                int r = reader.next(buf, this);
                if (r == RecordReader.FAILED) {
                    buf.compact();
                    malformed("not FastCGI: " + reader.failure());
                    return;
                }
                if (r == RecordReader.ENDED) {
                    buf.compact();
                    parser.endOfInput(); // throws: the output ended inside the header block
                    malformed("END_REQUEST before the header block ended");
                    return;
                }
                if (r == RecordReader.NEED_MORE) {
                    buf.compact();
                    if (n < 0) {
                        upstreamFailed(false, "closed before a response");
                        return;
                    }
                    if (!buf.hasRemaining()) {
                        malformed("header block larger than the buffer");
                        return;
                    }
                    up.interest(Registration.READ);
                    return;
                }
                ByteBuffer out = buf.slice(buf.position(), r);
                CgiOutputParser.Result result = parser.feed(out);
                reader.consume(buf, out.position());
                if (result != null) {
                    if (result.localRedirect() == null && respondWhole(result, buf)) return;
                    buf.compact();
                    respond(result);
                    return;
                }
            }
        } catch (CgiOutputException e) {
            malformed("invalid CGI output: " + e.getMessage());
        }
    }

    private void malformed(String why) {
        closeUpstream();
        finishWith(Status.BAD_GATEWAY, why);
    }

    private void respond(CgiOutputParser.Result r) {
        ex.upstreamNanos(System.nanoTime() - sentAt);
        if (r.localRedirect() != null) {
            // RFC 3875 6.2.2: the answer is a GET of that path on this server. The rest of the script's output is not
            // wanted: closing the connection is FastCGI's abort (php-fpm ends the request), cheaper than draining.
            state = State.DONE;
            closeUpstream();
            releaseSlot();
            ex.redirect(r.localRedirect());
            return;
        }
        Head head = r.head();
        state = State.BODY;
        up.deadline(s.timeoutNanos());
        // The script's own Content-Length frames the response when it gave one (no chunking); otherwise chunked.
        long length = r.contentLength();
        bodyLimit = req.method() != Method.HEAD && head.allowsBody() ? length : -1;
        ex.respond(head, this, length);
    }

    /**
     * The whole response is in the read buffer already (a small page: php-fpm writes it and END_REQUEST at once):
     * copy its body out, give the connection back to the pool and the slot to the next queued request (whose
     * request goes to the backend before this response goes to the client: the php-fpm worker is not left idle
     * while the client is written to), then answer with a Content-Length in one write, not chunked in two.
     * False, with nothing consumed, when the response goes on past the buffer: it is streamed.
     */
    private boolean respondWhole(CgiOutputParser.Result r, ByteBuffer buf) {
        int whole = reader.wholeStdout(buf);
        if (whole < 0) return false;
        byte[] body = new byte[whole];
        int off = 0;
        int n;
        while ((n = reader.next(buf, this)) > 0) {
            buf.get(buf.position(), body, off, n);
            off += n;
            reader.consume(buf, n);
        }
        buf.compact();
        if (n != RecordReader.ENDED) { // the look-ahead said otherwise: cannot happen, but never send half a body
            malformed("response ended early");
            return true;
        }
        ex.upstreamNanos(System.nanoTime() - sentAt);
        state = State.DONE;
        UpstreamConnection c = up;
        up = null;
        if (stdinDone && !c.lent()) backend.pool().release(c);
        else c.close();
        if (slot) {
            slot = false;
            backend.slots().releaseNow();
        }
        if (!ex.active()) return true;
        long declared = r.contentLength();
        boolean withBody = req.method() != Method.HEAD && r.head().allowsBody();
        if (withBody && declared > whole) {
            // The script promised more than it wrote: answering with what came would hide a truncation.
            finishWith(Status.BAD_GATEWAY, "wrote " + whole + " bytes of its Content-Length " + declared);
            return true;
        }
        // HEAD: the script's own Content-Length if it gave one (php-fpm sends no body for HEAD), else none. Output past
        // a script's Content-Length is dropped, as CGI drops it.
        long length = withBody ? (declared >= 0 ? declared : whole) : declared;
        ByteBuffer bytes = ByteBuffer.wrap(body, 0, withBody && declared >= 0 ? (int) declared : whole);
        ex.respond(r.head(), new WholeBody(bytes), length);
        return true;
    }

    /** A body held whole in memory, as a stream that is always ready. */
    private static final class WholeBody implements BodyStream {
        private final ByteBuffer bytes;
        private boolean sent;

        WholeBody(ByteBuffer bytes) { this.bytes = bytes; }

        @Override public ByteBuffer next() { return sent ? null : bytes; }

        @Override public boolean ended() { return sent || !bytes.hasRemaining(); }

        @Override public void consumed(int n) { if (!bytes.hasRemaining()) sent = true; }

        @Override public void onReady(Runnable ready) { ready.run(); }

        @Override public void abort() { }
    }

    private void readBody() {
        if (up.lent()) {
            up.interest(0);
            return;
        }
        try {
            int n = up.fill();
            if (n < 0) {
                closeUpstream();
                ex.abort(); // truncated: the client must see a short body, never a complete-looking one
                return;
            }
            if (n > 0) up.deadline(s.timeoutNanos());
        } catch (IOException e) {
            if (up.timedOut()) LOG.fine("fastcgi timed out mid-body");
            closeUpstream();
            ex.abort();
            return;
        }
        if (!up.buffer().hasRemaining()) {
            up.interest(0);
            up.deadline(0);
        }
        Runnable r = ready;
        ready = null;
        if (r != null) r.run();
    }

    // ------------------------------------------------------------------ RecordReader.Sink

    @Override
    public void stderr(ByteBuffer piece) {
        while (piece.hasRemaining()) {
            byte b = piece.get();
            if (b == '\n') {
                logStderr();
            } else if (stderrLine.length() < MAX_STDERR_LINE) {
                stderrLine.append((char) (b & 0xff));
            }
        }
    }

    private void logStderr() {
        if (stderrLine.isEmpty()) return;
        String line = stderrLine.toString();
        stderrLine.setLength(0);
        LOG.warning(() -> "fastcgi " + script.scriptName() + ": " + line);
    }

    @Override
    public void end(int appStatus, int protocolStatus) {
        logStderr();
        if (protocolStatus != Records.REQUEST_COMPLETE) {
            LOG.warning(() -> "fastcgi " + script.scriptName() + ": END_REQUEST protocol status " + protocolStatus);
        }
    }

    // ------------------------------------------------------------------ BodyStream (to the client)

    @Override
    public ByteBuffer next() throws IOException {
        if (up == null) return null;
        ByteBuffer buf = up.readable(); // flips once: read mode until lend or refill
        while (true) {
            int n = reader.next(buf, this);
            if (n > 0) {
                if (bodyLimit < 0) return up.lend(n);
                long room = bodyLimit - bodySent;
                if (room > 0) return up.lend((int) Math.min(n, room));
                reader.consume(buf, n); // past the script's Content-Length: dropped, as CGI drops it
                continue;
            }
            up.refill();
            if (n == RecordReader.FAILED) {
                closeUpstream();
                throw new IOException("invalid FastCGI stream: " + reader.failure());
            }
            if (n == RecordReader.ENDED && bodySent < bodyLimit) {
                // A short body under a Content-Length the client already has: closing is the only honest answer.
                closeUpstream();
                throw new IOException("fastcgi " + script.scriptName() + " wrote less than its Content-Length");
            }
            return null;
        }
    }

    @Override
    public boolean ended() { return reader.ended() && bodySent >= bodyLimit; }

    @Override
    public void consumed(int n) {
        if (up == null || !up.lent()) return;
        reader.consume(up.buffer(), n);
        bodySent += n;
        up.refill();
    }

    @Override
    public void onReady(Runnable r) {
        ready = r;
        if (up != null) {
            up.interest(Registration.READ);
            up.deadline(s.timeoutNanos());
        }
    }

    @Override
    public void finished() {
        if (state == State.DONE) return;
        state = State.DONE;
        UpstreamConnection c = up;
        up = null;
        if (c != null) {
            if (reader.ended() && stdinDone && !c.lent()) backend.pool().release(c);
            else c.close();
        }
        releaseSlot();
    }

    @Override
    public void abort() {
        if (state == State.DONE) return;
        if (state == State.WAITING) backend.slots().cancel(waiter);
        if (state == State.BODY && reader.ended() && (up == null || !up.lent())) {
            finished(); // HEAD, 204, 304: the response was complete, the connection is reusable
            return;
        }
        state = State.DONE;
        closeUpstream(); // FastCGI's abort: closing the connection (php-fpm then ends the request)
        releaseSlot();
    }

    // ------------------------------------------------------------------ failures

    private void upstreamFailed(boolean timeout, String why) {
        boolean reused = up != null && !fresh;
        closeUpstream();
        if (!ex.active()) {
            state = State.DONE;
            releaseSlot();
            return;
        }
        if (ex.responseStarted()) {
            state = State.DONE;
            releaseSlot();
            ex.abort();
            return;
        }
        // A pooled connection the backend had closed meanwhile: one more try on a fresh one, if the request body
        // was not touched yet.
        if (!timeout && reused && !retried && !bodyTouched && !received && state != State.BODY) {
            retried = true;
            go();
            return;
        }
        finishWith(timeout ? Status.GATEWAY_TIMEOUT : Status.BAD_GATEWAY, why);
    }

    private void finishWith(Status status, String why) {
        state = State.DONE;
        closeUpstream();
        releaseSlot();
        if (!ex.active()) return;
        if (ex.responseStarted()) {
            ex.abort();
            return;
        }
        LOG.fine(() -> "fastcgi " + script.scriptName() + ": " + status.code() + " (" + why + ")");
        ex.failedBecause(flash.pipeline.ErrorCause.FASTCGI, script.scriptName() + ": " + why);
        ex.fail(status);
    }

    private void releaseSlot() {
        if (!slot) return;
        slot = false;
        backend.slots().release();
    }

    private void closeUpstream() {
        UpstreamConnection c = up;
        up = null;
        if (c != null) c.close();
    }
}
