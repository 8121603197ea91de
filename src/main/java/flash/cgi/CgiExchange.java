package flash.cgi;

import flash.http.Head;
import flash.http.Method;
import flash.http.Request;
import flash.http.Status;
import flash.net.BlockingSeam;
import flash.net.Driver;
import flash.pipeline.BadBodyException;
import flash.pipeline.BodyCollector;
import flash.pipeline.BodyStream;
import flash.pipeline.Exchange;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * One CGI request, as a small state machine on the client connection's thread: map the path, check and start the
 * program through the driver's seam (a helper under AMPED), stream the request body to its stdin, parse the
 * header block of its stdout, then hand the rest to the client connection as a {@link BodyStream}.
 *
 * <p><b>Where the pipes are read and written.</b> Java cannot select on a {@link Process}'s pipes, so:
 * <ul>
 *   <li>on an event loop (amped, sped) every pipe read or write is a task on {@link CgiProcess#PUMPS}, and its
 *       completion comes back to the loop as an event ({@link Driver#execute}), as AMPED's disk helpers do. stdin
 *       and stdout are pumped at the same time, so a script that answers before it has read its input cannot
 *       deadlock with us. The loop never blocks; a slow script costs a parked pump thread, not a loop.</li>
 *   <li>under a blocking driver (mt, vt, mp) the connection's own thread does the read or write inline, as it
 *       does its socket I/O; completions are queued on the same thread ({@link Driver#execute}) so nothing
 *       re-enters. The body is written whole before output is read, so a script that writes more than a pipe
 *       holds (64 KiB) before reading its input stalls until {@code --cgi-timeout}.</li>
 * </ul>
 * Backpressure both ways: the client's next body piece is taken only once the previous one is in the pipe, and
 * stdout is read only once the client socket took the previous piece. One 64 KiB buffer per exchange.
 *
 * <p><b>Time.</b> While a pipe operation is in flight and nothing moves for {@code --cgi-timeout}, the timer kills
 * the process group (a timer only interrupts); the pending read then ends, and the owner answers 504, or closes
 * the connection when the response had started. A client that goes away gets the script killed. A response sent
 * whole, or a HEAD, lets the script finish: the rest of its output is drained and discarded, and it is killed
 * only if it is still running {@code --cgi-timeout} later.
 */
final class CgiExchange implements BodyStream {
    private static final Logger LOG = Logger.getLogger(CgiExchange.class.getName());
    private static final int BUFFER = 64 * 1024;

    private enum State { STARTING, HEAD, FIRST, BODY, DONE }

    private final Exchange ex;
    private final CgiHandler.Settings s;
    private final Request req;
    private final boolean async;
    private State state = State.STARTING;
    private String scriptName;
    private String name;
    private CgiProcess proc;
    private InputStream stdout;
    // request body
    private byte[] buffered;                   // a chunked body, collected to learn its length
    private int bufferedSent;
    private boolean writing;
    private boolean stdinClosed;
    private boolean waitingForBody;             // feedStdin waits for the client's next body bytes
    // response
    private final CgiOutputParser parser;
    private CgiOutputParser.Result result;
    private final ByteBuffer buf = ByteBuffer.allocate(BUFFER).limit(0); // read mode: the bytes not yet sent
    private boolean reading;
    private boolean readStarted;
    private boolean eof;
    private long length = -1;
    private long sent;
    private boolean bodyless;
    private Runnable ready;
    // time and the end
    private volatile boolean timedOut;
    private ScheduledFuture<?> timer;
    private volatile int armed;        // the arming the pending timer belongs to
    private int inFlight;
    private boolean ended;
    private boolean killOnEnd;

    CgiExchange(Exchange ex, CgiHandler.Settings s) {
        this.ex = ex;
        this.s = s;
        this.req = ex.request();
        this.async = !ex.driver().blocking();
        this.parser = new CgiOutputParser(s.maxHeadBytes());
    }

    // ------------------------------------------------------------------ mapping, body, spawn

    void start() {
        if (ex.target() == null) {
            ex.fail(Status.BAD_REQUEST);
            return;
        }
        String path = ex.target().path();
        String rest = path.length() > s.prefix().length() ? path.substring(s.prefix().length() + 1) : "";
        int slash = rest.indexOf('/');
        name = slash < 0 ? rest : rest.substring(0, slash);
        String pathInfo = slash < 0 ? "" : rest.substring(slash);
        if (name.isEmpty() || name.startsWith(".")) {
            ex.fail(Status.NOT_FOUND);
            return;
        }
        scriptName = s.prefix() + "/" + name;
        ex.onAbort(this::clientGone);
        if (req.chunked()) {
            BodyCollector.collect(ex, s.maxBody(), new BodyCollector.Done() {
                @Override public void collected(byte[] body) {
                    if (state != State.STARTING) return;
                    buffered = body;
                    spawn(pathInfo, body.length);
                }

                @Override public void refused(Status status, String why) {
                    if (state == State.STARTING) fail(status, why);
                }

                @Override public void gone() {
                    if (state == State.STARTING) end(true);
                }
            });
        } else {
            spawn(pathInfo, req.hasBody() ? req.contentLength() : -1);
        }
    }

    private void spawn(String pathInfo, long contentLength) {
        InetSocketAddress local = ex.localAddress();
        String localHost = local == null ? "localhost" : local.getAddress().getHostAddress();
        int localPort = local == null ? 0 : local.getPort();
        Path program = s.dir().resolve(name);
        Map<String, String> env = CgiEnvironment.build(req, scriptName, pathInfo, program, s.documentRoot(),
                contentLength, ex.remoteAddress(), ex.remotePort(), localHost, localPort);
        String logName = scriptName;
        ex.driver().seam().run(() -> {
            // May block on the disk (stat, realpath) and in fork/exec: the seam puts it on a helper under AMPED.
            Path real;
            try {
                real = program.toRealPath();
            } catch (NoSuchFileException e) {
                return Status.NOT_FOUND;
            }
            if (!real.startsWith(s.dir())) return Status.FORBIDDEN; // a symlink out of DIR
            if (!Files.isRegularFile(real, LinkOption.NOFOLLOW_LINKS)) return Status.FORBIDDEN;
            if (!Files.isExecutable(real)) return Status.FORBIDDEN;
            return CgiProcess.start(real, real.getParent(), env, logName);
        }, this::spawned);
    }

    private void spawned(BlockingSeam.Outcome<Object> o) {
        if (!o.ok()) {
            fail(Status.INTERNAL_SERVER_ERROR, "cannot start " + scriptName + ": " + o.failure());
            return;
        }
        if (o.value() instanceof Status st) {
            fail(st, "not runnable");
            return;
        }
        proc = (CgiProcess) o.value();
        stdout = proc.stdout();
        if (state != State.STARTING || !ex.active()) { // the client went away meanwhile
            ended = false;
            end(true);
            return;
        }
        state = State.HEAD;
        feedStdin();
        if (async) startRead();
    }

    // ------------------------------------------------------------------ pipes

    /** Runs a blocking pipe operation where this architecture does them; the completion comes on our thread. */
    private <T> void pipe(BlockingSeam.Task<T> task, Consumer<BlockingSeam.Outcome<T>> then) {
        Driver d = ex.driver();
        inFlight++;
        arm();
        Consumer<BlockingSeam.Outcome<T>> done = out -> {
            inFlight--;
            if (inFlight > 0) arm();
            else disarm();
            then.accept(out);
        };
        if (async) {
            CgiProcess.PUMPS.execute(() -> {
                BlockingSeam.Outcome<T> out = run(task);
                d.execute(() -> done.accept(out));
            });
        } else {
            BlockingSeam.Outcome<T> out = run(task);
            d.execute(() -> done.accept(out));
        }
    }

    private static <T> BlockingSeam.Outcome<T> run(BlockingSeam.Task<T> task) {
        flash.sys.DiskGuard.check("CGI pipe I/O"); // never on an AMPED loop: a pump thread's job
        try {
            return new BlockingSeam.Outcome<>(task.run(), null);
        } catch (Exception e) {
            return new BlockingSeam.Outcome<>(null, e);
        }
    }

    private void arm() {
        if (timer != null) timer.cancel(false);
        int gen = ++armed;
        timer = CgiProcess.TIMER.schedule(() -> timeUp(gen), s.timeoutNanos(), TimeUnit.NANOSECONDS);
    }

    private void disarm() {
        armed++;
        if (timer != null) timer.cancel(false);
        timer = null;
    }

    /**
     * On the timer's thread: only interrupt. The pending pipe operation then ends, and the owner answers. A script
     * still writing to stderr is making progress: the check is put off until stderr has been quiet long enough.
     */
    private void timeUp(int gen) {
        if (gen != armed) return; // re-armed or disarmed meanwhile
        CgiProcess p = proc;
        if (p != null) {
            long quiet = System.nanoTime() - p.lastStderrNanos();
            if (quiet < s.timeoutNanos()) {
                CgiProcess.TIMER.schedule(() -> timeUp(gen), s.timeoutNanos() - quiet, TimeUnit.NANOSECONDS);
                return;
            }
        }
        timedOut = true;
        if (p != null) p.kill();
    }

    // ------------------------------------------------------------------ stdin

    private void feedStdin() {
        waitingForBody = false;
        if (ended || stdinClosed || writing) return;
        if (buffered != null) {
            if (bufferedSent >= buffered.length) {
                stdinDone();
                return;
            }
            int from = bufferedSent, n = Math.min(BUFFER, buffered.length - from);
            bufferedSent += n;
            write(buffered, from, n);
            return;
        }
        if (!req.hasBody()) {
            stdinDone();
            return;
        }
        try {
            ByteBuffer piece = ex.bodyNext();
            if (piece != null) {
                int n = piece.remaining();
                byte[] b = new byte[n];
                piece.get(b);
                ex.bodyConsumed(n);
                write(b, 0, n);
            } else if (ex.bodyEnded()) {
                stdinDone();
            } else {
                waitingForBody = true;
                ex.onBody(this::feedStdin);
            }
        } catch (BadBodyException e) {
            fail(e.status(), e.getMessage());
        } catch (IOException e) {
            end(true); // the client went away mid-body
        }
    }

    private void write(byte[] b, int off, int n) {
        writing = true;
        var stdin = proc.stdin();
        pipe(() -> {
            stdin.write(b, off, n);
            stdin.flush();
            return n;
        }, this::written);
    }

    private void written(BlockingSeam.Outcome<Integer> o) {
        writing = false;
        if (ended) {
            closeStdin();
            return;
        }
        if (timedOut) {
            timeout();
            return;
        }
        if (!o.ok()) {
            // The script closed its stdin (or exited): it wants no more; the connection discards the rest.
            stdinDone();
            return;
        }
        feedStdin();
    }

    private void stdinDone() {
        closeStdin();
        if (!async && !readStarted && !ended) startRead();
    }

    private void closeStdin() {
        if (stdinClosed || proc == null) return;
        stdinClosed = true;
        CgiProcess.closeQuietly(proc.stdin());
    }

    // ------------------------------------------------------------------ stdout

    private void startRead() {
        if (reading || eof || ended) return;
        reading = true;
        readStarted = true;
        InputStream in = stdout;
        byte[] a = buf.array();
        pipe(() -> in.read(a, 0, a.length), this::onRead);
    }

    private void onRead(BlockingSeam.Outcome<Integer> o) {
        reading = false;
        if (ended) {
            closeStdout();
            return;
        }
        if (timedOut) {
            timeout();
            return;
        }
        int n = o.ok() ? o.value() : -1;
        if (n < 0) eof = true;
        else buf.position(0).limit(n);
        switch (state) {
            case HEAD -> parseHead();
            case FIRST -> {
                if (buf.hasRemaining()) badGateway("body without a Content-Type");
                else if (eof) respond();
                else startRead();
            }
            case BODY -> {
                Runnable r = ready;
                ready = null;
                if (r != null) r.run();
            }
            default -> { }
        }
    }

    private void parseHead() {
        try {
            CgiOutputParser.Result r = parser.feed(buf);
            if (r == null) {
                if (eof) parser.endOfInput();
                else startRead();
                return;
            }
            result = r;
            if (r.localRedirect() != null) {
                state = State.DONE;
                LOG.fine(() -> "cgi " + scriptName + ": local redirect to " + r.localRedirect());
                end(false);
                ex.redirect(r.localRedirect());
                return;
            }
            if (r.contentType() == null) {
                if (buf.hasRemaining()) r.checkBody(); // throws
                if (!eof) {
                    state = State.FIRST; // is there a body? only the next read tells
                    startRead();
                    return;
                }
            }
            respond();
        } catch (CgiOutputException e) {
            badGateway(e.getMessage());
        }
    }

    private void respond() {
        state = State.BODY;
        Head head = result.head();
        length = result.contentLength();
        if (length < 0 && eof && !buf.hasRemaining()) length = 0; // all output is in: no chunking needed
        bodyless = !head.allowsBody() || req.method() == Method.HEAD;
        if (!ex.active()) {
            end(true);
            return;
        }
        ex.respond(head, this, length);
        // The script answered before it had all its input (it may stream both ways): the connection dropped the
        // body waiter when the response began, so ask again.
        if (waitingForBody && !ended && ex.active()) ex.onBody(this::feedStdin);
    }

    // ------------------------------------------------------------------ BodyStream (to the client)

    private boolean lengthReached() { return length >= 0 && sent >= length; }

    @Override
    public ByteBuffer next() throws IOException {
        if (state != State.BODY || reading) return null;
        int avail = buf.remaining();
        if (length >= 0) avail = (int) Math.min(avail, length - sent);
        if (avail > 0) return buf.slice(buf.position(), avail);
        if (lengthReached()) return null;
        if (eof) {
            if (length >= 0) throw new IOException("CGI " + scriptName + " wrote less than its Content-Length");
            return null;
        }
        startRead();
        return null;
    }

    @Override
    public boolean ended() {
        return lengthReached() || (eof && !reading && !buf.hasRemaining() && length < 0);
    }

    @Override
    public void consumed(int n) {
        buf.position(buf.position() + n);
        sent += n;
        if (!buf.hasRemaining() && !lengthReached()) startRead();
    }

    @Override
    public void onReady(Runnable r) {
        if (!reading && (buf.hasRemaining() || eof || lengthReached())) {
            ex.driver().execute(r);
            return;
        }
        ready = r;
        startRead();
    }

    @Override
    public void finished() {
        state = State.DONE;
        end(false); // sent whole: the script may finish; the rest of its output (past a Content-Length) is drained
    }

    @Override
    public void abort() {
        if (state == State.DONE) return;
        state = State.DONE;
        end(!bodyless); // HEAD, 204, 304: the body is unwanted, not the script's work; a gone client kills it
    }

    // ------------------------------------------------------------------ the end

    private void clientGone() {
        state = State.DONE;
        end(true);
    }

    private void timeout() {
        LOG.warning(() -> "cgi " + scriptName + ": no output for " + s.timeoutNanos() / 1_000_000 + " ms, killed");
        Status st = Status.GATEWAY_TIMEOUT;
        state = State.DONE;
        end(true);
        if (!ex.active()) return;
        if (ex.responseStarted()) ex.abort();
        else ex.fail(st);
    }

    private void badGateway(String why) {
        LOG.warning(() -> "cgi " + scriptName + ": malformed output: " + why);
        fail(Status.BAD_GATEWAY, why);
    }

    private void fail(Status status, String why) {
        LOG.fine(() -> "cgi " + scriptName + ": " + status.code() + " (" + why + ")");
        state = State.DONE;
        end(true);
        if (!ex.active()) return;
        if (ex.responseStarted()) {
            ex.abort();
        } else {
            ex.failedBecause(flash.pipeline.ErrorCause.CGI, scriptName + ": " + why);
            ex.fail(status);
        }
    }

    /**
     * Ends this exchange's hold on the process, once. {@code kill}: the process group is killed now; otherwise
     * the rest of stdout is drained on a pump thread and the script is killed only if it outlives the timeout.
     * Pipes with an operation in flight are closed when it completes, never under it.
     */
    private void end(boolean kill) {
        if (ended) return;
        ended = true;
        killOnEnd = kill;
        disarm();
        if (proc == null) return;
        if (kill) proc.kill();
        if (!writing) closeStdin();
        if (!reading) closeStdout();
    }

    private void closeStdout() {
        if (stdout == null) return;
        InputStream in = stdout;
        stdout = null;
        if (killOnEnd) {
            CgiProcess.closeQuietly(in);
            return;
        }
        CgiProcess p = proc;
        p.reapWithin(s.timeoutNanos() / 1_000_000);
        CgiProcess.PUMPS.execute(() -> {
            byte[] sink = new byte[8192];
            try (in) {
                while (in.read(sink) >= 0) {
                    // discarded
                }
            } catch (IOException ignored) {
                // the pipe broke: done
            }
        });
    }
}
