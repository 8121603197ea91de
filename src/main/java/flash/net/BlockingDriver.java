package flash.net;

import flash.pipeline.ConnectionIo;
import flash.pipeline.DiskSeam;
import flash.pipeline.HttpConnection;
import flash.pipeline.LoopStats;
import flash.pipeline.PipelineContext;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Drives the same {@link HttpConnection} pipeline with a blocking socket on the calling thread: the
 * thread-per-connection architectures (MT, VT, and each MP worker). Disk steps run inline; timeouts are
 * enforced by the {@link Watchdog}, which closes the socket under a thread stuck in read or write.
 */
public final class BlockingDriver implements ConnectionIo {
    private static final Logger LOG = Logger.getLogger(BlockingDriver.class.getName());

    private final PipelineContext ctx;
    private final Watchdog watchdog;
    private final LoopStats stats;
    private final Runnable onConnectionClosed;
    /**
     * Read buffer per thread, small to start: a virtual thread per connection holds its buffer even while idle
     * (blocked in read), so 10,000 idle clients must not cost 10,000 head-sized buffers. Large heads grow it.
     */
    private static final int INITIAL_BUFFER = 4096;
    private final ThreadLocal<ByteBuffer> buffers;

    public BlockingDriver(PipelineContext ctx, Watchdog watchdog, LoopStats stats, Runnable onConnectionClosed) {
        this.ctx = ctx;
        this.watchdog = watchdog;
        this.stats = stats;
        this.onConnectionClosed = onConnectionClosed;
        this.buffers = ThreadLocal.withInitial(() -> ByteBuffer.allocate(INITIAL_BUFFER));
    }

    /** Serves one connection to its end on this thread. */
    public void serve(SocketChannel ch) {
        HttpConnection c;
        try {
            ch.configureBlocking(true);
            c = new HttpConnection(ch, ctx, this, DiskSeam.INLINE);
        } catch (IOException e) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // nothing to do
            }
            onConnectionClosed.run();
            return;
        }
        watchdog.watch(c);
        try {
            while (!c.finished()) {
                if (c.wantsWrite()) c.onWritable();
                else c.onReadable();
            }
        } catch (Throwable e) {
            LOG.log(Level.WARNING, "connection failed", e);
            c.close();
        } finally {
            watchdog.forget(c);
        }
    }

    /** One buffer per thread: a thread serves one connection at a time, so it is never shared. */
    @Override
    public ByteBuffer acquireBuffer() { return buffers.get().clear(); }

    /** A thread that once read a large head keeps the larger buffer. */
    @Override
    public ByteBuffer grow(ByteBuffer full) {
        ByteBuffer bigger = ConnectionIo.super.grow(full);
        buffers.set(bigger);
        return bigger;
    }

    @Override
    public void releaseBuffer(ByteBuffer buffer) { }

    @Override
    public void interest(HttpConnection c, boolean read, boolean write) { }

    @Override
    public void closed(HttpConnection c) { onConnectionClosed.run(); }

    @Override
    public LoopStats stats() { return stats; }
}
