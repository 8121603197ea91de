package flash.pipeline;

import flash.http.Head;
import flash.http.Request;
import flash.http.RequestTarget;
import flash.http.Status;
import flash.net.Driver;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * One request and its response, as a handler sees it: the parsed head, the body on demand, and the ways to
 * answer. Every method is called on the connection's thread. An exchange ends exactly once, through the server's
 * {@link Completion.Listener}: answered, aborted, or refused.
 */
public final class Exchange {
    private final Http1Connection connection;
    private final Request request;
    private final RequestTarget.Normalized target;
    final long startNanos = flash.sys.LoopClock.nanoTime();
    long upstreamNanos = -1;
    int status;
    boolean started;    // some byte of a response (interim or final) left for the client
    boolean completed;
    ErrorCause cause;   // why the 5xx this exchange is answered with was generated; null when none was recorded
    String errorDetail; // what failed, for the error log
    int redirects;      // CGI local redirects that led to this exchange
    // The connection's, per exchange (kept here, not on the connection, so an idle connection does not carry them):
    Runnable bodyWaiter;  // the handler waits for request body bytes
    boolean continueSent; // 100 Continue went out for this request
    HeaderRules headerRules; // the [[headers]] rules of the site this exchange was routed to; null: none
    static final int MAX_REDIRECTS = 10;
    private Runnable onAbort;
    private ResponseFilter filter;
    boolean rewritten;  // answered for a --fallback target: never rewritten again

    Exchange(Http1Connection connection, Request request, RequestTarget.Normalized target) {
        this.connection = connection;
        this.request = request;
        this.target = target;
    }

    /** The parsed request; null only for an exchange refused before a request could be parsed. */
    public Request request() { return request; }

    /** The normalised path, or null when the target does not normalise (the static handler answers 400). */
    public RequestTarget.Normalized target() { return target; }

    /** The driver the connection runs on: where to register upstream channels and run blocking work. */
    public Driver driver() { return connection.driver(); }

    public String remoteAddress() { return connection.remoteHost(); }

    public int remotePort() { return connection.remotePort(); }

    /** The local address the client connected to, or null (not a TCP connection). */
    public java.net.InetSocketAddress localAddress() { return connection.localAddress(); }

    /**
     * Whether file bodies for this connection should be regions of the open file, sent by sendfile, rather than mapped
     * chunks ({@link BodyPath}): pass it to {@link Responder#respond(Request, flash.content.Translation, boolean)}.
     */
    public boolean sendfile() { return connection.prefersSendfile(); }

    /** Whether the connection is still waiting for this exchange's response. */
    public boolean active() { return !completed; }

    /** Whether any byte of a response has left for the client: after that, an error can only close. */
    public boolean responseStarted() { return started; }

    // ------------------------------------------------------------------ request body

    /** Whether the request has a body. */
    public boolean hasBody() { return request != null && request.hasBody(); }

    /**
     * The next piece of the request body as a view the handler holds until {@link #bodyConsumed}, or null when
     * none is here yet (then {@link #onBody}) or the body ended ({@link #bodyEnded}). Sends 100 Continue the first
     * time the handler asks and must wait. Throws {@link BadBodyException} for malformed framing,
     * and IOException when the client went away mid-body.
     */
    public ByteBuffer bodyNext() throws IOException { return connection.bodyNext(this); }

    public void bodyConsumed(int n) { connection.bodyConsumed(this, n); }

    public boolean bodyEnded() { return connection.bodyEnded(this); }

    /** Calls {@code ready} when more body bytes arrived, the body ended, or the client closed. */
    public void onBody(Runnable ready) { connection.bodyOnReady(this, ready); }

    // ------------------------------------------------------------------ responses

    /** Sends a complete response (fixed segments, or a streamed body already framed). */
    public void respond(Response response) {
        ResponseFilter f = filter;
        if (f != null) {
            filter = null; // once: what the filter sends in turn goes out as it is
            f.response(this, response);
            return;
        }
        connection.respond(this, response);
    }

