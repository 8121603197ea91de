package flash.upstream;

import flash.net.Driver;
import flash.net.IoHandler;
import flash.net.PlainTransport;
import flash.net.Registration;
import flash.net.Transport;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * A connection to an upstream, on the driver of the client connection that uses it (the same event loop, as
 * Netty opens a proxy's outbound channel on the inbound one's loop, so no lock is ever taken). It owns the
 * socket, its read buffer and its deadline, and passes readiness to its current {@link User}; between exchanges
 * it waits in its driver's {@link UpstreamPool}.
 */
public final class UpstreamConnection implements IoHandler {
    /** Read buffer per upstream connection: the bound on a proxied body in flight, whatever its size. */
    public static final int BUFFER_SIZE = 64 * 1024;

    /** What an exchange using this connection hears from it, on the driver's thread. */
    public interface User {
        void onConnected();

        void onConnectFailed(IOException e);

        void onUpstreamReadable();

        void onUpstreamWritable();

        /** The deadline passed: 504 if nothing was sent yet. */
        void onUpstreamTimeout();
    }

    private final Upstream upstream;
    private final SocketChannel channel;
    private final PlainTransport transport;
    private final ByteBuffer buffer = ByteBuffer.allocateDirect(BUFFER_SIZE);
    private boolean lent;           // see readable(): a view of the buffer is out with the client connection
    private Driver driver;
    private Registration reg;
    private User user;
    /** System.nanoTime() deadline, or 0 for none; volatile: a blocking driver's watchdog reads it from its own thread. */
    private volatile long deadline;
    private volatile boolean timedOut;   // a blocking driver's watchdog closed the socket
    private volatile boolean closed;
    private int exchanges;

    private UpstreamConnection(Upstream upstream, SocketChannel channel) {
        this.upstream = upstream;
        this.channel = channel;
        this.transport = new PlainTransport(channel);
    }

    /** Starts connecting to {@code upstream} on {@code driver}; the user hears onConnected or onConnectFailed. */
    public static UpstreamConnection open(Driver driver, Upstream upstream, User user, long connectTimeoutNanos)
            throws IOException {
        boolean unix = upstream.address() instanceof UnixDomainSocketAddress;
        SocketChannel ch = unix ? SocketChannel.open(StandardProtocolFamily.UNIX) : SocketChannel.open();
        if (!unix) ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
        UpstreamConnection c = new UpstreamConnection(upstream, ch);
        c.driver = driver;
        c.user = user;
        c.deadline(connectTimeoutNanos);
        c.reg = driver.connect(ch, upstream.address(), c, connectTimeoutNanos);
        return c;
    }

    public Upstream upstream() { return upstream; }
    public Transport transport() { return transport; }
    public Driver driver() { return driver; }

    /** The read buffer, in write mode: what has been read from the upstream and not yet consumed. */
    public ByteBuffer buffer() { return buffer; }

    // ------------------------------------------------------------------ body bytes lent to the client connection

    /**
     * The buffer flipped for reading what has been read and not yet taken. A response body is sent from views of
     * it ({@link #lend}), so it stays flipped while a view is out, and only {@link #refill} turns it back.
     */
    public ByteBuffer readable() {
        if (!lent) buffer.flip();
        return buffer;
    }

    /**
     * A view of the {@code n} bytes at the readable buffer's position, for the client connection to send. Until
     * it has taken them, the wait is the client's (--upstream-timeout is for an origin that does not answer, a slow
     * client is the write timeout's business): the deadline stops, and the body source arms it again when asked
     * for more.
     */
    public ByteBuffer lend(int n) {
        lent = true;
        deadline(0);
        return buffer.slice(buffer.position(), n);
    }

    /** Back to write mode, dropping what was taken (the body decoder moved the position past it). */
    public void refill() {
        buffer.compact();
        lent = false;
    }

    /** A view is out: the buffer is flipped, and a read would land on bytes the client has yet to send. */
    public boolean lent() { return lent; }

