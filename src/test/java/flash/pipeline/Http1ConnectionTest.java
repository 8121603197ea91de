package flash.pipeline;

import flash.sys.LoopClock;
import flash.config.ServerConfig;
import flash.content.FileHandle;
import flash.http.Head;
import flash.http.Request;
import flash.http.ResponseHead;
import flash.http.Status;
import flash.net.BlockingSeam;
import flash.net.Registration;
import flash.pipeline.Http1Connection.Phase;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The HTTP/1 connection's state machine, driven by hand: the test plays the event loop over a {@link FakeTransport}
 * and a {@link FakeDriver}, calling onReadable / onWritable / expire / drain / close, and checks the exact bytes
 * written, the interest asked for, the phase, and the one completion point ({@link Completion.Listener}): every
 * exchange ends exactly once, with the body bytes actually written. No timing: deadlines are fired with expire().
 */
class Http1ConnectionTest {
    private static final int BUFFER = 32 * 1024; // what an event loop gives a connection under the default limits

    @TempDir Path root;
    private PipelineContext ctx;
    private FakeTransport t;
    private FakeDriver d;
    private FakeDriver.Reg reg;
    private Http1Connection c;
    private final List<Completion> done = new ArrayList<>();
    private final Set<Request> completedRequests = Collections.newSetFromMap(new IdentityHashMap<>());
    private final Fixed other = new Fixed(); // serves /f: follow-up requests in pipelines

    @AfterEach
    void tearDown() {
        if (c != null) c.close();
        if (d != null) assertThat(d.buffersHeld()).as("read buffers given back").isZero();
        if (ctx != null) ctx.close();
    }

    // ------------------------------------------------------------------ harness

    private Http1Connection open(Handler h) { return open(h, BlockingSeam.INLINE, ServerConfig.defaults(root), BUFFER); }

    private Http1Connection open(Handler h, BlockingSeam seam) { return open(h, seam, ServerConfig.defaults(root), BUFFER); }

    private Http1Connection open(Handler h, BlockingSeam seam, ServerConfig config, int bufferSize) {
        ctx = new PipelineContext(config, null);
        ctx.router(new Router(List.of(new Router.Route("/h", false, h), new Router.Route("/f", false, other)),
                ex -> ex.fail(Status.NOT_FOUND)));
        ctx.listener(c -> {
            // The one completion point: an exchange never ends twice (a parsed request is its identity).
            if (c.request() != null) assertThat(completedRequests.add(c.request())).as("completed twice: " + c).isTrue();
            done.add(c);
        });
        t = new FakeTransport();
        d = new FakeDriver(bufferSize, seam);
        reg = d.registration();
        c = new Http1Connection(t, d, reg, ctx);
        return c;
    }

    private static String get(String path) { return "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n"; }

    /** The bytes written with every Date line removed, so whole responses can be compared exactly. */
    private String out() { return noDate(t.output()); }

    private String takeOut() { return noDate(t.takeOutput()); }

    private static String noDate(String s) { return s.replaceAll("Date: [^\r\n]*\r\n", ""); }

    /** What {@link #ok} sends, as the client sees it (without Date). */
    private static String okBytes(String version, String body, String connection) {
        return version + " 200 OK\r\nServer: flash\r\nContent-Type: text/plain\r\nContent-Length: " + body.length() + "\r\n"
                + (connection == null ? "" : "Connection: " + connection + "\r\n") + "\r\n" + body;
    }

    private static String ok11(String body) { return okBytes("HTTP/1.1", body, null); }

    private static String errorBytes(Status s, boolean close) {
        String body = new String(ErrorPages.body(s), StandardCharsets.US_ASCII);
        return "HTTP/1.1 " + s.code() + " " + s.reason() + "\r\nServer: flash\r\nContent-Type: text/html; charset=utf-8\r\n"
                + "Content-Length: " + body.length() + "\r\n" + (close ? "Connection: close\r\n" : "") + "\r\n" + body;
    }

    /** A plain 200 with a fixed body, framed for the request as a handler must (Connection: close when asked). */
    static Response ok(Request req, String body) {
        byte[] b = body.getBytes(StandardCharsets.US_ASCII);
        boolean close = !req.keepAlive();
        ResponseHead h = new ResponseHead(Status.OK, req.http10()).header("Content-Type", "text/plain")
                .header("Content-Length", b.length).connection(req.http10(), close);
        return new Response(Status.OK, ByteBuffer.wrap(h.finish()), List.of(new Segment.Bytes(ByteBuffer.wrap(b))), b.length, close);
    }

    private Completion only() {
        assertThat(done).hasSize(1);
        return done.getFirst();
    }

    private void assertClosed() {
        assertThat(c.phase()).isEqualTo(Phase.CLOSED);
        assertThat(t.isOpen()).isFalse();
        assertThat(reg.cancelled()).isTrue();
        assertThat(d.buffersHeld()).isZero();
        assertThat(d.stats().openConnections.sum()).isZero();
    }

    // ------------------------------------------------------------------ handlers

    /** Answers at once: "hello PATH". */
    static final class Fixed implements Handler {
        final List<Exchange> exchanges = new ArrayList<>();
        int aborts;

        @Override
        public void handle(Exchange ex) {
            exchanges.add(ex);
            ex.onAbort(() -> aborts++);
            ex.respond(ok(ex.request(), "hello " + ex.request().rawPath()));
        }
    }

    /** Answers from a seam task, when the test releases it: "later PATH". */
    static final class Later implements Handler {
        final List<Exchange> exchanges = new ArrayList<>();
        int aborts;
        int lateAnswers; // outcomes that arrived for an exchange no longer active

        @Override
        public void handle(Exchange ex) {
            exchanges.add(ex);
            ex.onAbort(() -> aborts++);
            ex.driver().seam().run(() -> "later " + ex.request().rawPath(), o -> {
                if (!ex.active()) {
                    lateAnswers++;
                    return;
                }
                ex.respond(ok(ex.request(), o.value()));
            });
        }
    }

    /**
     * Reads the request body on demand (bodyNext / bodyConsumed / onBody), then answers "got BODY". With
     * {@code hold}, it keeps each view until the test calls {@link #release} (a proxy waiting on its upstream).
     */
    static final class BodyReader implements Handler {
        final boolean hold;
        Exchange ex;
        ByteBuffer held;
        final ByteArrayOutputStream got = new ByteArrayOutputStream();
        IOException failure;
        int wakeups;
        int aborts;
        int nextCalls;

        BodyReader(boolean hold) { this.hold = hold; }

        @Override
        public void handle(Exchange ex) {
            assertThat(this.ex).as("one exchange per reader").isNull();
            this.ex = ex;
            ex.onAbort(() -> aborts++);
            pump();
        }

        void pump() {
            try {
                while (true) {
                    nextCalls++;
                    ByteBuffer b = ex.bodyNext();
                    if (b != null) {
                        if (hold) {
                            held = b;
                            return;
                        }
                        take(b);
                        continue;
                    }
                    if (ex.bodyEnded()) {
                        ex.respond(ok(ex.request(), "got " + body()));
                        return;
                    }
                    ex.onBody(() -> {
                        wakeups++;
                        pump();
                    });
                    return;
                }
            } catch (BadBodyException e) {
                failure = e;
                ex.fail(e.status());
            } catch (IOException e) {
                failure = e;
                ex.abort();
            }
        }

        private void take(ByteBuffer b) {
            int n = b.remaining();
            byte[] a = new byte[n];
            b.get(a);
            got.writeBytes(a);
            ex.bodyConsumed(n);
        }

        void release() {
            ByteBuffer b = held;
            held = null;
            take(b);
            pump();
        }

        String body() { return got.toString(StandardCharsets.ISO_8859_1); }
    }

    /** A streamed body the test feeds by hand. */
    static final class TestStream implements BodyStream {
        final ArrayDeque<ByteBuffer> pieces = new ArrayDeque<>();
        boolean end;
        boolean failWhenEmpty; // the origin fails once what was pushed is sent
        Runnable ready;
        int onReadyCalls;
        int nextCalls;
        long consumed;
        int finishes;
        int abortsBeforeFinish;

        TestStream push(String s) {
            pieces.add(ByteBuffer.wrap(s.getBytes(StandardCharsets.US_ASCII)));
            return this;
        }

        TestStream end() {
            end = true;
            return this;
        }

