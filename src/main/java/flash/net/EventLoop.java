package flash.net;

import flash.sys.DiskGuard;

import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One event loop: a thread with its own Selector that owns its handlers for their whole life (no locks on
 * them). Other threads talk to it only through {@link #execute}: a task queue plus a Selector wakeup, which is
 * how helper completions arrive "as just another event". Deadlines are checked by a scan every tick.
 */
public final class EventLoop implements Driver, Executor {
    private static final Logger LOG = Logger.getLogger(EventLoop.class.getName());
    private static final long TICK_MS = 250;
    /** Idle pool size per loop: enough for bursts, small enough not to pin memory. */
    private static final int POOL_MAX = 256;

    private final String name;
    private final Selector selector;
    private final BlockingSeam seam;
    private final boolean forbidBlocking;
    private final LoopStats stats;
    private final Adopter accepted;
    private final Runnable onConnectionClosed;
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean wakeupPending = new AtomicBoolean();
    /**
     * Client connections (counted against the server's limit) and every other handler (upstreams, pipes) are the
     * Selector's own key set, told apart by {@link Key#client}: a set of our own beside it cost every idle connection
     * a HashMap node (about 40 bytes with its table slot) for nothing (docs/performance.md, "Footprint").
     */
    private int clients;     // written on the loop only
    private volatile int clientCount; // the same, for other threads
    private boolean othersOpen; // a non-client handler was registered: the tick also checks them
    private final ArrayDeque<ByteBuffer> bufferPool = new ArrayDeque<>();
    private final Map<Class<?>, Object> locals = new HashMap<>();
    private final int bufferSize;
    private final Thread thread;
    private volatile boolean stopping;

    /**
     * @param accepted    builds the handler of a client connection this loop adopts
     * @param seamFactory builds the loop's seam from the loop itself (AMPED's helpers complete onto it)
     */
    public EventLoop(String name, int bufferSize, Adopter accepted,
                     Function<EventLoop, BlockingSeam> seamFactory, boolean forbidBlocking, Runnable onConnectionClosed)
            throws IOException {
        this.name = name;
        this.selector = Selector.open();
        this.forbidBlocking = forbidBlocking;
        this.stats = new LoopStats(name);
        this.accepted = accepted;
        this.onConnectionClosed = onConnectionClosed;
        this.bufferSize = bufferSize;
        this.seam = seamFactory.apply(this);
        this.thread = flash.sys.LoopClock.newLoopThread(name, this::run);
    }

    public void start() { thread.start(); }

    @Override public LoopStats stats() { return stats; }

    @Override public boolean blocking() { return false; }

    @Override public BlockingSeam seam() { return seam; }

    public boolean inLoop() { return Thread.currentThread() == thread; }

    /** Hands a freshly accepted connection to this loop. */
    public void adopt(SocketChannel ch) {
        execute(() -> {
            try {
                ch.configureBlocking(false);
                Key k = new Key(true);
                k.key = ch.register(selector, SelectionKey.OP_READ, k);
                k.handler = accepted.adopt(ch, this, k);
                k.counted = true;
                clientCount = ++clients;
                if (stopping) k.handler.drain();
            } catch (IOException e) {
                closeQuietly(ch);
                onConnectionClosed.run();
            }
        });
    }

    @Override
    public Registration register(SocketChannel channel, IoHandler handler, int ops) throws IOException {
        channel.configureBlocking(false);
        Key k = new Key(false);
        k.handler = handler;
        k.key = channel.register(selector, ops, k);
        othersOpen = true;
        return k;
    }

    @Override
    public Registration connect(SocketChannel channel, SocketAddress address, IoHandler handler, long timeoutNanos) {
        Key k = new Key(false);
        k.handler = handler;
        try {
            channel.configureBlocking(false);
            boolean done = channel.connect(address); // a Unix socket, or loopback, may connect at once
            k.key = channel.register(selector, done ? 0 : SelectionKey.OP_CONNECT, k);
            othersOpen = true;
            if (done) execute(handler::onConnected);
        } catch (IOException e) {
            execute(() -> handler.onConnectFailed(e));
        }
        return k;
    }

    @Override
    public void execute(Runnable task) {
        tasks.add(task);
        if (!inLoop() && wakeupPending.compareAndSet(false, true)) selector.wakeup();
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T local(Class<T> key, Supplier<T> make) {
        Object v = locals.get(key); // per request on the proxy's path: the plain lookup first
        return (T) (v != null ? v : locals.computeIfAbsent(key, k -> make.get()));
    }

    /** Stops accepting new work: idle connections close now, busy ones after their current response. */
    public void drain() {
        execute(() -> {
            stopping = true;
            for (Key k : handlers(true)) k.handler.drain();
        });
    }

    /** Closes everything and ends the loop thread. */
    public void stop() {
        execute(() -> {
            for (Key k : handlers(true)) k.handler.close();
            for (Key k : handlers(false)) k.handler.close();
            closeLocals(locals.values());
            stopping = true;
            Thread.currentThread().interrupt();
        });
    }

    public int connectionCount() { return clientCount; }

    /** The registered handlers of one kind (clients, or the others), copied: a handler may cancel as it is called. */
    private java.util.List<Key> handlers(boolean client) {
        java.util.List<Key> list = new ArrayList<>();
        for (SelectionKey sk : selector.keys()) {
            if (sk.isValid() && sk.attachment() instanceof Key k && k.client == client && k.handler != null) list.add(k);
        }
        return list;
    }

    public void join(long millis) throws InterruptedException { thread.join(millis); }

    private void run() {
        if (forbidBlocking) DiskGuard.forbidBlockingOnThisThread();
        long nextTick = System.nanoTime() + TICK_MS * 1_000_000;
        // One bound reference for the loop's life: "this::dispatch" in the call made a new object per select.
        java.util.function.Consumer<SelectionKey> dispatcher = this::dispatch;
        while (!Thread.currentThread().isInterrupted()) {
            try {
                flash.sys.LoopClock.turn(); // what this turn serves reads the clock once, after the wait
                // The action form dispatches each key as epoll reports it: in readiness order (a request that
                // came first is answered first) and without the selected-key HashSet's add, iterate and clear.
                selector.select(dispatcher, TICK_MS);
                wakeupPending.set(false);
                Runnable t;
                while ((t = tasks.poll()) != null) runTask(t);
                long now = System.nanoTime();
                if (now - nextTick >= 0) {
                    nextTick = now + TICK_MS * 1_000_000;
                    expire(now);
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

    private void dispatch(SelectionKey key) {
        IoHandler h = ((Key) key.attachment()).handler;
        try {
            if (!key.isValid()) return;
            int ready = key.readyOps();
            if ((ready & SelectionKey.OP_CONNECT) != 0) {
                finishConnect(key, h);
                return;
            }
            if ((ready & SelectionKey.OP_WRITE) != 0) h.onWritable();
            if ((ready & SelectionKey.OP_READ) != 0 && key.isValid()) h.onReadable();
        } catch (DiskGuard.BlockingOnLoopError e) {
            LOG.log(Level.SEVERE, e.getMessage(), e);
            h.close();
            throw e;
        } catch (Throwable e) {
            // One handler's failure (a bug, an InternalError from a vanished mapping) must not take the loop down.
            LOG.log(Level.WARNING, name + ": connection failed", e);
            h.close();
        }
    }

    private static void finishConnect(SelectionKey key, IoHandler h) {
        try {
            ((SocketChannel) key.channel()).finishConnect();
        } catch (IOException e) {
            // A failed finishConnect closes the channel, which cancels its key: the handler must hear of it anyway.
            if (key.isValid()) key.interestOps(0);
            h.onConnectFailed(e);
            return;
        }
        key.interestOps(0);
        h.onConnected();
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

    /**
     * The timer: every handler whose deadline passed. The Selector's key set is a concurrent set, so it is walked
     * without a copy (a key cancelled as a handler expires is simply gone, or seen once more and skipped).
     */
    private void expire(long now) {
        if (clients == 0 && !othersOpen) return;
        for (SelectionKey sk : selector.keys()) {
            if (!sk.isValid() || !(sk.attachment() instanceof Key k) || k.handler == null) continue;
            if (k.handler.expired(now)) k.handler.expire();
        }
    }

    // ------------------------------------------------------------------ buffers

    @Override
    public ByteBuffer acquireBuffer() {
        LoopStats.add(stats.readBuffersHeld, 1);
        ByteBuffer b = bufferPool.pollFirst();
        return b != null ? b.clear() : ByteBuffer.allocateDirect(bufferSize);
    }

    @Override
    public ByteBuffer grow(ByteBuffer full) {
        ByteBuffer bigger = Driver.super.grow(full); // releases full
        LoopStats.add(stats.readBuffersHeld, 1);
        return bigger;
    }

    @Override
    public void releaseBuffer(ByteBuffer buffer) {
        LoopStats.add(stats.readBuffersHeld, -1);
        if (buffer.capacity() == bufferSize && bufferPool.size() < POOL_MAX) bufferPool.addFirst(buffer);
    }

    /** A handler's registration: its SelectionKey, and whether it is a client connection. */
    private final class Key implements Registration {
        final boolean client;
        boolean counted; // a client connection counted in `clients`, until its cancel
        IoHandler handler;
        SelectionKey key;

        Key(boolean client) { this.client = client; }

        @Override
        public void interest(int ops) {
            if (key == null || !key.isValid()) return;
            if (key.interestOps() != ops) key.interestOps(ops);
        }

        @Override
        public void cancel() {
            if (key != null) key.cancel();
            if (counted) {
                counted = false;
                clientCount = --clients;
                onConnectionClosed.run();
            }
        }
    }

    /** Shared state that holds resources (an upstream pool) is closed with its driver. */
    static void closeLocals(Iterable<Object> locals) {
        for (Object o : locals) {
            if (o instanceof AutoCloseable c) {
                try {
                    c.close();
                } catch (Exception e) {
                    LOG.log(Level.FINE, "closing " + o, e);
                }
            }
        }
    }

    private static void closeQuietly(SocketChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // already gone
        }
    }
}