    /** Exchanges this connection has carried (more than one: it came from the pool). */
    public int exchanges() { return exchanges; }

    public boolean timedOut() { return timedOut; }

    public void user(User u) { this.user = u; }

    public void startExchange() {
        exchanges++;
        lent = false; // per exchange: a new one starts with no view out
    }

    /** The deadline for the current step, from now; 0 clears it. */
    public void deadline(long nanos) {
        deadline = nanos <= 0 ? 0 : System.nanoTime() + nanos;
    }

    public void interest(int ops) {
        if (reg != null) reg.interest(ops);
    }

    /** Reads into the buffer: bytes read, 0 when nothing is ready (or the buffer is full), -1 at end of stream. */
    public int fill() throws IOException {
        if (!buffer.hasRemaining()) return 0;
        return transport.read(buffer);
    }

    // ------------------------------------------------------------------ pool hand-over

    /** Taken from a pool by an exchange on {@code d}: under a blocking driver, registered with that thread anew. */
    boolean adopt(Driver d, User u) throws IOException {
        if (closed) return false;
        user = u;
        if (d != driver || reg == null) {
            driver = d;
            reg = d.register(channel, this, 0);
        }
        return true;
    }

    /** Back to the pool: no user; an event loop keeps watching it for a close, a blocking driver lets go of it. */
    void park() {
        user = null;
        deadline = 0;
        if (driver.blocking()) {
            reg.cancel();
            reg = null;
        } else {
            reg.interest(Registration.READ); // an idle upstream that closes or sends junk is dropped at once
        }
    }

    /** Under a blocking driver: whether a parked connection is still usable (no EOF or stray bytes waiting). */
    boolean probeIdle() {
        try {
            channel.configureBlocking(false);
            int n = transport.read(buffer);
            channel.configureBlocking(true);
            return n == 0;
        } catch (IOException e) {
            return false;
        }
    }

    // ------------------------------------------------------------------ IoHandler

    @Override
    public void onReadable() {
        if (user != null) {
            user.onUpstreamReadable();
        } else {
            close(); // parked: EOF or unexpected bytes, either way it cannot carry another request
        }
    }

    @Override
    public void onWritable() {
        if (user != null) user.onUpstreamWritable();
    }

    @Override
    public void onConnected() {
        if (user != null) user.onConnected();
    }

    @Override
    public void onConnectFailed(IOException e) {
        if (user != null) user.onConnectFailed(e);
        else close();
    }

    /**
     * Asked by a blocking driver's watchdog from its own thread while the owner keeps arming and clearing the
     * deadline (a proxied body clears it for every piece lent to the client, and arms it when it asks for more). So
     * the field is read once: read twice, an armed deadline could pass the {@code != 0} test and then be read as the
     * 0 the owner had just stored, and {@code now - 0 > 0} holds, so a deadline an hour away "passed", the watchdog
     * closed the socket, and the client's body was cut short (issue #9: mt under CPU load, where the watchdog thread
     * is preempted between the two reads).
     */
    @Override
    public boolean expired(long now) {
        long d = deadline;
        return d != 0 && user != null && now - d > 0;
    }

    @Override
    public void expire() {
        deadline = 0;
        if (user != null) user.onUpstreamTimeout();
        else close();
    }

    /** A blocking driver's watchdog: close the socket so the owner's blocked read or write fails; it answers 504. */
    @Override
    public void interrupt() {
        // Asked again: the owner may have cleared or moved the deadline since the watchdog's question.
        if (!expired(System.nanoTime())) return;
        timedOut = true;
        deadline = 0;
        transport.close();
    }

    @Override
    public void abort() { transport.close(); }

    @Override
    public void drain() { } // an upstream connection ends with the exchange that uses it

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        user = null;
        transport.close();
        if (reg != null) reg.cancel();
    }

    public boolean isClosed() { return closed; }
}
