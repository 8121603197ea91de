package flash.handlers;

import flash.http.BodyDecoder;
import flash.http.Head;
import flash.http.Method;
import flash.http.Request;
import flash.http.ResponseParser;
import flash.http.Status;
import flash.http.UpstreamFraming;
import flash.http.UpstreamHead;
import flash.http.UpstreamParse;
import flash.net.Registration;
import flash.net.Transport;
import flash.pipeline.BadBodyException;
import flash.pipeline.BodyStream;
import flash.pipeline.ErrorCause;
import flash.pipeline.Exchange;
import flash.pipeline.Tunnel;
import flash.upstream.Upstream;
import flash.upstream.UpstreamConnection;
import flash.upstream.UpstreamPool;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;

/**
 * One proxied request, as a small state machine on the client connection's thread: get an upstream connection
 * (pooled, or a new connect), send the request head, stream the request body with backpressure (the client is
 * read only when the upstream took the previous piece), read the response head, forward 1xx, then hand the body
 * to the client connection as a {@link BodyStream} (the upstream is read only when the client took the previous
 * piece). A 101 turns both connections into a tunnel.
 *
 * <p>Failures: a refused or reset upstream gives 502, a timeout 504, when no byte has reached the client;
 * otherwise the client connection is closed. An idempotent request without a body is retried on another upstream
 * (or a fresh connection) only while nothing has reached the client. A request never sent (connect failed) is
 * tried on the next upstream whatever its method.
 */
