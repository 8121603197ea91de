package flash.pipeline;

import flash.http.BadRequest;
import flash.http.BodyDecoder;
import flash.http.Head;
import flash.http.Method;
import flash.http.ParseResult;
import flash.http.Request;
import flash.http.RequestParser;
import flash.http.RequestTarget;
import flash.http.Status;
import flash.net.Driver;
import flash.net.IoHandler;
import flash.net.ProxyProtocol;
import flash.net.Registration;
import flash.net.Transport;
import flash.sys.LoopClock;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/**
 * One client connection speaking HTTP/1: the codec only. It reads and parses request heads, keeps pipelined
 * requests in order and one at a time, hands each request to the handler the {@link Router} picks as an
 * {@link Exchange}, delivers the request body to it on demand, sends the response it gets back, and handles
 * keep-alive, 100-continue, lingering close and timeouts. Written once for every architecture: an event loop
 * calls {@link #onReadable}/{@link #onWritable} on readiness; a blocking driver calls them for the one operation
 * asked for next. All state is confined to the owning thread, except what a blocking driver's timer reads.
 */
public final class Http1Connection implements IoHandler {
    /** BODY: a handler waits for request body bytes; BUSY: a handler or the disk is working (its own deadlines). */
    public enum Phase { IDLE, READING, BODY, BUSY, WRITING, LINGERING, TUNNEL, CLOSED }

