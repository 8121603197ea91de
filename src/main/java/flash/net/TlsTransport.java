package flash.net;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * TLS over a socket, by an {@link SSLEngine} (OpenSSL's through {@code flash.tls.OpenSslEngine}, or the JDK's; see
 * --tls-engine): the codec above reads and writes plaintext as on a
 * {@link PlainTransport}. It carries the handshake, which happens inside the first reads (a read may need to write
 * the server's flight, and a write asked for before the handshake is done waits for a read); the engine's delegated
 * tasks (the handshake's signature and key agreement) run through the driver's seam: on a helper under AMPED, on the
 * calling thread elsewhere. It sends close_notify when the output ends.
 *
 * <p>Non-blocking, a call that cannot make progress returns 0 and leaves a state {@link TlsConnection} turns into the
 * right readiness interest: ciphertext still to send ({@link #hasPendingOutput}), a write that waits for the handshake
 * ({@link #writeNeedsRead}), a task on a helper ({@link #taskRunning}), plaintext or whole records already received
 * ({@link #hasBufferedInput}). Blocking, calls block as a socket's do.
 *
 * <p>File data cannot be sent by sendfile (it must be encrypted here): {@link #sendFile} answers
 * {@link Transport#UNSUPPORTED} and the caller copies it through {@link #write}.
 *
 * <p>Reads and writes lock separately, so a tunnel's two directions can run on two threads; a write the read path
 * needs (a handshake flight) takes the write lock inside the read lock, never the reverse while blocked.
 */
public final class TlsTransport implements Transport {
    private static final ByteBuffer[] NOTHING = {ByteBuffer.allocate(0)};
    private static final byte[] PLAIN_HTTP_400 = ("HTTP/1.1 400 Bad Request\r\nContent-Type: text/html\r\n"
            + "Content-Length: 106\r\nConnection: close\r\n\r\n"
            + "<html><body><h1>400 Bad Request</h1><p>The plain HTTP request was sent to HTTPS port</p></body></html>\n")
            .getBytes(StandardCharsets.US_ASCII);
    /** Spare buffers per thread: a connection holds one only while it has bytes in it, so idle connections hold none. */
    private static final ThreadLocal<ArrayDeque<ByteBuffer>> SPARE = ThreadLocal.withInitial(ArrayDeque::new);
    private static final ThreadLocal<ArrayDeque<ByteBuffer>> SPARE_DIRECT = ThreadLocal.withInitial(ArrayDeque::new);
    private static final int SPARE_MAX = 8;
    /**
     * Ciphertext gathered per socket write while a large body is wrapped: 4 full records, the size of one segment on
     * loopback (MTU 64 KiB). netOut grows to hold it, so a connection sending a large body holds about 66 KiB (nginx
     * holds its 16 KiB SSL buffer plus 64 KiB of output buffers); one waiting on a full socket holds what is unsent.
     */
    private static final int BATCH = 4 * 16 * 1024;

    private final SocketChannel ch;
    private final SSLEngine engine;
    private final BlockingSeam seam;
    private final int bufferSize;
    /**
     * Buffers in native memory, for an engine that works on native memory (OpenSslEngine, the one that is closeable):
     * it then reads ciphertext straight into netOut and takes it straight from netIn, and the socket reads and writes
     * them without the JDK's copy through a temporary direct buffer. Two copies fewer per record each way.
     */
    private final boolean direct;
    private final ReentrantLock readLock = new ReentrantLock();
    private final ReentrantLock writeLock = new ReentrantLock();
    private final ByteBuffer[] one = new ByteBuffer[1];

    private ByteBuffer netIn;   // ciphertext received, not unwrapped yet (write mode); null when empty
    private ByteBuffer appIn;   // plaintext unwrapped, not read yet (read mode); null when empty
    private ByteBuffer netOut;  // ciphertext not sent yet (read mode); null when empty
    private volatile boolean handshakeDone;
    private volatile boolean taskRunning;
    private boolean inTaskCall;     // the seam is running tasks inline, under our own call
    private boolean inboundClosed;  // the peer's close_notify, or EOF
    private boolean outputClosed;   // our close_notify is queued
    private boolean shutdownPending; // shut the socket's output once netOut drains
    private boolean firstRead = true;
    private boolean broken;          // a wrap failed part-way (a mapped file truncated under it): send nothing more
    private Runnable onTaskDone = () -> { };

    /** The handshake starts with the client's hello, in the first read. */
    public TlsTransport(SocketChannel ch, SSLEngine engine, BlockingSeam seam) {
        this.ch = ch;
        this.engine = engine;
        this.seam = seam;
        this.bufferSize = Math.max(engine.getSession().getPacketBufferSize(), engine.getSession().getApplicationBufferSize());
        this.direct = engine instanceof AutoCloseable;
    }

    /** Called after a delegated task finished on a helper (on the connection's own thread). */
    void onTaskDone(Runnable r) { this.onTaskDone = r; }

    public SSLEngine engine() { return engine; }

    public boolean handshakeDone() { return handshakeDone; }

    boolean taskRunning() { return taskRunning; }

    boolean hasPendingOutput() { return netOut != null && netOut.hasRemaining() || shutdownPending && ch.isOpen(); }

    /** A write cannot proceed before the handshake has read what it needs. */
    boolean writeNeedsRead() { return !handshakeDone && !taskRunning; }

    /** Plaintext, or a whole record, is here already: a read would return data without the socket being readable. */
    boolean hasBufferedInput() {
        if (appIn != null && appIn.hasRemaining()) return true;
        ByteBuffer n = netIn;
        if (n == null || n.position() < 5) return false;
        int len = ((n.get(3) & 0xff) << 8) | (n.get(4) & 0xff);
        return n.position() >= 5 + len;
    }

    // ------------------------------------------------------------------ reading

    @Override
    public int read(ByteBuffer dst) throws IOException {
        readLock.lock();
        try {
            return readLocked(dst);
        } finally {
            if (netIn != null && netIn.position() == 0) netIn = give(netIn);
            readLock.unlock();
        }
    }

    private int readLocked(ByteBuffer dst) throws IOException {
        int delivered = 0;
        while (true) {
            if (appIn != null) {
                delivered += drainAppIn(dst);
                if (appIn != null || !dst.hasRemaining()) return delivered;
            }
            if (taskRunning) return delivered;
            // After the handshake the engine rarely asks for more (a session ticket, a key update, an alert).
            if (!(handshakeDone && engine.getHandshakeStatus() == HandshakeStatus.NOT_HANDSHAKING) && !stepHandshake()) {
                return delivered;
            }
            if (netIn != null && netIn.position() > 0 && !inboundClosed) {
                SSLEngineResult r = unwrap(dst);
                if (r.getStatus() == SSLEngineResult.Status.CLOSED) {
                    inboundClosed = true;
                    try {
                        stepHandshake(); // our close_notify in reply, if the engine wants to send one
                    } catch (IOException ignored) {
                        // the peer is going anyway
                    }
                    return delivered > 0 ? delivered : -1;
                }
                if (r.getStatus() == SSLEngineResult.Status.OK && (r.bytesConsumed() > 0 || r.bytesProduced() > 0)) {
                    if (appIn == null) delivered += r.bytesProduced();
                    continue; // more records may be here; the handshake may want to write
                }
                if (r.getStatus() == SSLEngineResult.Status.BUFFER_UNDERFLOW && !netIn.hasRemaining()) {
                    netIn = grow(netIn, engine.getSession().getPacketBufferSize());
                }
            }
            if (delivered > 0) return delivered;   // never block for more once we have something
            if (inboundClosed) return -1;
            if (netIn == null) netIn = take();
            int n = ch.read(netIn);
            if (n < 0) {
                inboundClosed = true;
                try {
                    engine.closeInbound(); // complains when the peer sent no close_notify: a truncation we report as EOF
                } catch (SSLException ignored) {
                    // EOF is EOF to HTTP/1: its framing tells whether the message was whole
                }
                return -1;
            }
            if (n == 0) return 0;
            if (firstRead) {
                firstRead = false;
                if (plainHttp(netIn)) {
                    answerPlainHttp();
                    throw new IOException("a plain HTTP request on the TLS port");
                }
            }
        }
    }

    /** Unwraps one record: into {@code dst} when the record fits there, else into {@link #appIn}. */
    private SSLEngineResult unwrap(ByteBuffer dst) throws IOException {
        netIn.flip();
        try {
            SSLEngineResult r = engine.unwrap(netIn, dst);
            if (r.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) {
                ByteBuffer b = take();
                if (b.capacity() < engine.getSession().getApplicationBufferSize()) {
                    b = allocate(engine.getSession().getApplicationBufferSize());
                }
                r = engine.unwrap(netIn, b);
                b.flip();
                if (b.hasRemaining()) appIn = b;
                else give(b);
            }
            noteHandshake(r);
            return r;
        } catch (SSLException e) {
            sendAlert(); // the engine has queued an alert saying why
            throw e;
        } finally {
            netIn.compact();
        }
    }

    private int drainAppIn(ByteBuffer dst) {
        int n = Math.min(dst.remaining(), appIn.remaining());
        if (n == appIn.remaining()) {
            dst.put(appIn);
        } else {
            int limit = appIn.limit();
            appIn.limit(appIn.position() + n);
            dst.put(appIn);
            appIn.limit(limit);
        }
        if (!appIn.hasRemaining()) appIn = give(appIn);
        return n;
    }

    /**
     * A write waits for the handshake: read what it needs, keeping any plaintext that comes with it for the next
     * {@link #read}. Non-blocking only (a blocking driver reads before it writes).
     */
    void pump() throws IOException {
        readLock.lock();
        try {
            if (appIn != null) return;
            ByteBuffer b = take();
            int n = readLocked(b);
            b.flip();
            if (n > 0) appIn = b;
            else give(b);
        } finally {
            readLock.unlock();
        }
    }

    /** A client that speaks plain HTTP sends a method name; a TLS client, a handshake record (0x16) or an SSLv2 hello. */
    private static boolean plainHttp(ByteBuffer in) {
        byte b = in.get(0);
        return b >= 'A' && b <= 'Z';
    }

    /** nginx's answer to a plain request on an https port, in plain text, then the end of our output. */
    private void answerPlainHttp() {
        ByteBuffer b = ByteBuffer.wrap(PLAIN_HTTP_400);
        try {
            ch.write(b); // one try when non-blocking: a client that does not read gets the close
            if (!b.hasRemaining()) ch.shutdownOutput();
        } catch (IOException ignored) {
            // the client is gone
        }
        outputClosed = true;
    }

    // ------------------------------------------------------------------ the handshake

    /**
     * Runs what the engine asks for besides unwrapping: delegated tasks and wraps (handshake flights, alerts,
     * session tickets), flushing what they produce. False when it cannot go on now: output blocked, or a task running
     * on a helper.
     */
    private boolean stepHandshake() throws IOException {
        writeLock.lock();
        try {
            while (true) {
                if (netOut != null && !flush()) return false;
                switch (engine.getHandshakeStatus()) {
                    case NEED_TASK -> {
                        if (!runTasks()) return false;
                    }
                    case NEED_WRAP -> {
                        SSLEngineResult r = wrap(NOTHING, 0, 1);
                        if (r.getStatus() == SSLEngineResult.Status.CLOSED && r.bytesProduced() == 0) {
                            return true;
                        }
                    }
                    default -> {
                        if (!handshakeDone && engine.getHandshakeStatus() == HandshakeStatus.NOT_HANDSHAKING
                                && !engine.getSession().getProtocol().equals("NONE")) {
                            handshakeDone = true;
                        }
                        return true;
                    }
                }
            }
        } finally {
            writeLock.unlock();
        }
    }

    /** The engine's delegated tasks, through the seam: inline on this thread, or on a helper (AMPED). */
    private boolean runTasks() {
        List<Runnable> tasks = new ArrayList<>(2);
        for (Runnable t; (t = engine.getDelegatedTask()) != null; ) tasks.add(t);
        if (tasks.isEmpty()) return true;
        if (ch.isBlocking()) {
            tasks.forEach(Runnable::run);
            return true;
        }
        taskRunning = true;
        inTaskCall = true;
        try {
            seam.run(() -> {
                for (Runnable t : tasks) t.run();
                return Boolean.TRUE;
            }, outcome -> {
                taskRunning = false;
                if (!inTaskCall) onTaskDone.run(); // a helper finished: resume whatever waited on the connection's thread
            });
        } finally {
            inTaskCall = false;
        }
        return !taskRunning;
    }

    private void noteHandshake(SSLEngineResult r) {
        if (r.getHandshakeStatus() == HandshakeStatus.FINISHED) handshakeDone = true;
    }

    // ------------------------------------------------------------------ writing

    @Override
    public int write(ByteBuffer src) throws IOException {
        writeLock.lock();
        try {
            one[0] = src;
            return (int) write(one, 0, 1);
        } finally {
            one[0] = null;
            writeLock.unlock();
        }
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        writeLock.lock();
        try {
            if (netOut != null && !flush()) return 0;
            if (!handshakeDone || taskRunning) {
                if (!ch.isBlocking() || taskRunning) return 0; // TlsConnection reads (or waits for the task) first
                if (!stepHandshake() || !handshakeDone) throw new IOException("TLS handshake not complete");
            }
            if (outputClosed) throw new IOException("TLS output closed");
            if (engine.getHandshakeStatus() == HandshakeStatus.NEED_TASK && !stepHandshake()) return 0;
            long total = 0;
            while (remaining(srcs, offset, length)) {
                SSLEngineResult r = wrap(srcs, offset, length);
                total += r.bytesConsumed();
                if (r.getStatus() == SSLEngineResult.Status.CLOSED) throw new IOException("TLS connection closed");
                boolean progress = r.bytesConsumed() > 0 || r.bytesProduced() > 0;
                // Records gather in netOut up to BATCH bytes before a write: one system call, one segment and one
                // wake-up of the reader for several records instead of one each.
                if (progress && netOut.remaining() < BATCH && remaining(srcs, offset, length)) continue;
                if (!flush()) break;   // the socket is full: the rest waits in netOut
                if (!progress) {
                    if (ch.isBlocking()) throw new IOException("TLS engine makes no progress");
                    break;
                }
            }
            return total;
        } finally {
            writeLock.unlock();
        }
    }

    /** One wrap into netOut (kept in read mode between calls); grows it when a record does not fit. */
    private SSLEngineResult wrap(ByteBuffer[] srcs, int offset, int length) throws IOException {
        if (broken) throw new IOException("TLS output failed earlier");
        // A body of several records gets a netOut that holds a batch of them (see BATCH).
        if (netOut == null) netOut = take(bytes(srcs, offset, length) > BATCH / 4 ? 4 * bufferSize : bufferSize);
        else netOut.compact();
        boolean ok = false;
        try {
            SSLEngineResult r = engine.wrap(srcs, offset, length, netOut);
            if (r.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) {
                netOut = grow(netOut, engine.getSession().getPacketBufferSize() + netOut.position());
                r = engine.wrap(srcs, offset, length, netOut);
            }
            noteHandshake(r);
            ok = true;
            return r;
        } finally {
            netOut.flip();
            // A wrap that failed part-way (an InternalError from a mapping truncated under the engine's copy) may have
            // left half a record in netOut: never send it, nor anything after it.
            if (!ok) {
                broken = true;
                netOut = null;
            }
        }
    }

    /** Sends netOut; true when all of it left (a blocking socket always sends all). */
    private boolean flush() throws IOException {
        while (netOut != null && netOut.hasRemaining()) {
            if (ch.write(netOut) == 0 && !ch.isBlocking()) return false;
        }
        if (netOut != null) netOut = give(netOut);
        if (shutdownPending) {
            shutdownPending = false;
            ch.shutdownOutput();
        }
        return true;
    }

    /** Sends what is pending (TlsConnection, when the socket is writable again). */
    void flushPending() throws IOException {
        writeLock.lock();
        try {
            flush();
        } finally {
            writeLock.unlock();
        }
    }

    /** After an engine failure: one try at sending the alert the engine queued, so the client learns why. */
    private void sendAlert() {
        if (!writeLock.tryLock()) return;
        try {
            if (engine.getHandshakeStatus() == HandshakeStatus.NEED_WRAP) wrap(NOTHING, 0, 1);
            if (netOut != null) ch.write(netOut);
        } catch (IOException | RuntimeException ignored) {
            // we are failing anyway
        } finally {
            writeLock.unlock();
        }
    }

    private static long bytes(ByteBuffer[] srcs, int offset, int length) {
        long n = 0;
        for (int i = offset; i < offset + length; i++) n += srcs[i].remaining();
        return n;
    }

    private static boolean remaining(ByteBuffer[] srcs, int offset, int length) {
        for (int i = offset; i < offset + length; i++) if (srcs[i].hasRemaining()) return true;
        return false;
    }

    /** File data must pass through the engine: the caller reads it and calls {@link #write}. */
    @Override
    public long sendFile(FileChannel file, long position, long length) { return UNSUPPORTED; }

    /** close_notify, then a FIN once it (and anything before it) has left. */
    @Override
    public void shutdownOutput() throws IOException {
        writeLock.lock();
        try {
            if (!outputClosed) {
                outputClosed = true;
                if (handshakeDone && !taskRunning) {
                    engine.closeOutbound();
                    wrap(NOTHING, 0, 1);
                }
            }
            shutdownPending = true;
            flush();
        } finally {
            writeLock.unlock();
        }
    }

    @Override public void shutdownInput() throws IOException { ch.shutdownInput(); }

    /**
     * Closes the socket, sending close_notify first when that cannot block: on the owning thread of a non-blocking
     * connection with the handshake done. A timer's close (another thread, the owner maybe blocked in a write) only
     * closes the socket, as a timer only interrupts.
     */
    @Override
    public void close() {
        try {
            closeChannel();
        } finally {
            // An engine holding native memory (OpenSslEngine) frees it now, once, on the owner's thread (a timer calls
            // interrupt(), which only closes the socket). It frees under its own lock as well, so even a racing call
            // fails cleanly instead of using freed memory.
            if (engine instanceof AutoCloseable c) {
                try {
                    c.close();
                } catch (Exception ignored) {
                    // closing is all that is left
                }
            }
        }
    }

    /** Closes the socket only: the engine stays until the owner's {@link #close}, so a timer never frees it. */
    @Override
    public void interrupt() { closeChannel(); }

    private void closeChannel() {
        if (!ch.isOpen()) return;
        if (!ch.isBlocking() && !taskRunning && writeLock.tryLock()) {
            try {
                if (!outputClosed && handshakeDone && !broken) {
                    outputClosed = true;
                    engine.closeOutbound();
                    wrap(NOTHING, 0, 1);
                    ch.write(netOut);
                }
            } catch (IOException | RuntimeException ignored) {
                // closing is all that is left
            } finally {
                writeLock.unlock();
            }
        }
        try {
            ch.close();
        } catch (IOException ignored) {
            // closing is all we wanted
        }
    }

    @Override public boolean isOpen() { return ch.isOpen(); }

    @Override public boolean isBlocking() { return ch.isBlocking(); }

    @Override public SelectableChannel channel() { return ch; }

    // ------------------------------------------------------------------ buffers

    private ByteBuffer take() { return take(bufferSize); }

    /** A spare of at least {@code size} bytes, or a new one. */
    private ByteBuffer take(int size) {
        for (Iterator<ByteBuffer> it = (directHere() ? SPARE_DIRECT : SPARE).get().iterator(); it.hasNext(); ) {
            ByteBuffer b = it.next();
            if (b.capacity() >= size) {
                it.remove();
                return b.clear();
            }
        }
        return allocate(size);
    }

    private ByteBuffer allocate(int size) {
        return directHere() ? ByteBuffer.allocateDirect(size) : ByteBuffer.allocate(size);
    }

    /**
     * Not on a virtual thread: its spares die with it (one per connection under vt), and a direct buffer per
     * connection would leave native memory for the garbage collector's cleaner to free.
     */
    private boolean directHere() { return direct && !Thread.currentThread().isVirtual(); }

    /** Returns a buffer to this thread's spares; always null, for {@code field = give(field)}. */
    private static ByteBuffer give(ByteBuffer b) {
        ArrayDeque<ByteBuffer> spare = (b.isDirect() ? SPARE_DIRECT : SPARE).get();
        if (spare.size() < SPARE_MAX) spare.addFirst(b);
        return null;
    }

    /** A bigger buffer with {@code b}'s contents, in write mode. */
    private ByteBuffer grow(ByteBuffer b, int atLeast) {
        ByteBuffer bigger = allocate(Math.max(atLeast, b.capacity() * 2));
        b.flip();
        bigger.put(b);
        return bigger;
    }
}