final class ProxyExchange implements UpstreamConnection.User, BodyStream {
    private static final Logger LOG = Logger.getLogger(ProxyExchange.class.getName());
    private static final int MAX_HEAD = 64 * 1024;
    private static final int MAX_FIELDS = 200;
    private static final ByteBuffer CRLF = ByteBuffer.wrap(new byte[] {'\r', '\n'}).asReadOnlyBuffer();
    private static final ByteBuffer LAST_CHUNK = ByteBuffer.wrap("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII))
            .asReadOnlyBuffer();

    private enum State { CONNECTING, SENDING, AWAITING_HEAD, BODY, TUNNEL, DONE }

    private final Exchange ex;
    private final ProxyHandler.Settings s;
    private final Request req;
    private final UpstreamPool pool;
    private final List<Upstream> tried = new ArrayList<>(2); // a list: one or two entries, no hashing per request
    private final String upgrade;      // the Upgrade value passed on, or null
    private final boolean chunkedUpload;
    private State state = State.CONNECTING;
    private UpstreamConnection up;
    private ByteBuffer head;           // the request head being sent
    private String target;             // the request target sent upstream
    private boolean bodySent;          // the client's body went upstream whole (or there was none)
    private boolean staleRetried;      // a reused connection failed and its upstream got one more try, fresh
    private boolean connectTimedOut;   // the last connect timed out: when no upstream is left, that is a 504
    private String lastConnectError;   // the last connect failure, for the error log
    // request body piece in flight: chunk framing + the client's view
    private final ByteBuffer[] gather = new ByteBuffer[4];
    private final ByteBuffer chunkHead = ByteBuffer.allocate(20);
    private ByteBuffer piece;
    private int pieceLength;
    private ByteBuffer tail;
    private ByteBuffer lastChunk;
    // response
    private ResponseParser parser;
    private BodyDecoder decoder;
    private boolean upstreamKeepAlive;
    private Runnable ready;
    private long sentAt;

    ProxyExchange(Exchange ex, ProxyHandler.Settings s) {
        this.ex = ex;
        this.s = s;
        this.req = ex.request();
        this.pool = UpstreamPool.of(ex.driver(), s.keepalive());
        this.upgrade = ProxyHeaders.upgradeRequested(req);
        this.chunkedUpload = req.chunked();
    }

    void start() {
        ex.onAbort(this::abort);
        target = ProxyHandler.target(s, req, ex.target());
        attempt();
    }

    /** The next upstream in turn: a pooled connection to it, else a new connect. */
    private void attempt() {
        Upstream u = s.group().pick(tried);
        if (u == null) {
            String last = lastConnectError == null ? "" : " (last connect: " + lastConnectError + ")";
            if (connectTimedOut) fail(Status.GATEWAY_TIMEOUT, "connect timed out, no other upstream" + last);
            else fail(Status.BAD_GATEWAY, "no upstream available" + last);
            return;
        }
        tried.add(u);
        head = ByteBuffer.wrap(ProxyHeaders.request(req, target, ex.remoteAddress(), req.contentLength(), chunkedUpload,
                upgrade, u.authority()));
        parser = new ResponseParser(MAX_HEAD, MAX_FIELDS);
        UpstreamConnection pooled = pool.take(u, ex.driver(), this);
        if (pooled != null) {
            up = pooled;
            connected();
            return;
        }
        try {
            state = State.CONNECTING;
            up = UpstreamConnection.open(ex.driver(), u, this, s.connectTimeoutNanos());
        } catch (IOException e) {
            u.failed(System.nanoTime(), flash.upstream.UpstreamGroup.DOWN_NANOS);
            lastConnectError = u.authority() + ": " + e;
            up = null;
            connectTimedOut = false;
            attempt();
        }
    }

    // ------------------------------------------------------------------ upstream events

    @Override
    public void onConnected() {
        if (state == State.DONE) return;
        up.upstream().succeeded();
        connected();
    }

    @Override
    public void onConnectFailed(IOException e) {
        if (state == State.DONE) return;
        Upstream u = up.upstream();
        u.failed(System.nanoTime(), flash.upstream.UpstreamGroup.DOWN_NANOS);
        lastConnectError = u.authority() + ": " + e;
        up.close();
        up = null;
        connectTimedOut = e instanceof SocketTimeoutException;
        // Refused or timed out, nothing was sent: the next upstream in turn, whatever the method (502, or 504 after
        // a timeout, when none is left).
        attempt();
    }

    private void connected() {
        connectTimedOut = false;
        up.startExchange();
        up.deadline(s.timeoutNanos());
        state = State.SENDING;
        sentAt = System.nanoTime(); // an early answer is timed from here; awaitHead() restarts it after the body
        send();
    }

    @Override
    public void onUpstreamWritable() {
        if (state == State.SENDING) send();
        else if (state == State.TUNNEL) ex.tunnelStep();
    }

    @Override
    public void onUpstreamReadable() {
        switch (state) {
            case AWAITING_HEAD -> readHead();
            case BODY -> readBody();
            case TUNNEL -> ex.tunnelStep();
            case SENDING -> readHead(); // an interim (its own 100 Continue), an early final answer, or a reset
            default -> up.interest(0);
        }
    }

    @Override
    public void onUpstreamTimeout() {
        if (state == State.DONE) return;
        if (state == State.CONNECTING) {
            onConnectFailed(new SocketTimeoutException("connect timed out"));
            return;
        }
        upstreamFailed(true, "upstream timed out");
    }

    // ------------------------------------------------------------------ request

    /** Sends the head, then the body as the client delivers it; each piece is consumed once written. */
    private void send() {
        try {
            while (true) {
                int n = 0;
                if (head.hasRemaining()) gather[n++] = head;
                if (piece != null) {
                    if (chunkedUpload && chunkHead.hasRemaining()) gather[n++] = chunkHead;
                    gather[n++] = piece;
                    if (tail != null) gather[n++] = tail;
                }
                if (lastChunk != null) gather[n++] = lastChunk;
                if (n > 0) {
                    long w = up.transport().write(gather, 0, n);
                    java.util.Arrays.fill(gather, 0, n, null);
                    if (w > 0) up.deadline(s.timeoutNanos());
                    if (head.hasRemaining() || (piece != null && (piece.hasRemaining() || (tail != null && tail.hasRemaining())))
                            || (lastChunk != null && lastChunk.hasRemaining())) {
                        up.interest(Registration.WRITE | Registration.READ); // READ: an early answer or a reset
                        return;
                    }
                    if (piece != null) {
                        piece = null;
                        tail = null;
                        ex.bodyConsumed(pieceLength);
                    }
                    if (lastChunk != null) {
                        lastChunk = null;
                        bodySent = true;
                    }
                }
                if (bodySent || !ex.hasBody()) {
                    awaitHead();
                    return;
                }
                ByteBuffer next = ex.bodyNext();
                if (next != null) {
                    piece = next;
                    pieceLength = next.remaining();
                    if (chunkedUpload) {
                        chunkHead.clear().put(Long.toHexString(pieceLength).getBytes(StandardCharsets.US_ASCII))
                                .put((byte) '\r').put((byte) '\n').flip();
                        tail = CRLF.duplicate();
                    }
                } else if (ex.bodyEnded()) {
                    if (chunkedUpload) lastChunk = LAST_CHUNK.duplicate();
                    else bodySent = true;
                } else {
                    // Wait for the client; meanwhile watch the upstream for an early answer or a reset, but do not
                    // time it: the wait is the client's (the connection's idle timeout covers it).
                    up.interest(Registration.READ);
                    up.deadline(0);
                    ex.onBody(this::resumeSend);
                    return;
                }
            }
        } catch (BadBodyException e) {
            closeUpstream();
            fail(e.status(), e.getMessage());
        } catch (IOException e) {
            if (!ex.active()) return; // the client went away mid-body: the abort hook closed the upstream
            upstreamFailed(up != null && up.timedOut(), "writing to upstream: " + e.getMessage());
        }
    }

    /** More of the client's body came: the upstream is waited on again, so its deadline runs again. */
    private void resumeSend() {
        if (state != State.SENDING || up == null) return;
        up.deadline(s.timeoutNanos());
        send();
    }

    private void awaitHead() {
        state = State.AWAITING_HEAD;
        sentAt = System.nanoTime();
        up.deadline(s.timeoutNanos());
        up.interest(Registration.READ);
    }

    // ------------------------------------------------------------------ response

    private void readHead() {
        int n;
        try {
            n = up.fill();
        } catch (IOException e) {
            upstreamFailed(up.timedOut(), "reading from upstream: " + e.getMessage());
            return;
        }
        if (n < 0) {
            upstreamFailed(false, "upstream closed before a response");
            return;
        }
        ByteBuffer buf = up.buffer();
        while (true) {
            buf.flip();
            UpstreamParse r = parser.parse(buf);
            buf.compact();
            switch (r) {
                case UpstreamParse.NeedMore nm -> {
                    if (!buf.hasRemaining()) {
                        closeUpstream();
                        fail(Status.BAD_GATEWAY, "upstream response head too large");
                        return;
                    }
                    // While sending, send() owns the interest (it may be waiting to write, too).
                    if (state != State.SENDING) up.interest(Registration.READ);
                    return;
                }
                case UpstreamParse.Invalid bad -> {
                    closeUpstream();
                    fail(Status.BAD_GATEWAY, "invalid upstream response: " + bad.reason());
                    return;
                }
                case UpstreamHead h when h.status() == 101 -> {
                    tunnel(h);
                    return;
                }
                case UpstreamHead h when h.interim() -> {
                    interim(h);
                    parser = new ResponseParser(MAX_HEAD, MAX_FIELDS);
                }
                case UpstreamHead h -> {
                    respond(h);
                    return;
                }
            }
        }
    }

    /** 1xx: forwarded (not 100, which the client connection already sent when the body was wanted). */
    private void interim(UpstreamHead h) {
        if (h.status() == 100) return;
        try {
            ex.interim(ProxyHeaders.response(h.status(), h.reason(), h.headers(), false));
        } catch (IOException e) {
            ex.abort();
        }
    }

    private void respond(UpstreamHead h) {
        ex.upstreamNanos(System.nanoTime() - sentAt);
        up.upstream().succeeded(); // it answered: a trial request after a down period ends the down period
        UpstreamFraming f = ResponseParser.framing(h, req.method() == Method.HEAD);
        if (f instanceof UpstreamParse.Invalid bad) {
            closeUpstream();
            fail(Status.BAD_GATEWAY, "invalid upstream response: " + bad.reason());
            return;
        }
        decoder = (BodyDecoder) f;
        upstreamKeepAlive = h.keepAlive() && decoder.length() >= 0 || h.keepAlive() && decoder.chunked();
        Head out = ProxyHeaders.response(h.status(), h.reason(), h.headers(), false);
        long length = decoder.chunked() ? -1 : decoder.length();
        if (req.method() == Method.HEAD || h.status() == 304) {
            String cl = h.header("Content-Length");
            length = cl == null ? -1 : flash.http.Tokens.parseDigits(cl.trim());
        }
        state = State.BODY;
        up.deadline(s.timeoutNanos());
        if (h.status() >= 500) ex.failedBecause(ErrorCause.UPSTREAM_STATUS, null); // the upstream's own 5xx, passed on
        ex.respond(out, this, length);
    }

    private void readBody() {
        if (up.lent()) {
            // The client connection still holds a view of the buffer (flipped, so a read would land on the bytes it
            // has yet to send): read nothing until it took them and asks again (onReady).
            up.interest(0);
            return;
        }
        try {
            int n = up.fill();
            if (n < 0) {
                long r = decoder.eof();
                if (r == BodyDecoder.FAILED) {
                    closeUpstream();
                    ex.abort(); // truncated: the client must see a short body, never a complete-looking one
                    return;
                }
                upstreamKeepAlive = false;
            } else if (n > 0) {
                up.deadline(s.timeoutNanos());
            }
        } catch (IOException e) {
            if (up.timedOut()) LOG.fine("upstream timed out mid-body");
            closeUpstream();
            ex.abort();
            return;
        }
        if (!up.buffer().hasRemaining()) { // full: wait for the client to take some, and do not time the origin
            up.interest(0);
            up.deadline(0);
        }
        Runnable r = ready;
        ready = null;
        if (r != null) r.run();
    }

    // ------------------------------------------------------------------ BodyStream (to the client)

    @Override
    public ByteBuffer next() throws IOException {
        if (decoder == null || up == null) return null;
        long n = decoder.available(up.readable());
        if (n > 0) return up.lend((int) n);
        up.refill();
        if (n == BodyDecoder.FAILED) {
            closeUpstream();
            throw new IOException("invalid upstream body: " + decoder.failure().reason());
        }
        return null;
    }

    @Override
    public boolean ended() { return decoder != null && decoder.done(); }

    @Override
    public void consumed(int n) {
        if (up == null || !up.lent()) return;
        decoder.consume(up.buffer(), n);
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
        if (c == null) return;
        if (upstreamKeepAlive && bodySentOrNone() && decoder.done()) pool.release(c);
        else c.close();
    }

    private boolean bodySentOrNone() { return bodySent || !ex.hasBody(); }

    @Override
    public void abort() {
        if (state == State.DONE) return;
        if (state == State.BODY && decoder != null && decoder.done() && (up == null || !up.lent())) {
            finished(); // HEAD, 204, 304: the upstream's response was complete, so its connection is reusable
            return;
        }
        state = State.DONE;
        closeUpstream();
    }

    // ------------------------------------------------------------------ upgrade

    private void tunnel(UpstreamHead h) {
        if (upgrade == null) {
            closeUpstream();
            fail(Status.BAD_GATEWAY, "upstream switched protocols without being asked");
            return;
        }
        state = State.TUNNEL;
        ex.upstreamNanos(System.nanoTime() - sentAt);
        UpstreamConnection c = up;
        c.deadline(0); // the tunnel keeps its own idle timeout
        Tunnel.End peer = new Tunnel.End() {
            @Override public Transport transport() { return c.transport(); }
            @Override public ByteBuffer buffer() { return c.buffer(); }
            @Override public void interest(int ops) { c.interest(ops); }
        };
        try {
            ex.upgrade(ProxyHeaders.response(101, h.reason(), h.headers(), true), peer, s.tunnelTimeoutNanos());
        } catch (IOException e) {
            closeUpstream();
            ex.abort();
        }
    }

    // ------------------------------------------------------------------ failures

    private boolean retryable() {
        return !ex.responseStarted() && ex.active() && !ex.hasBody() && upgrade == null && idempotent(req.method());
    }

    private static boolean idempotent(Method m) {
        return switch (m) {
            case GET, HEAD, OPTIONS, TRACE, PUT, DELETE -> true;
            default -> false;
        };
    }

    /** The upstream failed after we sent to it: retry if that is safe, else 502/504 or a close. */
    private void upstreamFailed(boolean timeout, String why) {
        boolean reused = up != null && up.exchanges() > 1;
        Upstream failed = up == null ? null : up.upstream();
        closeUpstream();
        if (!ex.active()) return;
        if (ex.responseStarted()) {
            ex.abort();
            return;
        }
        if (!timeout && retryable()) {
            // A pooled connection the upstream had closed gets one more try on a fresh one; else the next upstream.
            if (reused && failed != null && !staleRetried) {
                tried.remove(failed);
                staleRetried = true;
            }
            attempt();
            return;
        }
        fail(timeout ? Status.GATEWAY_TIMEOUT : Status.BAD_GATEWAY, why);
    }

    private void fail(Status status, String why) {
        state = State.DONE;
        closeUpstream();
        if (!ex.active()) return;
        if (ex.responseStarted()) {
            ex.abort();
            return;
        }
        if (status.code() >= 500) {
            // Flash's own 502/504: the error log says why, and flash_errors_total counts it.
            ex.fail(status, status == Status.GATEWAY_TIMEOUT ? ErrorCause.UPSTREAM_TIMEOUT : ErrorCause.UPSTREAM, why);
        } else {
            LOG.fine(() -> "proxy " + req.target() + ": " + status.code() + " (" + why + ")");
            ex.fail(status);
        }
    }

    private void closeUpstream() {
        UpstreamConnection c = up;
        up = null;
        if (c != null) c.close();
    }
}
