package flash.net;

import java.io.IOException;

/**
 * Sits between a driver and the handler of a TLS client connection (the HTTP codec), so the codec keeps asking for
 * READ or WRITE as on a plain socket while the transport gets what TLS needs besides:
 * <ul>
 *   <li>ciphertext the socket did not take (a record is encrypted whole): WRITE, until it has left;</li>
 *   <li>a write before the handshake is done: READ instead, and the write once the handshake read what it needed;</li>
 *   <li>a delegated task on a helper (AMPED): nothing, until the task's completion resumes the connection;</li>
 *   <li>plaintext or whole records already received while the codec asks to read: a read without readiness (the
 *       socket will not signal bytes that are already in user space).</li>
 * </ul>
 * It is the codec's {@link Registration}, and the driver's {@link IoHandler}. A handshake not done within the
 * handshake timeout closes the connection: a slow or half-open handshake holds no more than that.
 */
public final class TlsConnection implements IoHandler, Registration {
    private final TlsTransport tls;
    private final Driver driver;
    private final Registration outer;
    private final long handshakeDeadline;
    private IoHandler inner;
    private int appOps = Registration.READ;
    private boolean readScheduled;

    public TlsConnection(TlsTransport tls, Driver driver, Registration outer, long handshakeTimeoutNanos) {
        this.tls = tls;
        this.driver = driver;
        this.outer = outer;
        this.handshakeDeadline = System.nanoTime() + handshakeTimeoutNanos;
        tls.onTaskDone(this::resume);
    }

    /** The codec, built with this as its registration. */
    public TlsConnection attach(IoHandler handler) {
        this.inner = handler;
        return this;
    }

    public TlsTransport transport() { return tls; }

    // ------------------------------------------------------------------ the codec's registration

    @Override
    public void interest(int ops) {
        appOps = ops;
        refresh();
    }

    @Override public void cancel() { outer.cancel(); }

    /** The driver's interest: the codec's, adjusted for what the transport needs first. */
    private void refresh() {
        if (!tls.isOpen()) return;
        int ops;
        if (tls.taskRunning()) {
            ops = 0; // the task's completion resumes us
        } else {
            ops = appOps;
            if ((ops & WRITE) != 0 && tls.writeNeedsRead()) ops = (ops & ~WRITE) | READ;
            if (tls.hasPendingOutput()) ops |= WRITE;
            if (!driver.blocking() && (appOps & READ) != 0 && !readScheduled && tls.hasBufferedInput()) {
                readScheduled = true;
                driver.execute(this::bufferedRead);
            }
        }
        outer.interest(ops);
    }

    private void bufferedRead() {
        readScheduled = false;
        if (!tls.isOpen() || (appOps & READ) == 0 || !tls.hasBufferedInput()) return;
        inner.onReadable();
        refresh();
    }

    /** A delegated task finished on a helper: go on with whatever the codec waits for. */
    private void resume() {
        if (!tls.isOpen()) return;
        if ((appOps & READ) != 0) inner.onReadable();
        else if ((appOps & WRITE) != 0) writable();
        refresh();
    }

    // ------------------------------------------------------------------ the driver's handler

    @Override
    public void onReadable() {
        if ((appOps & READ) != 0) {
            inner.onReadable();
        } else if ((appOps & WRITE) != 0 && tls.writeNeedsRead()) {
            try {
                tls.pump();
            } catch (IOException e) {
                inner.close();
                return;
            }
            if (!tls.writeNeedsRead() && !tls.taskRunning()) writable();
        }
        refresh();
    }

    @Override
    public void onWritable() {
        try {
            tls.flushPending();
        } catch (IOException e) {
            inner.close();
            return;
        }
        writable();
        refresh();
    }

    private void writable() {
        if ((appOps & WRITE) != 0 && !tls.hasPendingOutput() && !tls.writeNeedsRead() && !tls.taskRunning()) {
            inner.onWritable();
        }
    }

    @Override
    public boolean expired(long now) {
        if (!tls.handshakeDone()) return now - handshakeDeadline > 0;
        return inner.expired(now);
    }

    @Override
    public void expire() {
        if (!tls.handshakeDone()) {
            driver.stats().timeouts.increment();
            inner.close(); // a handshake not done in time: nothing to answer, in any protocol
        } else {
            inner.expire();
        }
    }

    @Override
    public void interrupt() {
        if (!tls.handshakeDone()) tls.interrupt(); // wakes the owner blocked in the handshake's read; it releases
        else inner.interrupt();
    }

    @Override public void requestDrain() { inner.requestDrain(); }

    /**
     * Not before the handshake is done: that has its own deadline. After it, the inner connection stays IDLE until a
     * whole record has been decrypted, so a request whose first record is still arriving counts as idle: the race of
     * any keep-alive close, a little wider than in plain text.
     */
    @Override public long idleDeadline() { return tls.handshakeDone() ? inner.idleDeadline() : Long.MAX_VALUE; }

    @Override public boolean shedIfIdle(long idleDeadline) { return tls.handshakeDone() && inner.shedIfIdle(idleDeadline); }

    @Override public boolean shedPending() { return inner.shedPending(); }

    @Override public void abort() { inner.abort(); }

    @Override public void drain() { inner.drain(); }

    @Override public void close() { inner.close(); }

    @Override public void onConnected() { inner.onConnected(); }

    @Override public void onConnectFailed(IOException e) { inner.onConnectFailed(e); }
}