        /** Calls the connection back, as a source does when data arrived. */
        void fire() {
            Runnable r = ready;
            ready = null;
            assertThat(r).as("the connection waits on this stream").isNotNull();
            r.run();
        }

        @Override
        public ByteBuffer next() throws IOException {
            nextCalls++;
            if (failWhenEmpty && pieces.isEmpty()) throw new IOException("origin failed");
            return pieces.peek();
        }

        @Override public boolean ended() { return end && pieces.isEmpty(); }

        @Override
        public void consumed(int n) {
            consumed += n;
            ByteBuffer p = pieces.peek();
            assertThat(p).isNotNull();
            assertThat(p.hasRemaining()).as("consumed only once sent whole").isFalse();
            pieces.poll();
        }

        @Override
        public void onReady(Runnable r) {
            onReadyCalls++;
            ready = r;
        }

        @Override public void finished() { finishes++; }

        @Override
        public void abort() {
            if (finishes == 0) abortsBeforeFinish++;
        }
    }

    /** Answers with a structured head and a {@link TestStream} body of {@code length} (-1: unknown). */
    static final class Streamer implements Handler {
        final TestStream stream;
        final long length;
        final int status;
        Exchange ex;
        int aborts;

        Streamer(TestStream stream, long length) { this(stream, length, 200); }

        Streamer(TestStream stream, long length, int status) {
            this.stream = stream;
            this.length = length;
            this.status = status;
        }

        @Override
        public void handle(Exchange ex) {
            this.ex = ex;
            ex.onAbort(() -> aborts++);
            ex.respond(new Head(status, status == 200 ? "OK" : "No Content"), stream, length);
        }
    }

    // ------------------------------------------------------------------ keep-alive, pipelining

    @Test
    void keepAliveAnswersEachRequestAndWaitsForTheNext() {
        Fixed h = new Fixed();
        open(h);
        assertThat(c.phase()).isEqualTo(Phase.IDLE);
        assertThat(c.holdsParser()).as("a connection that has sent nothing holds no parser").isFalse();
        t.deliver(get("/h/a"));
        c.onReadable();
        assertThat(takeOut()).isEqualTo(ok11("hello /h/a"));
        assertThat(c.phase()).isEqualTo(Phase.IDLE);
        assertThat(reg.ops()).isEqualTo(Registration.READ);
        assertThat(d.buffersHeld()).as("an idle connection holds no buffer").isZero();
        assertThat(c.holdsParser()).as("nor a parser").isFalse();
        assertThat(t.shutdownOutputs).isZero();

        t.deliver(get("/h/b"));
        c.onReadable();
        assertThat(takeOut()).isEqualTo(ok11("hello /h/b"));
        assertThat(c.phase()).isEqualTo(Phase.IDLE);
        assertThat(t.isOpen()).isTrue();

        assertThat(done).hasSize(2);
        assertThat(done).extracting(Completion::status).containsExactly(200, 200);
        assertThat(done).extracting(Completion::bodyBytes).containsExactly(10L, 10L);
        assertThat(done).extracting(Completion::aborted).containsExactly(false, false);
        assertThat(done.get(0).request().rawPath()).isEqualTo("/h/a");
        assertThat(h.aborts).isZero();
        assertThat(d.stats().requests.sum()).isEqualTo(2);
    }

    /**
     * mt's acceptor sheds an idle connection from another thread with the deadline it read: a connection not yet
     * answered (its first request may be on the way), idle only just now, that has left IDLE since (a head
     * arriving), or that served a request and went idle again (a new deadline), is not shed; a request arriving
     * before the watchdog acts cancels a shed.
     */
    @Test
    void onlyAConnectionStillIdleWithTheDeadlineReadIsShed() throws InterruptedException {
        long pause = Http1Connection.SHED_MIN_IDLE_NANOS / 1_000_000 + 50; // idle long enough to be shed
        open(new Fixed());
        Thread.sleep(pause);
        assertThat(c.phase()).isEqualTo(Phase.IDLE);
        assertThat(c.idleDeadline()).as("never answered: not yet between requests").isEqualTo(Long.MAX_VALUE);
        t.deliver(get("/h/first"));
        long answered = System.nanoTime();
        c.onReadable();
        assertThat(takeOut()).isEqualTo(ok11("hello /h/first"));
        long justNow = c.idleDeadline();
        if (System.nanoTime() - answered < Http1Connection.SHED_MIN_IDLE_NANOS) { // unless this thread was held up
            assertThat(justNow).as("idle only just now").isEqualTo(Long.MAX_VALUE);
        }
        Thread.sleep(pause);
        long idle = c.idleDeadline();
        assertThat(idle).isNotEqualTo(Long.MAX_VALUE);
        t.deliver("GET /h/a HTTP/1.1\r\n");
        c.onReadable();
        assertThat(c.phase()).isEqualTo(Phase.READING);
        assertThat(c.idleDeadline()).as("reading a head is not idle").isEqualTo(Long.MAX_VALUE);
        assertThat(c.shedIfIdle(idle)).isFalse();
        assertThat(c.expired(LoopClock.nanoTime())).as("the head's deadline stands").isFalse();

        t.deliver("Host: x\r\n\r\n");
        c.onReadable();
        assertThat(takeOut()).isEqualTo(ok11("hello /h/a"));
        Thread.sleep(pause);
        long again = c.idleDeadline();
        assertThat(again).isNotEqualTo(Long.MAX_VALUE).isNotEqualTo(idle);
        assertThat(c.shedIfIdle(idle)).as("a deadline from before the request").isFalse();
        assertThat(c.expired(LoopClock.nanoTime())).isFalse();
        assertThat(c.shedIfIdle(again)).isTrue();
        assertThat(c.shedPending()).isTrue();
        assertThat(c.expired(LoopClock.nanoTime() + 1)).as("shed: due when the watchdog looks").isTrue();

        t.deliver(get("/h/b")); // before the watchdog acted: the request is answered and the shed is off
        c.onReadable();
        assertThat(takeOut()).isEqualTo(ok11("hello /h/b"));
        assertThat(c.shedPending()).isFalse();
        assertThat(c.expired(LoopClock.nanoTime())).isFalse();

        Thread.sleep(pause);
        assertThat(c.shedIfIdle(c.idleDeadline())).isTrue();
        c.expire();
        assertClosed();
        assertThat(c.shedPending()).as("closed: its place is being given back").isTrue();
        assertThat(done).extracting(Completion::status).containsExactly(200, 200, 200);
    }

    @Test
    void aHeadSplitAcrossReadsIsParsedWhenWhole() {
        open(new Fixed());
        t.deliverBytewise(get("/h/slow"));
        int reads = 0;
        while (done.isEmpty()) {
            c.onReadable();
            if (done.isEmpty()) {
                assertThat(c.phase()).isEqualTo(Phase.READING);
                assertThat(reg.reading()).isTrue();
                assertThat(c.holdsParser()).as("it remembers how far it scanned the partial head").isTrue();
            }
            assertThat(++reads).isLessThan(1000);
        }
        assertThat(out()).isEqualTo(ok11("hello /h/slow"));
        assertThat(c.phase()).isEqualTo(Phase.IDLE);
    }