    /** How long a closing connection keeps draining the client's input so our last response is not lost to a RST. */
    private static final long LINGER_NANOS = 2_000_000_000L;
    private static final java.util.logging.Logger PROXY_LOG = java.util.logging.Logger.getLogger("flash.proxy-protocol");
    /**
     * During a drain, a keep-alive connection that is idle is closed only once it has been idle this long. Closing it
     * at once races a request already on its way (a load balancer that just took it from its pool of idle
     * connections gets a close instead of a response, and cannot know whether to retry); a request that arrives is
     * answered, with {@code Connection: close}. A connection idle this long has dropped out of its client's rotation
     * (a balancer reuses its most recent connections, and has seen the health check fail by then).
     */
    static final long DRAIN_QUIET_NANOS = 1_000_000_000L;
    /** How long a keep-alive connection must have been idle before mt may shed it for a waiting one. */
    static final long SHED_MIN_IDLE_NANOS = 250_000_000L;
    private static final byte[] CONTINUE = "HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private final Transport transport;
    private final Driver driver;
    private final Registration reg;
    private final PipelineContext ctx;
    // Made with the read buffer and dropped with it (releaseBufferIfEmpty): between requests it holds nothing, and an
    // idle connection keeps neither (docs/performance.md, section 24). Read through parser().
    private RequestParser parser;
    /**
     * The client: the socket's peer, or the address a load balancer's PROXY protocol header names. The one source of
     * the access log's remote, X-Forwarded-For and Forwarded, and CGI and FastCGI REMOTE_ADDR and REMOTE_PORT.
     */
    private SocketAddress client;
    /** --proxy-protocol: reads the header that precedes the client's first byte; null once it has been read. */
    private ProxyProtocol proxyHeader;
    private ByteBuffer in;                           // write mode, except while a body view is out
    private Outgoing outgoing;                       // the response being sent, or null
    /**
     * Blocking drivers: the sender reused by every response of this connection. On an event loop a response takes one
     * from the loop's {@link Senders} and gives it back when done, so idle connections hold none.
     */
    private Outgoing sender;
    private Exchange exchange;                       // the exchange in progress, or null
    private boolean bodyViewOut;                     // `in` is flipped while a handler holds a body view
    private boolean closeAfterResponse;
    private boolean inputClosed;
    private boolean writeBlocked;
    private boolean processing; // process() is on the stack: a response finished under it lets its loop go on
    private int served; // requests handled on this connection
    private volatile Phase phase = Phase.IDLE;
    private volatile long deadline;
    /** Set by another thread (a blocking driver's watchdog): the deadline passed; the owner acts on it. */
    private volatile boolean timerFired;
    /**
     * A drain has begun (set on the owning thread by {@link #drain}, or by another thread under a blocking driver):
     * every response from now on says {@code Connection: close}, and the connection ends after it.
     */
    private volatile boolean drainRequested;
    private long interruptedDeadline; // the watchdog's own field: the deadline it last acted on
    private static final java.lang.invoke.VarHandle DEADLINE;
    static {
        try {
            DEADLINE = java.lang.invoke.MethodHandles.lookup().findVarHandle(Http1Connection.class, "deadline", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
    private Tunnel tunnel;            // after a 101: the connection is a byte tunnel to a peer

    public Http1Connection(Transport transport, Driver driver, Registration reg, PipelineContext ctx) {
        this.transport = transport;
        this.driver = driver;
        this.reg = reg;
        this.ctx = ctx;
        this.client = remoteOf(transport);
        if (ctx.config().proxyProtocol()) {
            // The proxy sends the header at once on connecting: it gets the header timeout, not the idle one.
            proxyHeader = new ProxyProtocol();
            phase = Phase.READING;
            deadline = LoopClock.nanoTime() + ctx.config().headerTimeout().toNanos();
        } else {
            this.deadline = LoopClock.nanoTime() + ctx.config().idleTimeout().toNanos();
        }
        driver.stats().openConnections.increment();
    }

    private static SocketAddress remoteOf(Transport t) {
        try {
            return t.channel() instanceof SocketChannel sc ? sc.getRemoteAddress() : null;
        } catch (IOException e) {
            return null;
        }
    }

    public Phase phase() { return phase; }
    public Driver driver() { return driver; }

    String remoteHost() {
        return client instanceof InetSocketAddress a ? a.getAddress().getHostAddress() : "-";
    }

    int remotePort() { return client instanceof InetSocketAddress a ? a.getPort() : 0; }

    /** The address the client connected to (for CGI's SERVER_NAME and SERVER_PORT), or null. */
    InetSocketAddress localAddress() {
        try {
            return transport.channel() instanceof SocketChannel sc && sc.getLocalAddress() instanceof InetSocketAddress a ? a : null;
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * A CGI local redirect (RFC 3875 section 6.2.2): the exchange is replaced, without completing, by a GET for
     * {@code pathAndQuery} with the same headers and no body, routed like a new request. A request body not read
     * yet is discarded by the connection as usual.
     */
    void redirect(Exchange ex, String pathAndQuery) {
        if (ex != exchange || phase == Phase.CLOSED) return;
        Request old = ex.request();
        if (ex.redirects >= Exchange.MAX_REDIRECTS) {
            respond(ex, Responder.error(flash.http.Status.INTERNAL_SERVER_ERROR, old, !old.keepAlive()));
            return;
        }
        int q = pathAndQuery.indexOf('?');
        String path = q < 0 ? pathAndQuery : pathAndQuery.substring(0, q);
        String query = q < 0 ? null : pathAndQuery.substring(q + 1);
        Request req = new Request(Method.GET, "GET", pathAndQuery, path, query, old.minorVersion(), old.headers(),
                old.keepAlive(), 0, false);
        RequestTarget.Normalized target = RequestTarget.normalize(path) instanceof RequestTarget.Normalized n ? n : null;
        Exchange next = new Exchange(this, req, target);
        next.redirects = ex.redirects + 1;
        next.continueSent = ex.continueSent; // one request on the wire: a 100 Continue sent for it stays sent
        ex.completed = true; // replaced: the new exchange is the one that ends, once
        ex.fireAbortHookless();
        exchange = next;
        bodyWaitEnded();
        route(next).handle(next);
    }

    /**
     * A --fallback rewrite: the exchange is replaced, without completing, by the same request (method, target,
     * query, headers) routed for {@code path}. Like {@link #redirect}, a request body not read yet is discarded.
     */
    void rewrite(Exchange ex, String path) {
        if (ex != exchange || phase == Phase.CLOSED) return;
        Request old = ex.request();
        Request req = new Request(old.method(), old.methodToken(), old.target(), path, old.query(), old.minorVersion(),
                old.headers(), old.keepAlive(), 0, false);
        RequestTarget.Normalized target = RequestTarget.normalize(path) instanceof RequestTarget.Normalized n ? n : null;
        Exchange next = new Exchange(this, req, target);
        next.redirects = ex.redirects;
        next.continueSent = ex.continueSent;
        next.rewritten = true;
        ex.completed = true; // replaced: the new exchange is the one that ends, once
        ex.fireAbortHookless();
        exchange = next;
        bodyWaitEnded();
        Handler h = target == null ? ctx.router().fallback() : ctx.router().handler(target.path());
        h.handle(next);
    }

    // ------------------------------------------------------------------ readiness

    @Override
    public void onReadable() {
        if (phase == Phase.CLOSED) return;
        if (phase == Phase.TUNNEL) {
            tunnelStep();
            return;
        }
        if (exchange != null && exchange.bodyWaiter == null && phase != Phase.BODY) {
            // Busy with a response: stop reading until it is done (pipelined bytes wait in the kernel), or an
            // EOF or a full buffer would make the loop spin on a connection it cannot serve yet.
            updateInterest();
            return;
        }
        if (in == null) in = driver.acquireBuffer();
        if (bodyViewOut || !in.hasRemaining()) {
            updateInterest(); // the handler has not consumed what it holds: read no more (backpressure)
            return;
        }
        int n;
        try {
            n = transport.read(in);
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
            expire(); // a watchdog shut our input down to wake this read: the deadline passed
            return;
        }
        if (proxyHeader != null && !proxyHeaderRead(n)) return;
        if (exchange != null) { // request body for the handler
            if (n < 0) inputClosed = true;
            if (n > 0) deadline = LoopClock.nanoTime() + ctx.config().idleTimeout().toNanos();
            wakeBodyWaiter();
            return;
        }
        if (n < 0) {
            inputClosed = true;
            process();
            if (phase != Phase.CLOSED && exchange == null) close();
            return;
        }
        if (n > 0) process();
        else releaseBufferIfEmpty();
    }

    /**
     * --proxy-protocol: the header before the first HTTP byte, read from the same buffer (what follows it is the
     * request, parsed as usual). True once it is complete; false while it is not, or after a bad header or an early
     * EOF has closed the connection: nothing is answered to a connection that is not the proxy's.
     */
    private boolean proxyHeaderRead(int n) {
        in.flip();
        boolean done;
        try {
            done = proxyHeader.read(in);
        } catch (ProxyProtocol.Malformed e) {
            driver.stats().badRequests.increment();
            PROXY_LOG.warning("closing a connection from " + remoteHost() + ": bad PROXY protocol header: " + e.getMessage());
            close();
            return false;
        }
        in.compact();
        if (!done) {
            if (n < 0) close(); // EOF inside the header
            else updateInterest();
            return false;
        }
        if (proxyHeader.source() != null) client = proxyHeader.source();
        proxyHeader = null;
        return true;
    }

    @Override
    public void onWritable() {
        if (phase == Phase.TUNNEL) {
            tunnelStep();
            return;
        }
        if (phase == Phase.CLOSED) return;
        if (outgoing == null) {
            // A WRITE interest left over from the last response (a pipelined request was handled as soon as it
            // finished, before the interest was recomputed): drop it, or a blocking driver would call this forever
            // instead of waiting on the new exchange's upstream, and an event loop would spin on a writable socket.
            updateInterest();
            return;
        }
        write();
    }

    @Override
    public boolean expired(long now) {
        Phase p = phase;
        if (p == Phase.TUNNEL) return tunnel.expired(now);
        return p != Phase.BUSY && p != Phase.CLOSED && now - deadline > 0;
    }

    /**
     * Called by a blocking driver's watchdog, on its own thread, when the deadline has passed. A timer only
     * interrupts: it wakes the owning thread out of its blocking read or write and leaves every release to it,
     * because the owner may be inside a write from a mapped chunk that must not be unmapped under it.
     */
    @Override
    public void interrupt() {
        Phase p = phase;
        long d = deadline;
        if (p == Phase.BUSY || p == Phase.CLOSED || d == interruptedDeadline) return; // once per deadline
        // The owner moved on since expired() was read (a request came on a shed idle connection): its new deadline,
        // written before its phase, has not passed.
        if (p != Phase.TUNNEL && LoopClock.nanoTime() - d <= 0) return;
        interruptedDeadline = d;
        timerFired = true;
        if (p == Phase.TUNNEL) { // both directions are blocked in reads: closing both ends wakes them
            transport.interrupt();
            tunnel.peer().transport().interrupt(); // tunnel was set before the volatile phase that says TUNNEL
            return;
        }
        try {
            if (p == Phase.READING || p == Phase.BODY) {
                transport.shutdownInput(); // the owner's read returns EOF, and it can still write the 408
            } else {
                if (p == Phase.WRITING) driver.stats().timeouts.increment();
                if (p == Phase.IDLE) driver.stats().idleCloses.increment();
                transport.interrupt();     // the owner's read or write fails, and the owner closes and releases
            }
        } catch (IOException ignored) {
            // the channel is already gone: the owner finds out on its next call
        }
    }

    @Override
    public void abort() { transport.close(); }

    /** Whether this connection's file bodies go by sendfile rather than mapped chunks ({@link BodyPath}). */
    boolean prefersSendfile() { return ctx.responder().bodyPath().prefersSendfile(transport); }

    /**
     * Shutdown under a blocking driver, from another thread. Nothing is interrupted: an idle connection gets a
     * deadline {@link #DRAIN_QUIET_NANOS} away (the watchdog closes it then, if no request came); a request that
     * arrives, or is being read or answered, gets its response, with {@code Connection: close}.
     */
    @Override
    public void requestDrain() {
        drainRequested = true;
        shortenIdleDeadline();
    }

    /**
     * Only between requests, and only after {@link #SHED_MIN_IDLE_NANOS} of it: a connection not yet answered once
     * may have its first request on the way, or unread in its socket (its thread just started); one that has just
     * answered may be about to parse a pipelined request it has read, or get the next request of a busy client.
     * How long it has been idle follows from its deadline, which is written before the phase.
     */
    @Override
    public long idleDeadline() {
        long d = deadline; // read before the phase: a deadline read after it could be READING's, seen as idle
        if (phase != Phase.IDLE || served == 0) return Long.MAX_VALUE; // served is written before the phase
        // Negative when a reload has lowered the idle timeout since: idle from before the reload, so long enough.
        long idleFor = LoopClock.nanoTime() - (d - ctx.config().idleTimeout().toNanos());
        return idleFor >= SHED_MIN_IDLE_NANOS || idleFor < 0 ? d : Long.MAX_VALUE;
    }

    /** Whether a connection shed by {@link #shedIfIdle} is still to be closed (its deadline passed while IDLE). */
    @Override
    public boolean shedPending() {
        long d = deadline;
        Phase p = phase;
        return p == Phase.CLOSED || p == Phase.IDLE && LoopClock.nanoTime() - d >= 0;
    }

    /**
     * The deadline moves only if it is still the one {@link #idleDeadline} read: the owner writes a deadline of its
     * own before it leaves IDLE for a phase that has one (a head being read), so a shed meant for an idle connection
     * does not cut a request the owner has begun to read. One that arrives just as the watchdog closes the shed
     * connection meets the race of any keep-alive close, as at the idle timeout (a client retries an idempotent
     * request on a new connection, RFC 9112 section 9.3.1).
     */
    @Override
    public boolean shedIfIdle(long idleDeadline) {
        return phase == Phase.IDLE && DEADLINE.compareAndSet(this, idleDeadline, LoopClock.nanoTime());
    }

    /** An idle connection may wait for a request for {@link #DRAIN_QUIET_NANOS} more, not its whole idle timeout. */
    private void shortenIdleDeadline() {
        long quiet = LoopClock.nanoTime() + DRAIN_QUIET_NANOS;
        // Another thread may race the owner's own update; the owner leaves IDLE only for a phase with its own deadline.
        if (phase == Phase.IDLE && deadline - quiet > 0) deadline = quiet;
    }

    /** On the owning thread, when the deadline has passed (an event loop's timer, or after {@link #interrupt}). */
    @Override
    public void expire() {
        if (proxyHeader != null) { // the proxy's header did not come in time: no HTTP answer, just the close
            driver.stats().timeouts.increment();
            close();
            return;
        }
        switch (phase) {
            case READING, BODY -> {
                if (phase == Phase.READING) driver.stats().timeouts.increment();
                // Slowloris defence: a head (or a body a handler waits for) that has not arrived in time is answered
                // 408 when nothing was sent yet, and the connection closed.
                if (exchange == null || !exchange.responseStarted()) {
                    Response r = Responder.error(Status.REQUEST_TIMEOUT, exchange == null ? null : exchange.request(), true);
                    ByteBuffer head = r.head(), body = ((Segment.Bytes) r.body().getFirst()).buffer();
                    try {
                        transport.write(new ByteBuffer[] {head, body}, 0, 2); // one try: a slowloris may not read
                    } catch (IOException ignored) {
                        // the client is gone or not reading: closing is all that is left
                    }
                    // What actually left: a client that does not read gets (part of) the 408, or none of it.
                    complete(exchange == null ? new Exchange(this, null, null) : exchange, 408, body.position(),
                            head.hasRemaining() || body.hasRemaining());
                }
                close();
            }
            case IDLE, WRITING, LINGERING, TUNNEL -> {
                if (!timerFired) {
                    if (phase == Phase.WRITING) driver.stats().timeouts.increment();
                    if (phase == Phase.IDLE) driver.stats().idleCloses.increment();
                }
                close();
            }
            case BUSY, CLOSED -> { }
        }
    }

    /**
     * Graceful shutdown, on the owning loop: the connection ends after its next response, which says
     * {@code Connection: close}. One that stays idle is closed after {@link #DRAIN_QUIET_NANOS}; one whose request is
     * arriving, or being answered, finishes it first.
     */
    @Override
    public void drain() {
        drainRequested = true;
        shortenIdleDeadline();
    }

    // ------------------------------------------------------------------ requests

    private void process() {
        // A handler that answers at once finishes its response inside handle(), under this loop: finishResponse
        // must not start another loop there, or a buffer of pipelined requests recurses once per request.
        if (processing) return;
        processing = true;
        try {
            parseAndDispatch();
        } finally {
            processing = false;
        }
    }

    private void parseAndDispatch() {
        while (phase != Phase.CLOSED && phase != Phase.LINGERING && exchange == null) {
            if (in == null) return;
            boolean inBody = parser().discardingBody();
            in.flip();
            ParseResult r = parser().parse(in);
            in.compact();
            switch (r) {
                case ParseResult.NeedMore nm -> {
                    // A head larger than a small starting buffer: grow it (the parser's limits bound the size).
                    if (!in.hasRemaining()) in = driver.grow(in);
                    waitForInput();
                    return;
                }
                case BadRequest bad when inBody -> {
                    // The body of a request already answered broke a limit: no request is waiting for a
                    // response, so an error response would answer the client's next request. Just end.
                    driver.stats().badRequests.increment();
                    linger();
                }
                case BadRequest bad -> {
                    driver.stats().badRequests.increment();
                    phase = Phase.BUSY;
                    exchange = new Exchange(this, null, null);
                    respond(exchange, Responder.error(bad.status(), false, true));
                }
                case Request req -> handle(req);
            }
        }
    }

    /**
     * The deadline of a wait for the next request begun at {@code now}: the idle timeout, or the drain's shorter
     * quiet time. {@link #idleDeadline} counts how long a connection has been idle back from it.
     */
    private long idleUntil(long now) {
        return now + (drainRequested ? DRAIN_QUIET_NANOS : ctx.config().idleTimeout().toNanos());
    }

    private void waitForInput() {
        if (inputClosed) {
            close();
            return;
        }
        long now = LoopClock.nanoTime();
        if (in.position() > 0 || !parserIdle()) {
            if (phase != Phase.READING) {
                // The deadline before the phase, as for WRITING: a watchdog that sees READING sees its deadline, not
                // an idle one (which mt's acceptor may just have moved to the present to shed the connection).
                deadline = now + ctx.config().headerTimeout().toNanos();
                phase = Phase.READING;
            }
        } else {
            deadline = idleUntil(now);
            phase = Phase.IDLE; // after its deadline: idleDeadline tells how long it has been idle from it
            releaseBufferIfEmpty();
        }
        updateInterest();
    }

    private void handle(Request parsed) {
        phase = Phase.BUSY;
        int cap = ctx.config().limits().maxKeepAliveRequests();
        // The last request a connection may carry is answered with Connection: close, then the connection closes.
        // So is every request that arrives during a drain: the client learns from the response that the connection ends.
        served++; // also without a cap: mt sheds only connections answered before (idleDeadline)
        Request req = (cap > 0 && served >= cap) || drainRequested ? parsed.closing() : parsed;
        driver.stats().requests.increment();
        RequestTarget.Normalized target = RequestTarget.normalize(req.rawPath()) instanceof RequestTarget.Normalized n ? n : null;
        Exchange ex = new Exchange(this, req, target);
        exchange = ex;
        route(ex).handle(ex);
    }

    /**
     * The handler for an exchange, from the route tables in force now (a reload swaps them whole: this exchange keeps
     * what it was given), and the response-header rules of its site. A target that does not normalise is refused by
     * the fallback (static) handler, after its method check.
     */
    private Handler route(Exchange ex) {
        Router router = ctx.routing().forRequest(ex.request());
        ex.headerRules = router.headers();
        RequestTarget.Normalized target = ex.target();
        return target == null ? router.fallback() : router.handler(target.path());
    }

    // ------------------------------------------------------------------ request bodies

    /** The next decoded body bytes in the read buffer, as a view the handler holds until {@link #bodyConsumed}. */
    ByteBuffer bodyNext(Exchange ex) throws IOException {
        if (ex != exchange || phase == Phase.CLOSED) throw new IOException("connection closed");
        BodyDecoder d = bodyDecoder();
        if (d == null || d.done()) return null;
        if (in == null) in = driver.acquireBuffer();
        if (!bodyViewOut) in.flip();
        long n = d.available(in);
        if (n > 0) {
            bodyViewOut = true;
            return in.slice(in.position(), (int) n);
        }
        in.compact();
        bodyViewOut = false;
        if (n == BodyDecoder.FAILED) throw new BadBodyException(d.failure());
        if (n == 0 && inputClosed) {
            if (d.eof() == BodyDecoder.FAILED) throw new BadBodyException(d.failure());
        }
        if (n == 0 && !ex.continueSent && ex.request().header("Expect") != null) sendContinue();
        return null;
    }

    void bodyConsumed(Exchange ex, int n) {
        if (ex != exchange || !bodyViewOut) return;
        bodyDecoder().consume(in, n); // a view is out: the parser that made it is held
        in.compact();
        bodyViewOut = false;
    }

    boolean bodyEnded(Exchange ex) {
        BodyDecoder d = bodyDecoder();
        if (d == null) return true;
        if (!d.done() && !bodyViewOut && in != null) {
            in.flip();
            d.available(in); // consumes a last-chunk and trailers that may already be here
            in.compact();
        }
        return d.done();
    }

    /** The handler waits for body bytes: read the client (with a deadline) and call {@code ready} when some came. */
    void bodyOnReady(Exchange ex, Runnable ready) {
        if (ex != exchange || phase == Phase.CLOSED) return;
        ex.bodyWaiter = ready;
        if (inputClosed) {
            driver.execute(this::wakeBodyWaiter);
            return;
        }
        if (phase == Phase.BUSY) {
            deadline = LoopClock.nanoTime() + ctx.config().idleTimeout().toNanos(); // before the phase (see READING)
            phase = Phase.BODY;
        }
        updateInterest();
    }

    /**
     * No handler waits for body bytes any more: some came (its waiter is about to run), or the exchange that waited was
     * replaced (a CGI local redirect, a --fallback rewrite) and its waiter went with it. Stop reading for it and leave
     * the body phase, whose deadline would otherwise answer 408 while a handler works. A handler that wants more of the
     * body asks again ({@link #bodyOnReady}).
     */
    private void bodyWaitEnded() {
        if (phase == Phase.BODY) phase = Phase.BUSY;
        updateInterest();
    }

    private void wakeBodyWaiter() {
        Exchange ex = exchange;
        Runnable r = ex == null ? null : ex.bodyWaiter;
        if (ex != null) ex.bodyWaiter = null;
        bodyWaitEnded();
        if (r != null) r.run();
    }

    /** RFC 9110 section 10.1.1: the client waits for this before it sends the body a handler now wants. */
    private void sendContinue() throws IOException {
        exchange.continueSent = true;
        if (exchange.request().http10()) return;
        ByteBuffer b = ByteBuffer.wrap(CONTINUE);
        transport.write(b);
        if (b.hasRemaining()) throw new IOException("cannot send 100 Continue");
    }

    // ------------------------------------------------------------------ upgrades

    /**
     * Sends a {@code 101} head and turns this connection into a byte tunnel to {@code peer} (whose buffer may already
     * hold bytes that followed its 101). Bytes the client sent after its request head go through first.
     */
    void upgrade(Exchange ex, Head head101, Tunnel.End peer, long idleNanos) throws IOException {
        if (ex != exchange || phase == Phase.CLOSED) throw new IOException("connection closed");
        ByteBuffer h = ByteBuffer.wrap(head101.encode(false, -1, false, false));
        while (h.hasRemaining()) {
            if (transport.write(h) == 0 && !transport.isBlocking()) throw new IOException("client not reading");
        }
        ex.status = 101;
        ex.started = true;
        if (in == null) in = driver.acquireBuffer();
        if (bodyViewOut) {
            in.compact();
            bodyViewOut = false;
        }
        ByteBuffer clientBuffer = in;
        Tunnel.End client = new Tunnel.End() {
            @Override public flash.net.Transport transport() { return transport; }
            @Override public ByteBuffer buffer() { return clientBuffer; }
            @Override public void interest(int ops) { reg.interest(ops); }
        };
        tunnel = new Tunnel(client, peer, idleNanos);
        phase = Phase.TUNNEL;
        if (transport.isBlocking()) {
            reg.interest(Registration.READ); // the driver calls onReadable next, which runs the tunnel to its end
        } else {
            tunnelStep();
        }
    }

    /** Readiness on either end of the tunnel (the peer's handler calls this too). */
    void tunnelStep() {
        if (phase != Phase.TUNNEL) return;
        if (transport.isBlocking()) {
            tunnel.runBlocking(driver::spawn);
        } else {
            tunnel.step();
            if (!tunnel.finished()) return;
        }
        complete(exchange, 101, 0, false);
        close();
    }

    // ------------------------------------------------------------------ responses

    /** An interim (1xx) response, sent before the final one; HTTP/1.0 clients never see one (RFC 9110 15.2). */
    void interim(Exchange ex, Head head) throws IOException {
        if (ex != exchange || ex.request().http10() || outgoing != null) return;
        ByteBuffer b = ByteBuffer.wrap(head.encodeInterim());
        while (b.hasRemaining()) {
            if (transport.write(b) == 0 && !transport.isBlocking()) throw new IOException("client not reading");
        }
        ex.started = true;
    }

    /** Encodes a structured head with the framing this client needs, and sends it with a streamed body. */
    void respond(Exchange ex, Head head, BodyStream stream, long length) {
        Request req = ex.request();
        boolean close = !req.keepAlive() || closeAfterResponse || drainRequested;
        boolean bodyless = !head.allowsBody() || req.method() == Method.HEAD;
        boolean chunked = false;
        if (!bodyless && length < 0) {
            if (req.http10()) close = true; // an HTTP/1.0 client learns the end of the body from the close
            else chunked = true;
        }
        long announced = bodyless && length < 0 ? -1 : length;
        byte[] encoded = head.encode(req.http10(), head.status() == 304 || head.status() == 204 ? -1 : announced, chunked, close);
        ByteBuffer h = ByteBuffer.wrap(encoded);
        if (bodyless) stream.abort();
        Response r = bodyless ? new Response(head.status(), h, java.util.List.of(), 0, close, null, false)
                : Response.streamed(head.status(), h, stream, length, chunked, close);
        respond(ex, r);
    }

    void respond(Exchange ex, Response r) {
        if (ex != exchange || phase == Phase.CLOSED) {
            if (r.stream() != null) r.stream().abort();
            new Outgoing(r, true).release();
            return;
        }
        Request req = ex.request();
        boolean headOnly = req != null && req.method() == Method.HEAD;
        if (ex.headerRules != null && ex.target() != null) r = ex.headerRules.apply(ex.target().path(), r);
        // A drain that began while this request was being handled: its head was made for keep-alive; say close.
        if (drainRequested && !r.close()) r = ResponseClosing.of(r);
        if (r.close()) closeAfterResponse = true;
        if (bodyViewOut) { // the handler answered without consuming what it held: the parser discards it later
            in.compact();
            bodyViewOut = false;
        }
        ex.bodyWaiter = null;
        ex.status = r.status();
        ex.started = true;
        outgoing = takeSender().reset(r, headOnly);
        outgoing.mappedBody = !headOnly && driver.seam().checksResidency() && hasMappedSegment(r);
        // The deadline before the phase: a blocking driver's watchdog reads the phase first, so once it sees WRITING
        // it sees this deadline, never the one left from before (a wait on the origin longer than the write timeout).
        deadline = LoopClock.nanoTime() + ctx.config().writeTimeout().toNanos();
        phase = Phase.WRITING;
        write();
    }

    private void write() {
        Outgoing out = outgoing;
        long before = out.bytesWritten();
        if (out.mappedBody && !out.mappedResident) {
            java.util.List<Segment.Bytes> cold = coldMappedSegments(out);
            if (!cold.isEmpty()) {
                makeMappedResident(cold);
                return;
            }
        }
        Outgoing.Progress p;
        try {
            Outgoing.ResidencyCheck check = driver.seam().checksResidency() ? ctx.residency() : null;
            p = out.writeTo(transport, check);
        } catch (IOException | RuntimeException | InternalError e) {
            // Client gone, the origin of a streamed body failed, or the file changed under us: truncated under
            // sendfile, or under a mapping (the kernel answers writev with EFAULT; Java code touching such memory
            // gets SIGBUS as an InternalError). This response cannot complete, so the connection ends; other
            // connections are untouched. What was not the client's doing leaves a line in the error log.
            if (CutResponseLog.serverSide(e)) cutByServer(e);
            else close();
            return;
        }
        if (phase == Phase.CLOSED) return;
        long written = out.bytesWritten() - before;
        if (written > 0) {
            driver.stats().bytesOut.add(written);
            out.mappedResident = false; // the socket blocked part-way: re-test the rest of a mapped body next time
        }
        switch (p) {
            case DONE -> finishResponse();
            case BLOCKED -> {
                if (written > 0) deadline = LoopClock.nanoTime() + ctx.config().writeTimeout().toNanos();
                phase = Phase.WRITING;
                writeBlocked = true; // the next step is to write again (on a loop: once the socket drains)
                updateInterest();
            }
            case NEEDS_RESIDENCY -> makeResident();
            case WAITING -> {
                // A streamed body has nothing ready: its source has its own deadline and calls back when it has.
                phase = Phase.BUSY;
                writeBlocked = false;
                updateInterest();
                out.response().stream().onReady(this::resumeStream);
            }
        }
    }

    private void resumeStream() {
        if (phase == Phase.CLOSED || outgoing == null) return;
        // The deadline before the phase: a blocking driver's watchdog reads the phase first, so once it sees WRITING
        // it sees this deadline, never the one left from before (a wait on the origin longer than the write timeout).
        deadline = LoopClock.nanoTime() + ctx.config().writeTimeout().toNanos();
        phase = Phase.WRITING;
        write();
    }

    /** AMPED: the next chunk of file data is not in memory; a helper reads it in, then the loop sends it. */
    private void makeResident() {
        driver.stats().residencyMisses.increment();
        Segment.FileRegion region = outgoing.pendingRegion();
        long offset = outgoing.pendingRegionOffset();
        long length = outgoing.pendingRegionLength();
        phase = Phase.BUSY;
        writeBlocked = false;
        updateInterest();
        driver.stats().diskTasks.increment();
        driver.seam().run(() -> ctx.warm(region.handle(), offset, length), outcome -> {
            if (phase == Phase.CLOSED) return;
            if (!outcome.ok()) {
                // The residency of a body's first chunk is tested before its head is written: if nothing has left
                // yet (the file shrank since it was opened), the client still gets a 500; mid-body, only a close.
                if (outgoing.bytesWritten() == 0) {
                    failBeforeBody("reading a file body into memory: " + ErrorCause.describe(outcome.failure()));
                } else {
                    cutByServer(outcome.failure());
                }
                return;
            }
            outgoing.markResident(offset, length);
            write();
        });
    }

    /** AMPED: the parts of the mapped body still to send whose pages are not all in memory (non-blocking test). */
    private static java.util.List<Segment.Bytes> coldMappedSegments(Outgoing out) {
        java.util.List<Segment.Bytes> cold = java.util.List.of();
        for (Segment s : out.response().body()) {
            if (s instanceof Segment.Bytes b && b.chunk() != null && !b.chunk().resident(b.buffer())) {
                if (cold.isEmpty()) cold = new java.util.ArrayList<>(2);
                cold.add(b);
            }
        }
        return cold;
    }

    private static boolean hasMappedSegment(Response r) {
        for (Segment s : r.body()) if (s instanceof Segment.Bytes b && b.chunk() != null) return true;
        return false;
    }

    /**
     * AMPED, mapped body: a helper faults the pages in, then the loop writes from the mapping. If that fails (the
     * file was truncated under the mapping) before any byte left, the client gets a 500 instead; later, only a close.
     */
    private void makeMappedResident(java.util.List<Segment.Bytes> cold) {
        driver.stats().residencyMisses.increment();
        phase = Phase.BUSY;
        writeBlocked = false;
        updateInterest();
        driver.stats().diskTasks.increment();
        java.util.List<ByteBuffer> views = new java.util.ArrayList<>(cold.size());
        for (Segment.Bytes b : cold) views.add(b.buffer().duplicate()); // the helper reads positions, never moves them
        driver.seam().run(() -> {
            for (int i = 0; i < cold.size(); i++) cold.get(i).chunk().touch(views.get(i));
            return Boolean.TRUE;
        }, outcome -> {
            if (phase == Phase.CLOSED) return;
            if (!outcome.ok()) {
                if (outgoing.bytesWritten() > 0) {
                    cutByServer(outcome.failure());
                    return;
                }
                failBeforeBody("reading a mapped body into memory: " + ErrorCause.describe(outcome.failure()));
            } else {
                outgoing.mappedResident = true;
                write();
            }
        });
    }

    /**
     * The response cannot complete for a reason on the server's side (the file shrank under it, found by a write or by
     * the helper paging in the rest of the body): the connection ends, and the error log says which response and why.
     */
    private void cutByServer(Throwable failure) {
        Exchange ex = exchange;
        ctx.cutResponses().cut(failure, ex == null ? null : ex.request(), remoteHost(), outgoing.bytesWritten());
        close();
    }

    /** A helper could not bring the body in before any byte of the response left: a 500 replaces it. */
    private void failBeforeBody(String why) {
        dropOutgoing();
        Exchange ex = exchange;
        ex.failedBecause(ErrorCause.FILE_READ, why);
        respond(ex, Responder.error(Status.INTERNAL_SERVER_ERROR, ex.request(), closeAfterResponse));
    }

    private void finishResponse() {
        Exchange ex = exchange;
        complete(ex, ex.status, outgoing.bodyBytesWritten(), false);
        dropOutgoing();
        exchange = null;
        writeBlocked = false;
        if (bodyViewOut) { // the handler still holds a body view: the parser discards what it did not consume
            in.compact();
            bodyViewOut = false;
        }
        if (closeAfterResponse || drainRequested) {
            linger();
            return;
        }
        // mt: the idle deadline before the phase. Until a pipelined request already read is parsed below, the
        // connection looks idle to the acceptor, and only one idle for a while is shed (idleDeadline), not this one.
        if (driver.blocking()) deadline = idleUntil(LoopClock.nanoTime());
        phase = Phase.IDLE;
        process();
        if (exchange == null && phase == Phase.IDLE) updateInterest();
    }

    private Outgoing takeSender() {
        if (driver.blocking()) {
            if (sender == null) sender = new Outgoing();
            return sender;
        }
        flash.net.LoopStats.add(driver.stats().sendersHeld, 1);
        return Senders.of(driver).take();
    }

    /** Releases the response being sent (its chunks and files) and, on an event loop, gives its sender back. */
    private void dropOutgoing() {
        Outgoing out = outgoing;
        outgoing = null;
        out.release();
        if (!driver.blocking()) {
            flash.net.LoopStats.add(driver.stats().sendersHeld, -1);
            Senders.of(driver).give(out);
        }
    }

    private void complete(Exchange ex, int status, long bodyBytes, boolean aborted) {
        if (ex.completed) return;
        ex.completed = true;
        // A 5xx always has a cause (the one recorded where it was decided, else one from the status alone).
        boolean is5xx = status / 100 == 5;
        ErrorCause cause = !is5xx ? null : ex.cause != null ? ex.cause : ErrorCause.unrecorded(status);
        ctx.listener().completed(new Completion(ex.request(), client, status, bodyBytes, aborted, ex.startNanos,
                LoopClock.nanoTime(), ex.upstreamNanos, cause, is5xx ? ex.errorDetail : null));
    }

    /** The handler gives up on the exchange after part of the response left (an origin failed mid-body). */
    void abortExchange(Exchange ex) {
        if (ex == exchange) close();
    }

    /**
     * Half-close, then drain what the client still sends for a moment: closing a socket with unread input
     * makes the kernel send RST, which can destroy the response we just wrote before the client reads it.
     */
    private void linger() {
        try {
            transport.shutdownOutput();
        } catch (IOException e) {
            close();
            return;
        }
        if (inputClosed) {
            close();
            return;
        }
        deadline = LoopClock.nanoTime() + LINGER_NANOS; // before the phase (see READING)
        phase = Phase.LINGERING;
        if (in != null) in.clear();
        bodyViewOut = false;
        updateInterest();
    }

    /** What this connection waits for next, derived from its state. */
    private void updateInterest() {
        if (phase == Phase.CLOSED) return;
        int ops = 0;
        if (outgoing != null && writeBlocked) ops |= Registration.WRITE;
        boolean wantsInput = phase == Phase.LINGERING || (exchange == null && outgoing == null)
                || (exchange != null && exchange.bodyWaiter != null);
        if (wantsInput && !bodyViewOut) ops |= Registration.READ;
        reg.interest(ops);
    }

    /** Only the owning thread closes: it releases the buffers and chunks that its own reads and writes use. */
    @Override
    public void close() {
        if (phase == Phase.CLOSED) return;
        phase = Phase.CLOSED;
        Exchange ex = exchange;
        exchange = null;
        if (ex != null) {
            complete(ex, ex.status, outgoing == null ? 0 : outgoing.bodyBytesWritten(), true);
            ex.fireAbort();
        }
        if (outgoing != null) dropOutgoing();
        transport.close();
        if (in != null) {
            driver.releaseBuffer(in);
            in = null;
        }
        driver.stats().openConnections.decrement();
        reg.cancel();
    }

    /** Idle connections hold no buffer: that is what keeps thousands of idle keep-alive clients cheap. */
    private void releaseBufferIfEmpty() {
        if (in != null && in.position() == 0 && parserIdle() && outgoing == null && exchange == null) {
            driver.releaseBuffer(in);
            in = null;
            parser = null;
        }
    }

    private RequestParser parser() {
        RequestParser p = parser;
        if (p == null) parser = p = new RequestParser(ctx.config().limits());
        return p;
    }

    private boolean parserIdle() { return parser == null || parser.idle(); }

    /** The request body being read, or null; never makes a parser (none held: no body). */
    private BodyDecoder bodyDecoder() { return parser == null ? null : parser.body(); }

    /** Whether a parser is held now (tests: an idle connection holds none). */
    boolean holdsParser() { return parser != null; }
}
