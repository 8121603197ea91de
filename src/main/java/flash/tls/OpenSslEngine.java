package flash.tls;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLEngineResult.Status;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSession;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.util.concurrent.locks.ReentrantLock;

import static flash.tls.OpenSsl.Lib;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * A server-side {@link SSLEngine} run by OpenSSL: an SSL with two memory BIOs, ciphertext from the peer written into
 * one, ciphertext for the peer read from the other, as Netty's OpenSSL engine does. It keeps the SSLEngine contract
 * that {@code flash.net.TlsTransport} relies on: {@link #unwrap} takes one whole record at a time (BUFFER_UNDERFLOW
 * until it is there, so records still in the caller's buffer stay visible to it), {@link #wrap} sends what OpenSSL
 * has queued (handshake flights, tickets, alerts, close_notify) before new data and encrypts at most one record per
 * call, FINISHED is reported once, and there are never delegated tasks (OpenSSL's handshake runs inside unwrap: it
 * offers no way to split off its signature and key agreement, and costs a third of what the JDK's did, docs/tls.md).
 *
 * <p>Every SSL call is made under one lock, so a tunnel's two directions on two threads never meet inside OpenSSL,
 * and {@link #close} frees the SSL under the same lock: a call after it sees a closed engine (an SSLException), never
 * freed memory. {@code TlsTransport.close} calls it; a {@link Cleaner} frees an engine that was dropped unclosed.
 *
 * <p>Native memory: bytes cross to OpenSSL through a per-thread scratch segment, copied there in Java first. The
 * caller's buffers are never handed to native code: a buffer mapped from a file that shrinks would fault in
 * OpenSSL and kill the JVM, where a Java copy raises an InternalError the caller handles. Per thread rather than per
 * engine, so idle connections hold no buffer (OpenSSL's own are released when idle, SSL_MODE_RELEASE_BUFFERS).
 */
public final class OpenSslEngine extends SSLEngine implements AutoCloseable {
    static final int HEADER = 5;
    static final int MAX_PLAINTEXT = 16384;
    /** The largest record payload a peer may send (TLS 1.2's limit: plaintext plus 2048). */
    static final int MAX_PAYLOAD = MAX_PLAINTEXT + 2048;
    static final int PACKET_BUFFER = HEADER + MAX_PAYLOAD;
    /** Room asked of a wrap's destination beyond the plaintext: a header and more than any AEAD suite adds. */
    static final int WRAP_OVERHEAD = HEADER + 256;
    private static final int SCRATCH = PACKET_BUFFER + 1024;
    private static final int APPLICATION_DATA = 23;
    private static final Cleaner CLEANER = Cleaner.create();
    /** SSLs made and not yet freed, in this process: what the leak tests watch. */
    static final java.util.concurrent.atomic.AtomicLong LIVE = new java.util.concurrent.atomic.AtomicLong();
    private static final ThreadLocal<MemorySegment> SCRATCHES =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(SCRATCH, 16));

    private final ReentrantLock lock = new ReentrantLock();
    private final Native ssl;
    private final Cleaner.Cleanable cleanable;
    private final OpenSslSession session;
    private final ByteBuffer[] one = new ByteBuffer[1];
    private boolean closed;             // freed: every call after it fails
    private boolean handshakeFinished;
    private boolean finishedReported;
    private boolean failed;             // a fatal error: an alert may still be queued, nothing else goes out
    private boolean inboundDone;
    private boolean outboundClosed;
    private String protocol = "NONE";   // TlsTransport reads it after every handshake step: fixed once known

    /** The SSL and its BIOs, freed exactly once: by {@link #close}, or by the Cleaner when never closed. */
    private record Native(MemorySegment ssl, MemorySegment rbio, MemorySegment wbio) implements Runnable {
        @Override
        public void run() {
            LIVE.decrementAndGet();
            try {
                Lib.SSL_FREE.invokeExact(ssl); // frees both BIOs with it
            } catch (Throwable ignored) {
                // nothing more can be done
            }
        }
    }

    OpenSslEngine(OpenSslContext context) {
        try {
            MemorySegment s = (MemorySegment) Lib.SSL_NEW.invokeExact(context.defaultContext());
            if (s.address() == 0) throw new IllegalStateException("SSL_new failed: " + OpenSsl.drainErrors());
            MemorySegment r = (MemorySegment) Lib.BIO_NEW.invokeExact(Lib.MEM_METHOD);
            MemorySegment w = (MemorySegment) Lib.BIO_NEW.invokeExact(Lib.MEM_METHOD);
            Lib.SSL_SET_BIO.invokeExact(s, r, w);
            Lib.SSL_SET_ACCEPT_STATE.invokeExact(s);
            this.ssl = new Native(s, r, w);
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        LIVE.incrementAndGet();
        this.cleanable = CLEANER.register(this, ssl);
        this.session = new OpenSslSession(this);
    }

    // ------------------------------------------------------------------ unwrap: ciphertext in, plaintext out

    @Override
    public SSLEngineResult unwrap(ByteBuffer src, ByteBuffer dst) throws SSLException {
        lock.lock();
        try {
            one[0] = dst;
            return unwrapLocked(src, one, 0, 1);
        } finally {
            one[0] = null;
            lock.unlock();
        }
    }

    @Override
    public SSLEngineResult unwrap(ByteBuffer src, ByteBuffer[] dsts, int offset, int length) throws SSLException {
        lock.lock();
        try {
            return unwrapLocked(src, dsts, offset, length);
        } finally {
            lock.unlock();
        }
    }

    private SSLEngineResult unwrapLocked(ByteBuffer src, ByteBuffer[] dsts, int offset, int length) throws SSLException {
        open();
        if (inboundDone || failed) return result(Status.CLOSED, 0, 0);
        int available = src.remaining();
        if (available < HEADER) return result(Status.BUFFER_UNDERFLOW, 0, 0);
        int p = src.position();
        int type = src.get(p) & 0xff;
        int payload = ((src.get(p + 3) & 0xff) << 8) | (src.get(p + 4) & 0xff);
        // Not a record header OpenSSL could accept (garbage, a record too long): hand over what is here so that
        // OpenSSL fails now, rather than wait for bytes that will never make sense.
        boolean hopeless = type < 20 || type > 24 || src.get(p + 1) != 3 || payload > MAX_PAYLOAD;
        int record = hopeless ? Math.min(available, PACKET_BUFFER) : HEADER + payload;
        if (available < record) return result(Status.BUFFER_UNDERFLOW, 0, 0);
        if (handshakeFinished && type == APPLICATION_DATA && remaining(dsts, offset, length) < maxPlaintext(payload)) {
            return result(Status.BUFFER_OVERFLOW, 0, 0);
        }
        MemorySegment scratch = SCRATCHES.get();
        if (src.isDirect()) { // native memory already (TlsTransport's netIn): OpenSSL takes it from there
            call(Lib.BIO_WRITE, ssl.rbio, MemorySegment.ofBuffer(src), record);
        } else {
            MemorySegment.copy(MemorySegment.ofBuffer(src), 0, scratch, 0, record);
            call(Lib.BIO_WRITE, ssl.rbio, scratch, record);
        }
        src.position(p + record);

        if (!handshakeFinished) {
            OpenSsl.clearErrors();
            int rc = call(Lib.SSL_DO_HANDSHAKE, ssl.ssl);
            if (rc == 1) {
                handshakeFinished = true;
                protocol = OpenSsl.cString(callPointer(Lib.SSL_GET_VERSION, ssl.ssl));
            } else {
                int err = error(rc);
                if (err != OpenSsl.SSL_ERROR_WANT_READ && err != OpenSsl.SSL_ERROR_WANT_WRITE) throw failure("handshake", err);
            }
            return result(Status.OK, record, 0);
        }
        int produced = 0;
        while (true) {
            int room = remaining(dsts, offset, length);
            if (room == 0) break;
            OpenSsl.clearErrors();
            int n = call(Lib.SSL_READ, ssl.ssl, scratch, Math.min(room, SCRATCH));
            if (n > 0) {
                scatter(scratch, n, dsts, offset, length);
                produced += n;
                continue;
            }
            int err = error(n);
            if (err == OpenSsl.SSL_ERROR_WANT_READ || err == OpenSsl.SSL_ERROR_WANT_WRITE) break;
            if (err == OpenSsl.SSL_ERROR_ZERO_RETURN) { // the peer's close_notify: ours in reply, as the JDK does
                inboundDone = true;
                closeOutboundLocked();
                return result(Status.CLOSED, record, produced);
            }
            throw failure("read", err);
        }
        return result(Status.OK, record, produced);
    }

    /** The most plaintext a record of this payload can carry: AEAD suites add at least a 16-byte tag (and TLS 1.3 a type byte). */
    private int maxPlaintext(int payload) {
        return Math.max(0, payload - ("TLSv1.3".equals(protocol) ? 17 : 16));
    }

    // ------------------------------------------------------------------ wrap: plaintext in, ciphertext out

    @Override
    public SSLEngineResult wrap(ByteBuffer[] srcs, int offset, int length, ByteBuffer dst) throws SSLException {
        lock.lock();
        try {
            open();
            MemorySegment scratch = SCRATCHES.get();
            int queued = pending();
            if (queued > 0) { // what OpenSSL has to say comes first
                if (dst.remaining() < Math.min(queued, PACKET_BUFFER)) return result(Status.BUFFER_OVERFLOW, 0, 0);
                int produced = drain(scratch, dst);
                return result(outboundClosed && pending() == 0 ? Status.CLOSED : Status.OK, 0, produced);
            }
            if (outboundClosed || failed) return result(Status.CLOSED, 0, 0);
            if (!handshakeFinished) return result(Status.OK, 0, 0);
            int n = (int) Math.min(remaining(srcs, offset, length), MAX_PLAINTEXT);
            if (n == 0) return result(Status.OK, 0, 0);
            if (dst.remaining() < n + WRAP_OVERHEAD) return result(Status.BUFFER_OVERFLOW, 0, 0);
            gather(srcs, offset, length, scratch, n);
            OpenSsl.clearErrors();
            int w = call(Lib.SSL_WRITE, ssl.ssl, scratch, n);
            if (w <= 0) throw failure("write", error(w));
            return result(Status.OK, n, drain(scratch, dst));
        } finally {
            lock.unlock();
        }
    }

    /**
     * Moves what the write BIO holds into {@code dst}, as much as fits: straight into it when it is native memory
     * (TlsTransport's netOut), else through scratch.
     */
    private int drain(MemorySegment scratch, ByteBuffer dst) {
        int produced = 0;
        while (dst.hasRemaining()) {
            int n;
            if (dst.isDirect()) {
                n = call(Lib.BIO_READ, ssl.wbio, MemorySegment.ofBuffer(dst), dst.remaining());
            } else {
                n = call(Lib.BIO_READ, ssl.wbio, scratch, Math.min(dst.remaining(), SCRATCH));
                if (n > 0) MemorySegment.copy(scratch, 0, MemorySegment.ofBuffer(dst), 0, n);
            }
            if (n <= 0) break;
            dst.position(dst.position() + n);
            produced += n;
        }
        return produced;
    }

    // ------------------------------------------------------------------ state

    @Override
    public HandshakeStatus getHandshakeStatus() {
        lock.lock();
        try {
            return closed ? HandshakeStatus.NOT_HANDSHAKING : status();
        } finally {
            lock.unlock();
        }
    }

    private HandshakeStatus status() {
        if (pending() > 0) return HandshakeStatus.NEED_WRAP;
        if (!handshakeFinished && !failed && !inboundDone) return HandshakeStatus.NEED_UNWRAP;
        return HandshakeStatus.NOT_HANDSHAKING;
    }

    /** A result whose handshake status is FINISHED once: the first time the handshake is done and its last flight sent. */
    private SSLEngineResult result(Status status, int consumed, int produced) {
        HandshakeStatus hs = status();
        if (handshakeFinished && !finishedReported && hs == HandshakeStatus.NOT_HANDSHAKING) {
            finishedReported = true;
            hs = HandshakeStatus.FINISHED;
        }
        return new SSLEngineResult(status, hs, consumed, produced);
    }

    private int pending() {
        try {
            return (int) (long) Lib.BIO_CTRL.invokeExact(ssl.wbio, OpenSsl.BIO_CTRL_PENDING, 0L, MemorySegment.NULL);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private void open() throws SSLException {
        if (closed) throw new SSLException("TLS engine closed");
    }

    /** Which SSL_ERROR_* a call's return means; read at once, on the thread that made the call. */
    private int error(int rc) {
        try {
            return (int) Lib.SSL_GET_ERROR.invokeExact(ssl.ssl, rc);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * A fatal error: OpenSSL has queued the alert that says why (sent by the caller's next wrap), and the
     * connection is over in both directions. The exception carries OpenSSL's reasons.
     */
    private SSLException failure(String during, int err) {
        failed = true;
        inboundDone = true;
        String why = OpenSsl.drainErrors();
        String msg = "OpenSSL " + during + " failed (SSL_get_error " + err + ")" + (why.isEmpty() ? "" : ": " + why);
        return handshakeFinished ? new SSLException(msg) : new SSLHandshakeException(msg);
    }

    // ------------------------------------------------------------------ closing

    @Override
    public void closeOutbound() {
        lock.lock();
        try {
            if (!closed) closeOutboundLocked();
        } finally {
            lock.unlock();
        }
    }

    /** Queues close_notify (after the handshake only: OpenSSL cannot shut down in the middle of one). */
    private void closeOutboundLocked() {
        if (outboundClosed) return;
        outboundClosed = true;
        if (handshakeFinished && !failed) {
            OpenSsl.clearErrors();
            call(Lib.SSL_SHUTDOWN, ssl.ssl);
            OpenSsl.clearErrors();
        }
    }

    @Override
    public boolean isOutboundDone() {
        lock.lock();
        try {
            return closed || (outboundClosed || failed) && pending() == 0;
        } finally {
            lock.unlock();
        }
    }

    /** As the JDK's: an end of input without the peer's close_notify, after a handshake, may be a truncation attack. */
    @Override
    public void closeInbound() throws SSLException {
        boolean truncated;
        lock.lock();
        try {
            if (closed || inboundDone) {
                inboundDone = true;
                return;
            }
            inboundDone = true;
            truncated = handshakeFinished && (call(Lib.SSL_GET_SHUTDOWN, ssl.ssl) & OpenSsl.SSL_RECEIVED_SHUTDOWN) == 0;
        } finally {
            lock.unlock();
        }
        if (truncated) throw new SSLException("closing inbound before receiving peer's close_notify");
    }

    @Override
    public boolean isInboundDone() {
        lock.lock();
        try {
            return closed || inboundDone;
        } finally {
            lock.unlock();
        }
    }

    /** Frees the SSL, once; later calls fail with "TLS engine closed". Safe from any thread (under the lock). */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) return;
            closed = true;
            cleanable.clean();
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ what the session reports

    String protocol() {
        lock.lock();
        try {
            return protocol;
        } finally {
            lock.unlock();
        }
    }

    String cipherSuite() {
        lock.lock();
        try {
            if (closed || !handshakeFinished) return "SSL_NULL_WITH_NULL_NULL";
            MemorySegment c = callPointer(Lib.SSL_GET_CURRENT_CIPHER, ssl.ssl);
            return c.address() == 0 ? "SSL_NULL_WITH_NULL_NULL" : OpenSsl.cString(callPointer(Lib.SSL_CIPHER_STANDARD_NAME, c));
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String getApplicationProtocol() {
        lock.lock();
        try {
            if (closed) return null;
            if (!handshakeFinished) return null; // not known yet, as the JDK's "null" before the handshake
            try (Arena a = Arena.ofConfined()) {
                MemorySegment data = a.allocate(ADDRESS);
                MemorySegment len = a.allocate(JAVA_INT);
                Lib.SSL_GET0_ALPN_SELECTED.invokeExact(ssl.ssl, data, len);
                int n = len.get(JAVA_INT, 0);
                MemorySegment p = data.get(ADDRESS, 0);
                if (n == 0 || p.address() == 0) return "";
                return new String(p.reinterpret(n).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
                        java.nio.charset.StandardCharsets.US_ASCII);
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String getHandshakeApplicationProtocol() { return getApplicationProtocol(); }

    @Override public SSLSession getSession() { return session; }

    @Override public SSLSession getHandshakeSession() { return handshakeFinished ? null : session; }

    // ------------------------------------------------------------------ what a server engine does not change

    /** OpenSSL's handshake runs inside unwrap: there is never a task. */
    @Override public Runnable getDelegatedTask() { return null; }

    /** The client starts; a second handshake on the connection (renegotiation) is refused. */
    @Override
    public void beginHandshake() throws SSLException {
        if (handshakeFinished) throw new SSLException("renegotiation is not supported");
    }

    // The suites and protocols are the context's (OpenSslContext), fixed at start for every connection; Flash never
    // changes them per engine, so the setters refuse rather than silently do nothing.
    @Override public String[] getSupportedCipherSuites() { return TlsContext.CIPHER_SUITES.toArray(String[]::new); }
    @Override public String[] getEnabledCipherSuites() { return getSupportedCipherSuites(); }
    @Override public void setEnabledCipherSuites(String[] suites) { throw new UnsupportedOperationException("set on OpenSslContext"); }
    @Override public String[] getSupportedProtocols() { return TlsContext.KNOWN_PROTOCOLS.toArray(String[]::new); }
    @Override public String[] getEnabledProtocols() { return getSupportedProtocols(); }
    @Override public void setEnabledProtocols(String[] protocols) { throw new UnsupportedOperationException("set on OpenSslContext"); }

    // A server engine: it never becomes a client, and asks no client certificate (Flash has no client authentication).
    @Override
    public void setUseClientMode(boolean mode) {
        if (mode) throw new UnsupportedOperationException("OpenSslEngine is a server engine");
    }
    @Override public boolean getUseClientMode() { return false; }
    @Override
    public void setNeedClientAuth(boolean need) {
        if (need) throw new UnsupportedOperationException("no client authentication");
    }
    @Override public boolean getNeedClientAuth() { return false; }
    @Override
    public void setWantClientAuth(boolean want) {
        if (want) throw new UnsupportedOperationException("no client authentication");
    }
    @Override public boolean getWantClientAuth() { return false; }
    @Override
    public void setEnableSessionCreation(boolean flag) {
        if (!flag) throw new UnsupportedOperationException("sessions are always created");
    }
    @Override public boolean getEnableSessionCreation() { return true; }

    // ------------------------------------------------------------------ copying

    private static long remainingLong(ByteBuffer[] bufs, int offset, int length) {
        long n = 0;
        for (int i = offset; i < offset + length; i++) n += bufs[i].remaining();
        return n;
    }

    private static int remaining(ByteBuffer[] bufs, int offset, int length) {
        return (int) Math.min(Integer.MAX_VALUE, remainingLong(bufs, offset, length));
    }

    /** Copies {@code n} bytes from the sources into scratch, in Java (a truncated mapping fails here, not in OpenSSL). */
    private static void gather(ByteBuffer[] srcs, int offset, int length, MemorySegment scratch, int n) {
        int at = 0;
        for (int i = offset; i < offset + length && at < n; i++) {
            ByteBuffer b = srcs[i];
            int k = Math.min(b.remaining(), n - at);
            if (k == 0) continue;
            MemorySegment.copy(MemorySegment.ofBuffer(b), 0, scratch, at, k);
            b.position(b.position() + k);
            at += k;
        }
    }

    private static void scatter(MemorySegment scratch, int n, ByteBuffer[] dsts, int offset, int length) {
        int at = 0;
        for (int i = offset; i < offset + length && at < n; i++) {
            ByteBuffer b = dsts[i];
            int k = Math.min(b.remaining(), n - at);
            if (k == 0) continue;
            MemorySegment.copy(scratch, at, MemorySegment.ofBuffer(b), 0, k);
            b.position(b.position() + k);
            at += k;
        }
    }

    // ------------------------------------------------------------------ downcalls

    private static int call(java.lang.invoke.MethodHandle h, MemorySegment a) {
        try {
            return (int) h.invokeExact(a);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static int call(java.lang.invoke.MethodHandle h, MemorySegment a, MemorySegment b, int n) {
        try {
            return (int) h.invokeExact(a, b, n);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static MemorySegment callPointer(java.lang.invoke.MethodHandle h, MemorySegment a) {
        try {
            return (MemorySegment) h.invokeExact(a);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
