package flash.net;

import flash.content.DiskGuard;
import flash.pipeline.ConnectionIo;
import flash.pipeline.DiskSeam;
import flash.pipeline.HttpConnection;
import flash.pipeline.LoopStats;
import flash.pipeline.PipelineContext;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One event loop: a thread with its own Selector that owns its connections for their whole life (no locks on
 * them). Other threads talk to it only through {@link #execute}: a task queue plus a Selector wakeup, which is
 * how helper completions arrive "as just another event". Timeouts are checked by a scan every tick.
 */
public final class EventLoop implements ConnectionIo, Executor {
    private static final Logger LOG = Logger.getLogger(EventLoop.class.getName());
    private static final long TICK_MS = 250;
    /** Idle pool size per loop: enough for bursts, small enough not to pin memory. */
    private static final int POOL_MAX = 256;

    private final String name;
    private final Selector selector;
    private final PipelineContext ctx;
    private final DiskSeam seam;
    private final boolean forbidBlocking;
    private final LoopStats stats;
    private final Runnable onConnectionClosed;
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean wakeupPending = new AtomicBoolean();
    private final Set<HttpConnection> connections = new HashSet<>();
    private final ArrayDeque<ByteBuffer> bufferPool = new ArrayDeque<>();
    private final int bufferSize;
    private final Thread thread;
    private volatile boolean stopping;

    /**
     * @param seamFactory builds the loop's disk seam from the loop itself (AMPED's helpers complete onto it)
     */
    public EventLoop(String name, PipelineContext ctx, Function<EventLoop, DiskSeam> seamFactory, boolean forbidBlocking,
                     Runnable onConnectionClosed) throws IOException {
        this.name = name;
        this.selector = Selector.open();
        this.ctx = ctx;
        this.forbidBlocking = forbidBlocking;
        this.stats = new LoopStats(name);
        this.onConnectionClosed = onConnectionClosed;
        this.bufferSize = Integer.highestOneBit(ctx.config().limits().maxHeadBytes() - 1) << 1;
        this.seam = seamFactory.apply(this);
        this.thread = Thread.ofPlatform().name(name).unstarted(this::run);
    }

    public void start() { thread.start(); }

    public LoopStats stats() { return stats; }

    public boolean inLoop() { return Thread.currentThread() == thread; }

    /** Hands a freshly accepted connection to this loop. */
    public void adopt(SocketChannel ch) {
        execute(() -> {
            try {
                ch.configureBlocking(false);
                HttpConnection c = new HttpConnection(ch, ctx, this, seam);
                connections.add(c);
                SelectionKey key = ch.register(selector, SelectionKey.OP_READ, c);
                c.ioKey = key;
                if (stopping) c.drain();
            } catch (IOException e) {
                closeQuietly(ch);
                onConnectionClosed.run();
            }
        });
    }

    @Override
    public void execute(Runnable task) {
        tasks.add(task);
        if (!inLoop() && wakeupPending.compareAndSet(false, true)) selector.wakeup();
    }

    /** Stops accepting new work: idle connections close now, busy ones after their current response. */
    public void drain() {
        execute(() -> {
            stopping = true;
            for (HttpConnection c : new ArrayList<>(connections)) c.drain();
        });
    }

    /** Closes everything and ends the loop thread. */
    public void stop() {
        execute(() -> {
            for (HttpConnection c : new ArrayList<>(connections)) c.close();
            stopping = true;
            Thread.currentThread().interrupt();
        });
    }

    public int connectionCount() { return connections.size(); }

    public void join(long millis) throws InterruptedException { thread.join(millis); }

    private void run() {
        if (forbidBlocking) DiskGuard.forbidBlockingOnThisThread();
        long nextTick = System.nanoTime() + TICK_MS * 1_000_000;
        while (!Thread.currentThread().isInterrupted()) {
            try {
                selector.select(TICK_MS);
                wakeupPending.set(false);
                Set<SelectionKey> keys = selector.selectedKeys();
                for (SelectionKey key : keys) {
                    HttpConnection c = (HttpConnection) key.attachment();
                    dispatch(key, c);
                }
                keys.clear();
                Runnable t;
                while ((t = tasks.poll()) != null) runTask(t);
                long now = System.nanoTime();
                if (now - nextTick >= 0) {
                    nextTick = now + TICK_MS * 1_000_000;
                    expireTimedOut(now);
                }
            } catch (DiskGuard.BlockingOnLoopError e) {
                throw e;
            } catch (Throwable e) {
                LOG.log(Level.SEVERE, name + ": unexpected error in event loop", e);
            }
        }
        try {
            selector.close();
        } catch (IOException ignored) {
            // the loop is over
        }
    }

    private void dispatch(SelectionKey key, HttpConnection c) {
        try {
            if (!key.isValid()) return;
            int ready = key.readyOps();
            if ((ready & SelectionKey.OP_WRITE) != 0) c.onWritable();
            if ((ready & SelectionKey.OP_READ) != 0 && key.isValid()) c.onReadable();
        } catch (DiskGuard.BlockingOnLoopError e) {
            LOG.log(Level.SEVERE, e.getMessage(), e);
            c.close();
            throw e;
        } catch (Throwable e) {
            // One connection's failure (a bug, an InternalError from a vanished mapping) must not take the loop down.
            LOG.log(Level.WARNING, name + ": connection failed", e);
            c.close();
        }
    }

    private void runTask(Runnable t) {
        try {
            t.run();
        } catch (DiskGuard.BlockingOnLoopError e) {
            LOG.log(Level.SEVERE, e.getMessage(), e);
            throw e;
        } catch (Throwable e) {
            LOG.log(Level.WARNING, name + ": task failed", e);
        }
    }

    private void expireTimedOut(long now) {
        if (connections.isEmpty()) return;
        for (HttpConnection c : new ArrayList<>(connections)) {
            if (c.phase() != HttpConnection.Phase.BUSY && now - c.deadline() > 0) c.expire();
        }
    }

    // ------------------------------------------------------------------ ConnectionIo

    @Override
    public ByteBuffer acquireBuffer() {
        ByteBuffer b = bufferPool.pollFirst();
        return b != null ? b.clear() : ByteBuffer.allocateDirect(bufferSize);
    }

    @Override
    public void releaseBuffer(ByteBuffer buffer) {
        if (bufferPool.size() < POOL_MAX) bufferPool.addFirst(buffer);
    }

    @Override
    public void interest(HttpConnection c, boolean read, boolean write) {
        SelectionKey key = (SelectionKey) c.ioKey;
        if (key == null || !key.isValid()) return;
        int ops = (read ? SelectionKey.OP_READ : 0) | (write ? SelectionKey.OP_WRITE : 0);
        if (key.interestOps() != ops) key.interestOps(ops);
    }

    @Override
    public void closed(HttpConnection c) {
        if (connections.remove(c)) onConnectionClosed.run();
    }

    private static void closeQuietly(SocketChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // already gone
        }
    }
}
