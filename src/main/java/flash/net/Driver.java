package flash.net;

import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.function.Supplier;

/**
 * What an architecture gives the handlers it runs. An {@link EventLoop} (amped, sped) multiplexes non-blocking
 * channels with a Selector; a {@link BlockingDriver} (mt, vt, and each mp worker) runs one client connection and
 * the channels it opens on one thread with blocking I/O, doing whichever operation was asked for last.
 */
public interface Driver {
    /** Whether channels on this driver block (the handler's code is the same; only its callers differ). */
    boolean blocking();

    /** Runs {@code handler} for {@code channel}, waiting for {@code ops} first. Configures the channel's blocking mode. */
    Registration register(SocketChannel channel, IoHandler handler, int ops) throws java.io.IOException;

    /**
     * Connects {@code channel} (not yet connected) to {@code address}; {@code handler} then gets
     * {@link IoHandler#onConnected} or {@link IoHandler#onConnectFailed} on this driver's thread. Timeouts are the
     * handler's: its deadline covers the connect.
     */
    Registration connect(SocketChannel channel, SocketAddress address, IoHandler handler, long timeoutNanos);

    /** Runs {@code task} later on this driver's thread. */
    void execute(Runnable task);

    /** Where work that may block runs for handlers on this driver. */
    BlockingSeam seam();

    /** A read buffer of at least the head limit; event loops pool them so idle connections hold none. */
    ByteBuffer acquireBuffer();

    void releaseBuffer(ByteBuffer buffer);

    /** A full read buffer holding part of a large head: a bigger one with the same contents (write mode). */
    default ByteBuffer grow(ByteBuffer full) {
        ByteBuffer bigger = ByteBuffer.allocate(full.capacity() * 2);
        full.flip();
        bigger.put(full);
        releaseBuffer(full);
        return bigger;
    }

    /** The counters of the connections on this driver. */
    LoopStats stats();

    /**
     * State shared by the handlers of this driver, made on first use: per event loop (so it needs no lock, like the
     * upstream connection pool), and one for all blocking drivers of a server (so it must be thread-safe).
     */
    <T> T local(Class<T> key, Supplier<T> make);

    /** Blocking drivers: runs {@code task} on a thread of its own (a tunnel needs both directions at once). */
    default void spawn(Runnable task) { throw new UnsupportedOperationException("an event loop runs no threads"); }
}