    @Test
    void aHeadLargerThanTheBufferGrowsIt() {
        open(new Fixed(), BlockingSeam.INLINE, ServerConfig.defaults(root), 64);
        String big = "GET /h/big HTTP/1.1\r\nHost: x\r\nX-Long: " + "y".repeat(300) + "\r\n\r\n";
        t.deliver(big);
        for (int i = 0; i < 20 && done.isEmpty(); i++) c.onReadable();
        assertThat(out()).isEqualTo(ok11("hello /h/big"));
        assertThat(d.buffersAcquired).isGreaterThan(1);
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrderOneAtATime() {
        FakeDriver.DeferredSeam seam = new FakeDriver.DeferredSeam();
        Later h = new Later();
        open(h, seam);
        t.deliver(get("/h/1") + get("/h/2") + get("/h/3"));
        t.deliver(get("/h/4")); // arrives while the first is being served
        c.onReadable();
        assertThat(h.exchanges).as("only the first request is handed out").hasSize(1);
        assertThat(c.phase()).isEqualTo(Phase.BUSY);
        assertThat(t.output()).isEmpty();

        // Readiness while busy reads nothing and turns reading off: the pipelined bytes wait in the kernel.
        int reads = t.reads;
        c.onReadable();
        assertThat(t.reads).isEqualTo(reads);
        assertThat(t.pendingInput()).isEqualTo(get("/h/4").length());
        assertThat(reg.reading()).isFalse();
        assertThat(h.exchanges).hasSize(1);

        seam.releaseNext();
        assertThat(takeOut()).isEqualTo(ok11("later /h/1"));
        assertThat(h.exchanges).as("the next buffered request follows the response").hasSize(2);
        assertThat(done).hasSize(1);
        assertThat(reg.reading()).isFalse();

        seam.releaseNext();
        assertThat(takeOut()).isEqualTo(ok11("later /h/2"));
        seam.releaseNext();
        assertThat(takeOut()).isEqualTo(ok11("later /h/3"));
        assertThat(h.exchanges).hasSize(3);
        assertThat(c.phase()).isEqualTo(Phase.IDLE);
        assertThat(reg.reading()).isTrue();

        c.onReadable();
        assertThat(h.exchanges).hasSize(4);
        seam.releaseNext();
        assertThat(takeOut()).isEqualTo(ok11("later /h/4"));
        assertThat(done).extracting(x -> x.request().rawPath()).containsExactly("/h/1", "/h/2", "/h/3", "/h/4");
        assertThat(done).allMatch(x -> x.status() == 200 && !x.aborted() && x.bodyBytes() == "later /h/1".length());
        assertThat(h.aborts).isZero();
    }

    @Test
    void pipelinedRequestsAnsweredAtOnceGoOutInOrder() {
        Fixed h = new Fixed();
        open(h);
        StringBuilder in = new StringBuilder();
        StringBuilder want = new StringBuilder();
        for (int i = 0; i < 20; i++) {
            in.append(get("/h/" + i));
            want.append(ok11("hello /h/" + i));
        }
        t.deliver(in.toString());
        c.onReadable();
        assertThat(out()).isEqualTo(want.toString());
        assertThat(done).hasSize(20);
        assertThat(c.phase()).isEqualTo(Phase.IDLE);
    }

    @Test
    void aBufferFullOfPipelinedRequestsDoesNotOverflowTheStack() {
        Fixed h = new Fixed();
        open(h);
        String one = "GET /h HTTP/1.1\r\nHost: x\r\n\r\n";
        int n = BUFFER / one.length(); // one read fills the buffer with requests answered at once
        t.deliver(one.repeat(n));
        c.onReadable();
        assertThat(done).hasSize(n);
        assertThat(c.phase()).isEqualTo(Phase.IDLE);
    }

    @Test
    void connectionCloseLingersThenClosesOnEof() {
        Fixed h = new Fixed();
        open(h);
        t.deliver("GET /h/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        c.onReadable();
        assertThat(out()).isEqualTo(okBytes("HTTP/1.1", "hello /h/x", "close"));
        assertThat(t.shutdownOutputs).isEqualTo(1);
        assertThat(t.isOpen()).isTrue();
        assertThat(c.phase()).isEqualTo(Phase.LINGERING);
        assertThat(reg.ops()).isEqualTo(Registration.READ);
        assertThat(only().aborted()).isFalse();

        // Whatever the client still sends is read and dropped: no second response.
        t.deliver(get("/h/ignored"));
        c.onReadable();
        assertThat(h.exchanges).hasSize(1);
        assertThat(c.phase()).isEqualTo(Phase.LINGERING);

        t.deliverEof();
        c.onReadable();
        assertClosed();
        assertThat(t.shutdownOutputs).isEqualTo(1);
        assertThat(only().status()).isEqualTo(200);
        assertThat(h.aborts).isZero();
    }

    @Test
    void lingeringEndsAtItsDeadline() {
        open(new Fixed());
        t.deliver("GET /h HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        c.onReadable();
        assertThat(c.phase()).isEqualTo(Phase.LINGERING);
        c.expire();
        assertClosed();
        assertThat(done).hasSize(1);
    }

    @Test
    void requestsFollowedByEofAreAnsweredThenTheConnectionCloses() {
        open(new Fixed());
        t.deliver(get("/h/1")).deliverEof();
        c.onReadable();
        assertThat(out()).isEqualTo(ok11("hello /h/1"));
        assertThat(c.phase()).isEqualTo(Phase.IDLE);
        c.onReadable();
        assertClosed();
        assertThat(only().aborted()).isFalse();
    }

    @Test
    void theLastRequestAllowedOnAConnectionIsAnsweredWithClose() {
        ServerConfig cfg = ServerConfig.defaults(root);
        cfg = cfg.withLimits(cfg.limits().withMaxKeepAliveRequests(2));
        open(new Fixed(), BlockingSeam.INLINE, cfg, BUFFER);
        t.deliver(get("/h/1") + get("/h/2") + get("/h/3"));
        c.onReadable();
        assertThat(out()).isEqualTo(ok11("hello /h/1") + okBytes("HTTP/1.1", "hello /h/2", "close"));
        assertThat(c.phase()).isEqualTo(Phase.LINGERING);
        assertThat(done).hasSize(2);
    }

    // ------------------------------------------------------------------ HTTP/1.0

    @Test
    void http10ClosesByDefault() {
        open(new Fixed());
        t.deliver("GET /h/old HTTP/1.0\r\n\r\n");
        c.onReadable();
        assertThat(out()).isEqualTo(okBytes("HTTP/1.0", "hello /h/old", "close"));
        assertThat(c.phase()).isEqualTo(Phase.LINGERING);
        assertThat(t.shutdownOutputs).isEqualTo(1);
        t.deliverEof();
        c.onReadable();
        assertClosed();
        assertThat(only().request().http10()).isTrue();
    }

    @Test
    void http10KeepAliveStaysOpen() {
        open(new Fixed());
        t.deliver("GET /h/a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        c.onReadable();
        assertThat(takeOut()).isEqualTo(okBytes("HTTP/1.0", "hello /h/a", "keep-alive"));
        assertThat(c.phase()).isEqualTo(Phase.IDLE);
        t.deliver("GET /h/b HTTP/1.0\r\n\r\n");
        c.onReadable();
        assertThat(takeOut()).isEqualTo(okBytes("HTTP/1.0", "hello /h/b", "close"));
        assertThat(c.phase()).isEqualTo(Phase.LINGERING);
        assertThat(done).hasSize(2);
    }

    // ------------------------------------------------------------------ partial writes

    @Test
    void aPartialWriteWaitsForWritableThenCompletes() {
        Fixed h = new Fixed();
        open(h);
        t.acceptOnly(10);
        t.deliver(get("/h/p") + get("/f/next"));
        c.onReadable();
        assertThat(t.output()).hasSize(10);
        assertThat(c.phase()).isEqualTo(Phase.WRITING);
        assertThat(reg.ops()).as("write interest only: no reading while a response is out").isEqualTo(Registration.WRITE);
        assertThat(done).isEmpty();

        t.acceptOnly(0); // still full
        c.onWritable();
        assertThat(c.phase()).isEqualTo(Phase.WRITING);
        assertThat(reg.ops()).isEqualTo(Registration.WRITE);
        assertThat(done).isEmpty();

        // A few bytes per readiness event, to the end.
        for (int i = 0; i < 100 && done.isEmpty(); i++) {
            t.acceptOnly(7);
            c.onWritable();
        }
        assertThat(done).hasSize(1);
        assertThat(done.getFirst().bodyBytes()).isEqualTo("hello /h/p".length());
        // The buffered pipelined request went next, and is blocked in turn.
        assertThat(other.exchanges).hasSize(1);
        t.acceptAll();
        c.onWritable();
        assertThat(out()).isEqualTo(ok11("hello /h/p") + ok11("hello /f/next"));
        assertThat(c.phase()).isEqualTo(Phase.IDLE);
        assertThat(reg.ops()).isEqualTo(Registration.READ);
        assertThat(done).hasSize(2);
        assertThat(done).noneMatch(Completion::aborted);
    }

    @Test
    void aFileRegionGoesOutThroughSendFile() throws IOException {
        Path f = Files.writeString(root.resolve("data.txt"), "0123456789".repeat(100));
        FileHandle fh = new FileHandle(FileChannel.open(f, StandardOpenOption.READ));
        Handler files = ex -> {
            assertThat(fh.retain()).isTrue(); // the response's reference, released by the connection
            ResponseHead head = new ResponseHead(Status.OK, false).header("Content-Length", 1000);
            ex.respond(new Response(Status.OK, ByteBuffer.wrap(head.finish()), List.of(new Segment.FileRegion(fh, 0, 1000)),
                    1000, false));
        };
        open(files);
        t.acceptOnly(500);
        t.deliver(get("/h/file"));
        c.onReadable();
        assertThat(reg.ops()).isEqualTo(Registration.WRITE);
        t.acceptAll();
        c.onWritable();
        assertThat(out()).isEqualTo("HTTP/1.1 200 OK\r\nServer: flash\r\nContent-Length: 1000\r\n\r\n" + "0123456789".repeat(100));
        assertThat(only().bodyBytes()).isEqualTo(1000);
        fh.release();
        assertThat(fh.isOpen()).as("the connection released the response's reference").isFalse();
    }

    // ------------------------------------------------------------------ streamed bodies

    @Test
    void aStreamOfUnknownLengthGoesOutChunkedTo11() {
        TestStream s = new TestStream().push("hello").end();
        open(new Streamer(s, -1));
        t.deliver(get("/h/s"));
        c.onReadable();
        assertThat(out()).isEqualTo("HTTP/1.1 200 OK\r\nServer: flash\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
        assertThat(s.finishes).isEqualTo(1);
        assertThat(s.abortsBeforeFinish).isZero();
        assertThat(s.consumed).isEqualTo(5);
        assertThat(c.phase()).isEqualTo(Phase.IDLE);
        assertThat(only().bodyBytes()).as("body bytes, not framing").isEqualTo(5);
    }

    @Test
    void aStreamOfUnknownLengthIsCloseDelimitedTo10() {
        TestStream s = new TestStream().push("hello").end();
        open(new Streamer(s, -1));
        t.deliver("GET /h/s HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        c.onReadable();
        assertThat(out()).isEqualTo("HTTP/1.0 200 OK\r\nServer: flash\r\nConnection: close\r\n\r\nhello");
        assertThat(c.phase()).isEqualTo(Phase.LINGERING);
        assertThat(t.shutdownOutputs).isEqualTo(1);
        assertThat(only().bodyBytes()).isEqualTo(5);
    }

    @Test
    void aStreamOfKnownLengthHasContentLengthAndNoFraming() {
        TestStream s = new TestStream().push("hel").push("lo").end();
        open(new Streamer(s, 5));
        t.deliver(get("/h/s"));
        c.onReadable();
        assertThat(out()).isEqualTo("HTTP/1.1 200 OK\r\nServer: flash\r\nContent-Length: 5\r\n\r\nhello");
        assertThat(only().bodyBytes()).isEqualTo(5);
    }

    @Test
    void headWithAStreamSendsNoBodyAndAbortsTheStream() {
        TestStream s = new TestStream().push("hello").end();
        Streamer h = new Streamer(s, -1);
        open(h);
        t.deliver("HEAD /h/s HTTP/1.1\r\nHost: x\r\n\r\n" + get("/f/after"));
        c.onReadable();
        assertThat(out()).isEqualTo("HTTP/1.1 200 OK\r\nServer: flash\r\n\r\n" + ok11("hello /f/after"));
        assertThat(s.nextCalls).isZero();
        assertThat(s.abortsBeforeFinish).isEqualTo(1);
        assertThat(h.aborts).as("the exchange itself was answered, not aborted").isZero();
        assertThat(done).hasSize(2);
        assertThat(done.getFirst().bodyBytes()).isZero();
        assertThat(done.getFirst().aborted()).isFalse();
        assertThat(c.phase()).isEqualTo(Phase.IDLE);
    }

    @Test
    void aNoContentStreamSendsNoBody() {
        TestStream s = new TestStream().push("hello").end();
        open(new Streamer(s, -1, 204));
        t.deliver(get("/h/s"));
        c.onReadable();
        assertThat(out()).isEqualTo("HTTP/1.1 204 No Content\r\nServer: flash\r\n\r\n");
        assertThat(s.nextCalls).isZero();
        assertThat(s.abortsBeforeFinish).isEqualTo(1);
        assertThat(only().status()).isEqualTo(204);
    }

    @Test
    void aWaitingStreamResumesWhenReady() {
        TestStream s = new TestStream();
        open(new Streamer(s, -1));
        t.deliver(get("/h/s"));
        c.onReadable();
        // Nothing to send yet: the head goes, then the connection waits on the stream with no interest at all.
        assertThat(out()).isEqualTo("HTTP/1.1 200 OK\r\nServer: flash\r\nTransfer-Encoding: chunked\r\n\r\n");
        assertThat(c.phase()).isEqualTo(Phase.BUSY);
        assertThat(reg.ops()).isZero();
        assertThat(s.onReadyCalls).isEqualTo(1);
        assertThat(done).isEmpty();

        s.push("hello");
        s.fire();
        assertThat(t.output()).endsWith("\r\n\r\n5\r\nhello\r\n");
        assertThat(c.phase()).isEqualTo(Phase.BUSY);
        assertThat(s.onReadyCalls).isEqualTo(2);
        assertThat(done).isEmpty();

        s.push("world!").end();
        s.fire();
        assertThat(out()).isEqualTo("HTTP/1.1 200 OK\r\nServer: flash\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5\r\nhello\r\n6\r\nworld!\r\n0\r\n\r\n");
        assertThat(c.phase()).isEqualTo(Phase.IDLE);
        assertThat(reg.ops()).isEqualTo(Registration.READ);
        assertThat(only().bodyBytes()).isEqualTo(11);
        assertThat(s.finishes).isEqualTo(1);
    }

    @Test
    void aStreamBlockedOnTheSocketWaitsForWritable() {
        TestStream s = new TestStream().push("hello").push("world").end();
        open(new Streamer(s, -1));
        t.acceptOnly(0);
        t.deliver(get("/h/s"));
        c.onReadable();
        assertThat(reg.ops()).isEqualTo(Registration.WRITE);
        assertThat(s.consumed).as("nothing consumed before it is sent").isZero();
        for (int i = 0; i < 200 && done.isEmpty(); i++) {
            t.acceptOnly(3);
            c.onWritable();
        }
        assertThat(out()).isEqualTo("HTTP/1.1 200 OK\r\nServer: flash\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n");
        assertThat(only().bodyBytes()).isEqualTo(10);
    }

    @Test
    void aStreamClosedBeforeItIsReadyIsAbortedAndItsLateCallIgnored() {
        TestStream s = new TestStream();
        Streamer h = new Streamer(s, -1);
        open(h);
        t.deliver(get("/h/s"));
        c.onReadable();
        String head = t.output();
        c.close(); // server stop
        assertClosed();
        assertThat(s.abortsBeforeFinish).isEqualTo(1);
        assertThat(h.aborts).isEqualTo(1);
        assertThat(only().aborted()).isTrue();
        s.push("late").end();
        s.fire();
        assertThat(t.output()).isEqualTo(head);
        assertThat(done).hasSize(1);
    }

    // ------------------------------------------------------------------ request bodies

    @Test
    void aRequestBodyIsDeliveredAcrossReads() {
        BodyReader h = new BodyReader(false);
        open(h);
        t.deliver("POST /h/up HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhel");
        c.onReadable();
        assertThat(h.body()).isEqualTo("hel");
        assertThat(c.phase()).isEqualTo(Phase.BODY);
        assertThat(reg.ops()).isEqualTo(Registration.READ);
        assertThat(t.output()).isEmpty();

        t.deliver("lo ");
        c.onReadable();
        assertThat(h.body()).isEqualTo("hello ");
        assertThat(h.wakeups).isEqualTo(1);
        t.deliver("world" + get("/f/next"));
        c.onReadable();
        assertThat(out()).isEqualTo(ok11("got hello world") + ok11("hello /f/next"));
        assertThat(done).hasSize(2);
        assertThat(c.phase()).isEqualTo(Phase.IDLE);
    }

    @Test
    void anExchangeReplacedWhileWaitingForItsBodyTakesItsWaiterWithIt() {
        // A --fallback rewrite (or a CGI local redirect) of an exchange that waits for body bytes: the new exchange
        // has not asked for the body, so the connection leaves its body phase (whose deadline would answer 408 while
        // the new handler works), and body bytes that come never wake the replaced exchange's handler.
        List<Exchange> seen = new ArrayList<>();
        Handler h = ex -> {
            seen.add(ex);
            if (seen.size() == 1) ex.onBody(() -> { throw new AssertionError("the replaced exchange's waiter ran"); });
            // the second, the rewrite's, answers when the test says (an upstream that takes its time)
        };
        open(h);
        t.deliver("POST /h/up HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhel");
        c.onReadable();
        assertThat(c.phase()).isEqualTo(Phase.BODY);
        seen.getFirst().rewrite("/h/next");
        assertThat(seen).hasSize(2);
        assertThat(c.phase()).isEqualTo(Phase.BUSY);
        assertThat(reg.reading()).isFalse();
        t.deliver("lo world");
        c.onReadable();
        seen.get(1).respond(ok(seen.get(1).request(), "rewritten"));
        assertThat(out()).isEqualTo(ok11("rewritten"));
        c.onReadable(); // the rest of the body, discarded before the next request
        assertThat(c.phase()).isEqualTo(Phase.IDLE);
        assertThat(done).hasSize(1);
    }

    @Test
    void whileTheHandlerHoldsABodyViewNothingMoreIsRead() {
        BodyReader h = new BodyReader(true);
        open(h);
        t.deliver("POST /h/up HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello");
        t.deliver("world");
        c.onReadable();
        assertThat(h.held).isNotNull();
        assertThat(h.held.remaining()).isEqualTo(5);

        // Readiness while the view is held: the connection reads nothing and stops reading (backpressure).
        int reads = t.reads;
        c.onReadable();
        c.onReadable();
        assertThat(t.reads).isEqualTo(reads);
        assertThat(t.pendingInput()).isEqualTo(5);
        assertThat(reg.reading()).isFalse();

        h.release(); // the view went where it was going: the handler asks for more, and waits
        assertThat(h.body()).isEqualTo("hello");
        assertThat(reg.reading()).isTrue();
        assertThat(c.phase()).isEqualTo(Phase.BODY);
        c.onReadable();
        assertThat(h.held).isNotNull();
        assertThat(t.pendingInput()).isZero();
        h.release();
        assertThat(out()).isEqualTo(ok11("got helloworld"));
        assertThat(only().status()).isEqualTo(200);
    }

    @Test
    void aChunkedRequestBodyArrivingByteByByte() {
        BodyReader h = new BodyReader(false);
        open(h);
        t.deliverBytewise("POST /h/up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5\r\nhello\r\n1;ext=1\r\n \r\nA\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\n" + get("/f/next"));
        for (int i = 0; i < 1000 && done.size() < 2; i++) c.onReadable();
        assertThat(h.failure).isNull();
        assertThat(h.body()).isEqualTo("hello 0123456789");
        assertThat(out()).isEqualTo(ok11("got hello 0123456789") + ok11("hello /f/next"));
        assertThat(done).hasSize(2);
    }

    @Test
    void aBodyTheHandlerIgnoresIsDiscardedBeforeTheNextRequest() {
        open(new Fixed());
        t.deliver("POST /h/up HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhel");
        c.onReadable();
        assertThat(takeOut()).isEqualTo(ok11("hello /h/up"));
        assertThat(c.phase()).as("still reading the rest of the body").isEqualTo(Phase.READING);
        t.deliver("loworld" + get("/f/next"));
        c.onReadable();
        assertThat(takeOut()).isEqualTo(ok11("hello /f/next"));
        assertThat(done).hasSize(2);
    }

    @Test
    void expectContinueIsSentOnlyWhenTheHandlerAsksForTheBody() {
        BodyReader h = new BodyReader(false);
        open(h);
        t.deliver("POST /h/up HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
        c.onReadable();
        assertThat(takeOut()).isEqualTo("HTTP/1.1 100 Continue\r\n\r\n");
        assertThat(c.phase()).isEqualTo(Phase.BODY);
        t.deliver("he");
        c.onReadable();
        assertThat(t.output()).as("one 100 Continue per request").isEmpty();
        t.deliver("llo");
        c.onReadable();
        // The parser turns keep-alive off for a request that expected 100-continue.
        assertThat(out()).isEqualTo(okBytes("HTTP/1.1", "got hello", "close"));
        assertThat(only().status()).isEqualTo(200);
    }

    @Test
    void noContinueWhenTheHandlerAnswersWithoutTheBody() {
        open(new Fixed());
        t.deliver("POST /h/up HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
        c.onReadable();
        assertThat(out()).isEqualTo(okBytes("HTTP/1.1", "hello /h/up", "close"));
        assertThat(c.phase()).isEqualTo(Phase.LINGERING);
    }

    @Test
    void noContinueWhenTheBodyIsAlreadyHere() {
        BodyReader h = new BodyReader(false);
        open(h);
        t.deliver("POST /h/up HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello");
        c.onReadable();
        assertThat(out()).isEqualTo(okBytes("HTTP/1.1", "got hello", "close"));
    }

    @Test
    void noContinueForHttp10() {
        BodyReader h = new BodyReader(false);
        open(h);
        t.deliver("POST /h/up HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
        c.onReadable();
        assertThat(t.output()).isEmpty();
        t.deliver("hello");
        c.onReadable();
        assertThat(out()).isEqualTo(okBytes("HTTP/1.0", "got hello", "close"));
    }

    @Test
    void aMalformedChunkedBodyIsABadBodyExceptionForTheHandler() {
        BodyReader h = new BodyReader(false);
        open(h);
        t.deliver("POST /h/up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
        c.onReadable();
        assertThat(h.body()).isEqualTo("hello");
        t.deliver("zz\r\n" + get("/f/never"));
        c.onReadable();
        assertThat(h.failure).isInstanceOf(BadBodyException.class);
        assertThat(((BadBodyException) h.failure).status()).isEqualTo(Status.BAD_REQUEST);
        // The handler's 400 is the last response: the framing is lost, so nothing after it is parsed as a request.
        assertThat(out()).isEqualTo(errorBytes(Status.BAD_REQUEST, false));
        assertThat(other.exchanges).isEmpty();
        assertThat(c.phase()).isEqualTo(Phase.LINGERING);
        assertThat(only().status()).isEqualTo(400);
        assertThat(only().request()).isNotNull();
    }

    @Test
    void aChunkLargerThanTheBodyLimitIs413ForTheHandler() {
        BodyReader h = new BodyReader(false);
        open(h);
        t.deliver("POST /h/up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFF\r\n");
        c.onReadable();
        assertThat(((BadBodyException) h.failure).status()).isEqualTo(Status.CONTENT_TOO_LARGE);
        assertThat(only().status()).isEqualTo(413);
    }

    @Test
    void aBodyCutShortByEofIsABadBodyException() {
        BodyReader h = new BodyReader(false);
        open(h);
        t.deliver("POST /h/up HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello").deliverEof();
        c.onReadable();
        assertThat(h.body()).isEqualTo("hello");
        c.onReadable(); // reads the EOF and wakes the handler
        d.runTasks();
        assertThat(h.failure).isInstanceOf(BadBodyException.class);
        assertThat(out()).isEqualTo(errorBytes(Status.BAD_REQUEST, false));
        assertClosed();
        assertThat(only().status()).isEqualTo(400);
        assertThat(h.aborts).isZero();
    }

    @Test
    void aHandlerThatAsksForBodyAfterEofIsWokenByATask() {
        int[] wakeups = {0};
        BadBodyException[] failure = {null};
        Handler h = new Handler() {
            Exchange ex;

            @Override
            public void handle(Exchange ex) {
                this.ex = ex;
                ex.onBody(this::woken);
            }

            void woken() {
                if (++wakeups[0] == 1) {
                    ex.onBody(this::woken); // not now: wait again, though the client has already closed
                    return;
                }
                try {
                    assertThat(ex.bodyNext()).isNull();
                } catch (BadBodyException e) {
                    failure[0] = e;
                    ex.fail(e.status());
                } catch (IOException e) {
                    throw new AssertionError(e);
                }
            }
        };
        open(h);
        t.deliver("POST /h/up HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n").deliverEof();
        c.onReadable();
        assertThat(c.phase()).isEqualTo(Phase.BODY);
        c.onReadable(); // the EOF: the handler is woken, and asks again
        assertThat(wakeups[0]).isEqualTo(1);
        assertThat(d.pendingTasks()).as("no read can wake it now: a task does").isEqualTo(1);
        d.runTasks();
        assertThat(wakeups[0]).isEqualTo(2);
        assertThat(failure[0]).isNotNull();
        assertThat(out()).isEqualTo(errorBytes(Status.BAD_REQUEST, false));
        assertClosed();
        assertThat(only().status()).isEqualTo(400);
    }

    @Test
    void anEofWhileTheHandlerHoldsAViewIsReadOnlyWhenItAsksAgain() {
        BodyReader h = new BodyReader(true);
        open(h);
        t.deliver("POST /h/up HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello").deliverEof();
        c.onReadable();
        assertThat(h.held).isNotNull();
        c.onReadable(); // busy: the EOF is not read yet
        assertThat(t.eofPending()).isTrue();
        h.release();
        c.onReadable(); // now the EOF
        assertThat(h.failure).isInstanceOf(BadBodyException.class);
        assertThat(out()).isEqualTo(errorBytes(Status.BAD_REQUEST, false));
        assertClosed();
    }

    /** A response body that is the request body, pulled as the client sends it: both halves at once. */
    static final class Echo implements Handler {
        final long length;
        int aborts;

        Echo(long length) { this.length = length; }

        @Override
        public void handle(Exchange ex) {
            ex.onAbort(() -> aborts++);
            ex.respond(new Head(Status.OK), new BodyStream() {
                ByteBuffer view;

                @Override
                public ByteBuffer next() throws IOException {
                    if (view == null) view = ex.bodyNext();
                    return view;
                }

                @Override public boolean ended() { return view == null && ex.bodyEnded(); }

                @Override
                public void consumed(int n) {
                    view = null;
                    ex.bodyConsumed(n);
                }

                @Override public void onReady(Runnable ready) { ex.onBody(ready); }

                @Override public void abort() { }
            }, length);
        }
    }

    @Test
    void aResponseStreamedFromTheRequestBodyAsItArrives() {
        Echo h = new Echo(-1);
        open(h);
        t.deliver("POST /h/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello");
        c.onReadable();
        assertThat(out()).isEqualTo("HTTP/1.1 200 OK\r\nServer: flash\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
        assertThat(c.phase()).as("waiting for request body, with a response under way").isEqualTo(Phase.BODY);
        assertThat(reg.ops()).isEqualTo(Registration.READ);

        t.acceptOnly(4); // the socket fills mid-chunk: the request body view stays out, and nothing more is read
        t.deliver("wor").deliver("ld" + get("/f/next"));
        c.onReadable();
        assertThat(reg.ops()).isEqualTo(Registration.WRITE);
        int reads = t.reads;
        c.onReadable();
        assertThat(t.reads).isEqualTo(reads);

        t.acceptAll();
        c.onWritable();
        for (int i = 0; i < 10 && done.size() < 2; i++) c.onReadable();
        assertThat(out()).isEqualTo("HTTP/1.1 200 OK\r\nServer: flash\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5\r\nhello\r\n3\r\nwor\r\n2\r\nld\r\n0\r\n\r\n" + ok11("hello /f/next"));
        assertThat(done).hasSize(2);
        assertThat(done.getFirst().bodyBytes()).isEqualTo(10);
        assertThat(done).noneMatch(Completion::aborted);
        assertThat(c.phase()).isEqualTo(Phase.IDLE);
    }

    @Test
    void aResponseStreamedFromTheRequestBodyWithAKnownLength() {
        open(new Echo(10));
        t.deliverBytewise("POST /h/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhelloworld");
        for (int i = 0; i < 200 && done.isEmpty(); i++) c.onReadable();
        assertThat(out()).isEqualTo("HTTP/1.1 200 OK\r\nServer: flash\r\nContent-Length: 10\r\n\r\nhelloworld");
        assertThat(only().bodyBytes()).isEqualTo(10);
    }

    @Test
    void aClientGoneWhileAnEchoWaitsForBodyAbortsOnce() {
        Echo h = new Echo(-1);
        open(h);
        t.deliver("POST /h/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello").deliverEof();
        c.onReadable();
        c.onReadable(); // EOF: the stream learns the body is cut short, and the response cannot end well
        d.runTasks();
        assertClosed();
        assertThat(only().aborted()).isTrue();
        assertThat(only().bodyBytes()).isEqualTo(5);
        assertThat(h.aborts).isEqualTo(1);
    }

    @Test
    void aBodyViewStillHeldWhenTheResponseEndsIsDiscardedNotReparsed() {
        // The response's stream looks at the request body and ends without consuming what it holds (it answers
        // from the first bytes). What it held is body: the parser must skip it, and parse the next request whole.
        Handler h = ex -> ex.respond(new Head(Status.OK), new BodyStream() {
            ByteBuffer peeked;
            ByteBuffer answer;

            @Override
            public ByteBuffer next() throws IOException {
                if (peeked == null) {
                    peeked = ex.bodyNext();
                    answer = ByteBuffer.wrap(("saw " + (char) peeked.get(peeked.position())).getBytes(StandardCharsets.US_ASCII));
                }
                return answer.hasRemaining() ? answer : null;
            }

            @Override public boolean ended() { return answer != null && !answer.hasRemaining(); }

            @Override public void consumed(int n) { }

            @Override public void onReady(Runnable ready) { throw new AssertionError("never waits"); }

            @Override public void abort() { }
        }, 5);
        open(h);
        t.deliver("POST /h/peek HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello" + get("/f/next"));
        c.onReadable();
        assertThat(out()).isEqualTo("HTTP/1.1 200 OK\r\nServer: flash\r\nContent-Length: 5\r\n\r\nsaw h" + ok11("hello /f/next"));
        assertThat(done).hasSize(2);
        assertThat(c.phase()).isEqualTo(Phase.IDLE);
    }

    @Test
    void anInterimResponseGoesBeforeTheFinalOneExceptToHttp10() {
        Handler h = ex -> {
            try {
                ex.interim(new Head(103, "Early Hints").add("Link", "</a.css>; rel=preload"));
            } catch (IOException e) {
                throw new AssertionError(e);
            }
            ex.respond(ok(ex.request(), "final"));
        };
        open(h);
        t.deliver(get("/h/1") + "GET /h/2 HTTP/1.0\r\n\r\n");
        c.onReadable();
        assertThat(out()).isEqualTo("HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n" + ok11("final")
                + okBytes("HTTP/1.0", "final", "close"));
        assertThat(done).extracting(Completion::status).containsExactly(200, 200);
    }

    @Test
    void aHandlerThatGivesUpClosesTheConnectionAndItsAbortHookRunsOnce() {
        int[] aborts = {0};
        Handler h = ex -> {
            ex.onAbort(() -> aborts[0]++);
            ex.abort();
            ex.abort();
        };
        open(h);
        t.deliver(get("/h/x"));
        c.onReadable();
        assertClosed();
        assertThat(aborts[0]).isEqualTo(1);
        assertThat(only().aborted()).isTrue();
        assertThat(t.output()).isEmpty();
    }

    // ------------------------------------------------------------------ timeouts

    @Test
    void expireWhileReadingAHeadAnswers408AndCloses() {
        open(new Fixed());
        t.deliver("GET /h/slow HTTP/1.1\r\nHo");
        c.onReadable();
        assertThat(c.phase()).isEqualTo(Phase.READING);
        c.expire();
        assertThat(out()).isEqualTo(errorBytes(Status.REQUEST_TIMEOUT, true));
        assertClosed();
        Completion x = only();
        assertThat(x.status()).isEqualTo(408);
        assertThat(x.request()).isNull();
        assertThat(x.aborted()).isFalse();
        assertThat(x.bodyBytes()).isEqualTo(ErrorPages.body(Status.REQUEST_TIMEOUT).length);
        assertThat(d.stats().timeouts.sum()).isEqualTo(1);
    }

    @Test
    void a408TheClientDoesNotTakeReportsTheBytesActuallyWritten() {
        open(new Fixed());
        t.deliver("GET /h/slow HTTP/1.1\r\nHo");
        c.onReadable();
        t.acceptOnly(0); // a slowloris client that does not read either
        c.expire();
        assertClosed();
        Completion x = only();
        assertThat(x.status()).isEqualTo(408);
        assertThat(x.bodyBytes()).as("nothing of the 408 reached the client").isZero();
        assertThat(x.aborted()).isTrue();
    }

    @Test
    void expireWhenIdleJustCloses() {
        open(new Fixed());
        c.expire();
        assertClosed();
        assertThat(t.output()).isEmpty();
        assertThat(done).isEmpty();
        assertThat(d.stats().idleCloses.sum()).isEqualTo(1);
    }

    @Test
    void expireWhenIdleAfterAResponseJustCloses() {
        open(new Fixed());
        t.deliver(get("/h/a"));
        c.onReadable();
        String before = t.output();
        c.expire();
        assertClosed();
        assertThat(t.output()).isEqualTo(before);
        assertThat(done).hasSize(1);
    }

    @Test
    void expireWhileAHandlerWaitsForBodyAnswers408() {
        BodyReader h = new BodyReader(false);
        open(h);
        t.deliver("POST /h/up HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhel");
        c.onReadable();
        assertThat(c.phase()).isEqualTo(Phase.BODY);
        c.expire();
        assertThat(out()).isEqualTo(errorBytes(Status.REQUEST_TIMEOUT, true));
        assertClosed();
        Completion x = only();
        assertThat(x.status()).isEqualTo(408);
        assertThat(x.request()).isNotNull();
        assertThat(h.aborts).as("the handler is told to let go").isEqualTo(1);
        assertThat(h.ex.active()).isFalse();
    }

    @Test
    void expireWhileBusyWaitsForTheHandler() {
        FakeDriver.DeferredSeam seam = new FakeDriver.DeferredSeam();
        Later h = new Later();
        open(h, seam);
        t.deliver(get("/h/a"));
        c.onReadable();
        assertThat(c.expired(Long.MAX_VALUE)).as("a busy handler keeps its own deadline").isFalse();
        c.expire();
        assertThat(c.phase()).isEqualTo(Phase.BUSY);
        seam.releaseAll();
        assertThat(out()).isEqualTo(ok11("later /h/a"));
        assertThat(only().aborted()).isFalse();
    }

    @Test
    void expireWhileWritingClosesAndAbortsTheExchange() {
        Fixed h = new Fixed();
        open(h);
        t.deliver(get("/h/w"));
        t.acceptOnly(0);
        c.onReadable();
        assertThat(c.phase()).isEqualTo(Phase.WRITING);
        c.expire();
        assertClosed();
        Completion x = only();
        assertThat(x.aborted()).isTrue();
        assertThat(x.bodyBytes()).isZero();
        assertThat(x.status()).isEqualTo(200);
        assertThat(h.aborts).isEqualTo(1);
        assertThat(d.stats().timeouts.sum()).isEqualTo(1);
    }

    // ------------------------------------------------------------------ clients that go away

    @Test
    void aClientGoneMidResponseClosesAndAbortsTheExchangeOnce() {
        Fixed h = new Fixed();
        open(h);
        t.deliver(get("/h/gone"));
        int headLength = ok11("hello /h/gone").length() - "hello /h/gone".length() + "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n".length();
        t.acceptOnly(headLength + 3); // the head and "hel"
        c.onReadable();
        assertThat(c.phase()).isEqualTo(Phase.WRITING);
        assertThat(noDate(t.output())).endsWith("\r\n\r\nhel");
        t.failWrites();
        c.onWritable();
        assertClosed();
        Completion x = only();
        assertThat(x.aborted()).isTrue();
        assertThat(x.status()).isEqualTo(200);
        assertThat(x.bodyBytes()).isEqualTo(3);
        assertThat(h.aborts).isEqualTo(1);
        // Closing again, or a late timer, changes nothing.
        c.close();
        c.expire();
        c.onReadable();
        c.onWritable();
        assertThat(h.aborts).isEqualTo(1);
        assertThat(done).hasSize(1);
        assertThat(d.stats().openConnections.sum()).isZero();
    }

    @Test
    void aClientGoneMidChunkReportsTheBodyBytesThatLeft() {
        TestStream s = new TestStream();
        Streamer h = new Streamer(s, -1);
        open(h);
        t.deliver(get("/h/s"));
        c.onReadable(); // the head goes; the stream has nothing yet
        t.acceptOnly(3 + 2); // "5\r\n" and "he"
        s.push("hello");
        s.fire();
        assertThat(t.output()).endsWith("\r\n\r\n5\r\nhe");
        t.failWrites();
        c.onWritable();
        assertClosed();
        Completion x = only();
        assertThat(x.aborted()).isTrue();
        assertThat(x.bodyBytes()).as("\"he\" left; the chunk framing is not body").isEqualTo(2);
        assertThat(h.aborts).isEqualTo(1);
        assertThat(s.abortsBeforeFinish).isEqualTo(1);
    }

    @Test
    void aClientGoneBeforeASecondChunkReportsTheFirst() {
        TestStream s = new TestStream().push("hello");
        open(new Streamer(s, -1));
        t.deliver(get("/h/s"));
        c.onReadable(); // head and the first chunk go; then the stream has nothing
        assertThat(t.output()).endsWith("5\r\nhello\r\n");
        t.acceptOnly(0);
        s.push("world");
        s.fire();
        assertThat(reg.ops()).isEqualTo(Registration.WRITE);
        t.failWrites();
        c.onWritable();
        assertClosed();
        assertThat(only().bodyBytes()).as("\"hello\" left whole; nothing of \"world\"").isEqualTo(5);
        assertThat(only().aborted()).isTrue();
    }

    @Test
    void aStreamThatFailsMidBodyClosesTheConnection() {
        TestStream s = new TestStream().push("hello");
        s.failWhenEmpty = true;
        Streamer h = new Streamer(s, -1);
        open(h);
        t.deliver(get("/h/s"));
        c.onReadable();
        assertClosed();
        assertThat(out()).endsWith("5\r\nhello\r\n");
        assertThat(only().aborted()).isTrue();
        assertThat(only().bodyBytes()).isEqualTo(5);
        assertThat(h.aborts).isEqualTo(1);
    }

    @Test
    void aLateAnswerForAClosedConnectionWritesNothing() {
        FakeDriver.DeferredSeam seam = new FakeDriver.DeferredSeam();
        Later h = new Later();
        open(h, seam);
        t.deliver(get("/h/a"));
        c.onReadable();
        c.close();
        assertClosed();
        assertThat(h.aborts).isEqualTo(1);
        assertThat(only().aborted()).isTrue();
        seam.releaseAll();
        assertThat(h.lateAnswers).isEqualTo(1);
        assertThat(t.output()).isEmpty();
        assertThat(done).hasSize(1);
    }

    @Test
    void aResetWhileReadingClosesWithoutAnExchange() {
        open(new Fixed());
        t.deliver("GET /h HTTP/1.1\r\n");
        c.onReadable();
        t.failReads(new IOException("Connection reset by peer"));
        c.onReadable();
        assertClosed();
        assertThat(done).isEmpty();
    }

    // ------------------------------------------------------------------ bad requests

    @Test
    void aBadRequestIsAnswered400AndTheConnectionCloses() {
        open(new Fixed());
        t.deliver("GET /h HTTP/1.1\r\n\r\n"); // no Host
        c.onReadable();
        assertThat(out()).isEqualTo(errorBytes(Status.BAD_REQUEST, true));
        assertThat(c.phase()).isEqualTo(Phase.LINGERING);
        assertThat(t.shutdownOutputs).isEqualTo(1);
        Completion x = only();
        assertThat(x.status()).isEqualTo(400);
        assertThat(x.request()).isNull();
        assertThat(x.aborted()).isFalse();
        assertThat(x.bodyBytes()).isEqualTo(ErrorPages.body(Status.BAD_REQUEST).length);
        assertThat(d.stats().badRequests.sum()).isEqualTo(1);
        t.deliverEof();
        c.onReadable();
        assertClosed();
        assertThat(done).hasSize(1);
    }

    @Test
    void aBadRequestAfterAGoodOneInAPipeline() {
        Fixed h = new Fixed();
        open(h);
        t.deliver(get("/h/ok") + "BROKEN\r\n\r\n" + get("/h/never"));
        c.onReadable();
        assertThat(out()).isEqualTo(ok11("hello /h/ok") + errorBytes(Status.BAD_REQUEST, true));
        assertThat(h.exchanges).hasSize(1);
        assertThat(done).extracting(Completion::status).containsExactly(200, 400);
        assertThat(done.get(1).request()).isNull();
    }

    @Test
    void aBadRequestTheClientCannotTakeIsAbortedOnce() {
        open(new Fixed());
        t.acceptOnly(20);
        t.deliver("GET /h HTTP/1.1\r\n\r\n");
        c.onReadable();
        assertThat(c.phase()).isEqualTo(Phase.WRITING);
        t.failWrites();
        c.onWritable();
        assertClosed();
        Completion x = only();
        assertThat(x.status()).isEqualTo(400);
        assertThat(x.request()).isNull();
        assertThat(x.aborted()).isTrue();
        assertThat(x.bodyBytes()).isZero();
    }

    // ------------------------------------------------------------------ drain

    @Test
    void drainAnswersARequestThatArrivesOnAnIdleConnectionThenCloses() {
        open(new Fixed());
        c.drain();
        assertThat(c.phase()).as("not closed under a request on its way").isEqualTo(Phase.IDLE);
        assertThat(t.isOpen()).isTrue();
        t.deliver(get("/h/a"));
        c.onReadable();
        assertThat(out()).isEqualTo(okBytes("HTTP/1.1", "hello /h/a", "close"));
        assertThat(c.phase()).isEqualTo(Phase.LINGERING);
        assertThat(only().aborted()).isFalse();
    }

    @Test
    void drainClosesAConnectionThatStaysIdleForTheQuietTime() {
        open(new Fixed());
        long now = System.nanoTime();
        assertThat(c.expired(now + Http1Connection.DRAIN_QUIET_NANOS * 2)).as("idle timeout far away").isFalse();
        c.drain();
        assertThat(c.expired(now + Http1Connection.DRAIN_QUIET_NANOS * 2)).isTrue();
        c.expire();
        assertClosed();
        assertThat(done).isEmpty();
    }

    @Test
    void drainLetsARequestBeingReadArriveAndAnswersIt() {
        open(new Fixed());
        String req = get("/h/a");
        t.deliver(req.substring(0, 10));
        c.onReadable();
        assertThat(c.phase()).isEqualTo(Phase.READING);
        c.drain();
        t.deliver(req.substring(10));
        c.onReadable();
        assertThat(out()).isEqualTo(okBytes("HTTP/1.1", "hello /h/a", "close"));
        assertThat(c.phase()).isEqualTo(Phase.LINGERING);
    }

    @Test
    void requestDrainFromAnotherThreadShortensAnIdleDeadlineOnly() {
        open(new Fixed());
        long now = System.nanoTime();
        c.requestDrain();
        assertThat(t.isOpen()).as("a timer only interrupts: nothing is shut down now").isTrue();
        assertThat(c.expired(now + Http1Connection.DRAIN_QUIET_NANOS * 2)).isTrue();
    }

    @Test
    void drainLetsTheResponseInHandFinishThenCloses() {
        FakeDriver.DeferredSeam seam = new FakeDriver.DeferredSeam();
        Later h = new Later();
        open(h, seam);
        t.deliver(get("/h/a") + get("/h/b"));
        c.onReadable();
        c.drain();
        assertThat(c.phase()).isEqualTo(Phase.BUSY);
        seam.releaseAll();
        assertThat(out()).as("a head built for keep-alive says close").isEqualTo(okBytes("HTTP/1.1", "later /h/a", "close"));
        assertThat(h.exchanges).as("no next request after a drain").hasSize(1);
        assertThat(c.phase()).isEqualTo(Phase.LINGERING);
        assertThat(only().aborted()).isFalse();
    }

    @Test
    void drainTurnsAnHttp10KeepAliveHeadIntoClose() {
        FakeDriver.DeferredSeam seam = new FakeDriver.DeferredSeam();
        Later h = new Later();
        open(h, seam);
        t.deliver("GET /h/a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        c.onReadable();
        c.drain();
        seam.releaseAll();
        assertThat(out()).isEqualTo(okBytes("HTTP/1.0", "later /h/a", "close"));
        assertThat(c.phase()).isEqualTo(Phase.LINGERING);
    }

    @Test
    void drainMakesAStreamedResponseSayClose() {
        FakeDriver.DeferredSeam seam = new FakeDriver.DeferredSeam();
        TestStream s = new TestStream().push("hi").end();
        Handler h = ex -> ex.driver().seam().run(() -> 1, o -> ex.respond(new Head(Status.OK), s, -1));
        open(h, seam);
        t.deliver(get("/h/a"));
        c.onReadable();
        c.drain();
        seam.releaseAll();
        assertThat(out()).isEqualTo("HTTP/1.1 200 OK\r\nServer: flash\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                + "2\r\nhi\r\n0\r\n\r\n");
        assertThat(c.phase()).isEqualTo(Phase.LINGERING);
    }

    // ------------------------------------------------------------------ the one completion point

    /** Another connection on the same context (so on the same listener), for tests that need several. */
    private record Side(FakeTransport t, FakeDriver d, FakeDriver.Reg reg, Http1Connection c) {}

    private Side another() {
        FakeTransport t2 = new FakeTransport();
        FakeDriver d2 = new FakeDriver(BUFFER);
        FakeDriver.Reg reg2 = d2.registration();
        return new Side(t2, d2, reg2, new Http1Connection(t2, d2, reg2, ctx));
    }

    private static String summary(Completion x) {
        return (x.request() == null ? "-" : x.request().method() + " " + x.request().rawPath()) + " " + x.status() + " "
                + x.bodyBytes() + (x.aborted() ? " aborted" : "");
    }

    @Test
    void everyExchangeEndsExactlyOnce() {
        // One listener over connections that end every way: normal and pipelined answers, HEAD, a close then
        // linger, a streamed body, 400 and 408 (no request), a client gone mid-response. Each exchange reports
        // once, with the body bytes that actually left; the listener itself refuses a request completed twice.
        Fixed h = new Fixed();
        open(h);
        t.deliver(get("/h/1") + get("/h/2") + "HEAD /h/3 HTTP/1.1\r\nHost: x\r\n\r\n"
                + "GET /h/4 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        c.onReadable();
        t.deliverEof();
        c.onReadable();
        assertClosed();

        Side bad = another();
        bad.t().deliver("GET /h/5 HTTP/1.1\r\n\r\n"); // no Host
        bad.c().onReadable();
        bad.t().deliverEof();
        bad.c().onReadable();

        Side slow = another();
        slow.t().deliver("GET /h/6 HTTP/1.1\r\nHo");
        slow.c().onReadable();
        slow.c().expire();

        Side gone = another();
        gone.t().acceptOnly("HTTP/1.1 200 OK\r\nServer: flash\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Type: text/plain\r\n"
                .length() + "Content-Length: 10\r\n\r\n".length() + 3);
        gone.t().deliver(get("/h/7"));
        gone.c().onReadable();
        gone.t().failWrites();
        gone.c().onWritable();

        Side streamed = another();
        TestStream s = new TestStream().push("hello").end();
        ctx.router(new Router(List.of(new Router.Route("/h", false, new Streamer(s, -1))), ex -> ex.fail(Status.NOT_FOUND)));
        streamed.t().deliver(get("/h/8"));
        streamed.c().onReadable();

        // Nothing ends twice, whatever comes after.
        for (Side x : List.of(bad, slow, gone, streamed)) {
            x.c().expire();
            x.c().close();
            x.c().onReadable();
            x.c().onWritable();
            assertThat(x.c().phase()).isEqualTo(Phase.CLOSED);
            assertThat(x.d().buffersHeld()).isZero();
        }
        c.expire();
        c.close();

        assertThat(done).extracting(Http1ConnectionTest::summary).containsExactly(
                "GET /h/1 200 10",
                "GET /h/2 200 10",
                "HEAD /h/3 200 0",
                "GET /h/4 200 10",
                "- 400 " + ErrorPages.body(Status.BAD_REQUEST).length,
                "- 408 " + ErrorPages.body(Status.REQUEST_TIMEOUT).length,
                "GET /h/7 200 3 aborted",
                "GET /h/8 200 5");
        assertThat(done).allMatch(x -> x.endNanos() - x.startNanos() >= 0 && x.upstreamNanos() == -1 && x.remote() == null);
        assertThat(h.exchanges).hasSize(5).allMatch(x -> !x.active());
        assertThat(h.aborts).as("only the exchange whose client went away").isEqualTo(1);
    }
}