    /**
     * Sees this exchange's response before it is sent, once (site rules: Cache-Control, custom error pages, the
     * fallback). It must lead to exactly one {@link #respond}, {@link #rewrite} or {@link #abort}, as a handler must.
     */
    public interface ResponseFilter {
        void response(Exchange ex, Response r);

        /** A streamed response's head, before it is encoded: the filter may add fields. */
        default void head(Exchange ex, Head head) {}
    }

    /** Installs the filter for this exchange's response (null: none). */
    public void filter(ResponseFilter f) { this.filter = f; }

    /**
     * Answers with what this server answers for {@code path} instead (--fallback): routed like a new request for it,
     * with the same method, headers, target and query, so a front controller sees the original REQUEST_URI. Only
     * before any byte of a response left; the new exchange is {@link #rewritten()}.
     */
    public void rewrite(String path) { connection.rewrite(this, path); }

    /** Whether this exchange answers a --fallback rewrite (so it is not rewritten again). */
    public boolean rewritten() { return rewritten; }

    /**
     * Sends a structured head and a streamed body; the connection adds the framing: Content-Length when
     * {@code length} >= 0, else chunked (HTTP/1.1) or close-delimited (HTTP/1.0). HEAD, 204 and 304 send no body.
     */
    public void respond(Head head, BodyStream body, long length) {
        ResponseFilter f = filter;
        filter = null;
        if (f != null) f.head(this, head);
        connection.respond(this, head, body, length);
    }

    /** Sends a generated error page (a 4xx; for a 5xx, say why with {@link #fail(Status, ErrorCause, String)}). */
    public void fail(Status status) {
        respond(Responder.error(status, request, request == null || !request.keepAlive()));
    }

    /** Sends a generated 5xx error page that {@code cause} made necessary; {@code detail} goes to the error log. */
    public void fail(Status status, ErrorCause cause, String detail) {
        failedBecause(cause, detail);
        fail(status);
    }

    /**
     * Records why the 5xx this exchange is about to be answered with was generated: the completion carries it to the
     * error log and to {@code flash_errors_total}. Without it a 5xx counts as {@link ErrorCause#unrecorded}.
     */
    public void failedBecause(ErrorCause cause, String detail) {
        this.cause = cause;
        this.errorDetail = detail;
    }

    /** Sends an interim (1xx) response ahead of the final one. */
    public void interim(Head head) throws IOException { connection.interim(this, head); }

    /**
     * Answers {@code 101} with {@code head} and turns the connection into a byte tunnel to {@code peer}, which then
     * reports its own readiness through {@link #tunnelStep}. The tunnel ends after {@code idleNanos} without traffic.
     */
    public void upgrade(Head head, Tunnel.End peer, long idleNanos) throws IOException {
        connection.upgrade(this, head, peer, idleNanos);
    }

    /** The tunnel's peer is ready (event loops): move bytes. */
    public void tunnelStep() { connection.tunnelStep(); }

    /**
     * Answers with the response to a GET of {@code pathAndQuery} on this server instead (a CGI local redirect,
     * RFC 3875 section 6.2.2): routed like a new request with the same headers and no body. Only before any byte
     * of a response left; after {@link Exchange#MAX_REDIRECTS} in a row the answer is 500.
     */
    public void redirect(String pathAndQuery) { connection.redirect(this, pathAndQuery); }

    /** Gives up after part of the response left: the client connection closes. */
    public void abort() { connection.abortExchange(this); }

    /** Time spent waiting for an upstream's response head, for the access log. */
    public void upstreamNanos(long nanos) { upstreamNanos = nanos; }

    /** Called once if the client connection ends before the exchange completed: release what the handler holds. */
    public void onAbort(Runnable r) { onAbort = r; }

    /** Replaced by a redirect: the handler's abort hook is dropped without running. */
    void fireAbortHookless() { onAbort = null; }

    void fireAbort() {
        Runnable r = onAbort;
        onAbort = null;
        if (r != null) r.run();
    }
}
