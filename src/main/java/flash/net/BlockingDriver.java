package flash.net;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Runs handlers with blocking channels on the calling thread: the thread-per-connection architectures (MT, VT,
 * and each MP worker). {@link #serve} gives each client connection a {@link Session}, the per-thread
 * {@link Driver}: it keeps the handlers the connection opened (an upstream, a pipe) and runs whichever
 * operation was asked for last, blocking in it. Blocking work runs inline; the {@link Watchdog} enforces
 * deadlines by interrupting a thread stuck in a read or write.
 */
public final class BlockingDriver {
    private static final Logger LOG = Logger.getLogger(BlockingDriver.class.getName());
    /**
     * Read buffer per thread, small to start: a virtual thread per connection holds its buffer even while idle
     * (blocked in read), so 10,000 idle clients must not cost 10,000 head-sized buffers. Large heads grow it.
     */
    private static final int INITIAL_BUFFER = 4096;

    private final Adopter adopter;
    private final Watchdog watchdog;
    private final LoopStats stats;
    private final Runnable onConnectionClosed;
    private final ThreadFactory spawner;
    private final ThreadLocal<ByteBuffer> buffers = ThreadLocal.withInitial(() -> ByteBuffer.allocate(INITIAL_BUFFER));
    private final Map<Class<?>, Object> locals = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicInteger open = new java.util.concurrent.atomic.AtomicInteger();
    /** A drain has begun: a connection whose thread starts now is drained from its start. */
    private volatile boolean draining;

    /** @param spawner threads for a second direction of an exchange (virtual under vt, platform otherwise) */
    public BlockingDriver(Adopter adopter, Watchdog watchdog, LoopStats stats, Runnable onConnectionClosed,
                          ThreadFactory spawner) {
        this.adopter = adopter;
        this.watchdog = watchdog;
        this.stats = stats;
        this.onConnectionClosed = onConnectionClosed;
        this.spawner = spawner;
    }

    /** After every connection's thread is done: closes shared state that holds resources (the upstream pool). */
    public void closeLocals() { EventLoop.closeLocals(locals.values()); }

    /**
     * Graceful shutdown: every connection being served (the watchdog knows them all) and every one that starts from
     * now on ends after its next response. Set before the watched ones are told, and read after a new one is watched,
     * so none is missed.
     */
    public void drain() {
        draining = true;
        for (IoHandler h : watchdog.handlers()) h.requestDrain();
    }

    /** Client connections being served. */
    public int openConnections() { return open.get(); }

    /** Serves one client connection to its end on this thread. */
    public void serve(SocketChannel ch) {
        open.incrementAndGet();
        Session s = new Session();
        Session.Reg root;
        try {
            ch.configureBlocking(true);
            root = s.add(ch, null, Registration.READ, true);
            root.handler = adopter.adopt(ch, s, root);
        } catch (IOException e) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // nothing to do
            }
            open.decrementAndGet();
            onConnectionClosed.run();
            return;
        }
        watchdog.watch(root.handler);
        if (draining) root.handler.requestDrain();
        s.run(root);
    }

    /** One client connection's thread, and the handlers it has opened. */
    private final class Session implements Driver {
        private final List<Reg> regs = new ArrayList<>(2);
        private final ArrayDeque<Runnable> tasks = new ArrayDeque<>();
        private long stamp;

        private final class Reg implements Registration {
            final boolean client;
            IoHandler handler;
            int ops;
            long since;      // when the interest was last set: the newest wins when several handlers wait
            boolean cancelled;

            Reg(boolean client) { this.client = client; }

            @Override
            public void interest(int ops) {
                if (ops != 0) since = ++stamp; // every ask counts: the newest one is what the handler waits for
                this.ops = ops;
            }

            @Override
            public void cancel() {
                if (cancelled) return;
                cancelled = true;
                regs.remove(this);
                if (handler != null) watchdog.forget(handler);
                if (client) {
                    open.decrementAndGet();
                    onConnectionClosed.run();
                }
            }
        }

        Reg add(SocketChannel ch, IoHandler h, int ops, boolean client) throws IOException {
            ch.configureBlocking(true);
            Reg r = new Reg(client);
            r.handler = h;
            r.interest(ops);
            regs.add(r);
            if (h != null) watchdog.watch(h);
            return r;
        }

        void run(Reg root) {
            try {
                while (!root.cancelled) {
                    Runnable t;
                    while ((t = tasks.poll()) != null) t.run();
                    if (root.cancelled) break;
                    Reg next = next();
                    if (next == null) {
                        if (!tasks.isEmpty()) continue;
                        // Nothing to wait for and nothing queued: a handler forgot to ask for its next step.
                        LOG.warning("connection stalled with nothing to wait for; closing it");
                        root.handler.close();
                        break;
                    }
                    if ((next.ops & Registration.WRITE) != 0) next.handler.onWritable();
                    else next.handler.onReadable();
                }
            } catch (Throwable e) {
                LOG.log(Level.WARNING, "connection failed", e);
            } finally {
                for (Reg r : new ArrayList<>(regs)) r.handler.close();
                if (!root.cancelled) root.cancel();
            }
        }

        /** A write first (it completes), else the read asked for most recently. */
        private Reg next() {
            Reg read = null;
            for (Reg r : regs) {
                if ((r.ops & Registration.WRITE) != 0) return r;
                if ((r.ops & Registration.READ) != 0 && (read == null || r.since > read.since)) read = r;
            }
            return read;
        }

        @Override public boolean blocking() { return true; }

        @Override
        public Registration register(SocketChannel channel, IoHandler handler, int ops) throws IOException {
            return add(channel, handler, ops, false);
        }

        @Override
        public Registration connect(SocketChannel channel, SocketAddress address, IoHandler handler, long timeoutNanos) {
            Reg r = new Reg(false);
            r.handler = handler;
            tasks.add(() -> {
                try {
                    channel.configureBlocking(true);
                    if (address instanceof InetSocketAddress) {
                        channel.socket().connect(address, (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeoutNanos / 1_000_000)));
                    } else {
                        channel.connect(address);
                    }
                } catch (SocketTimeoutException e) {
                    handler.onConnectFailed(e);
                    return;
                } catch (IOException e) {
                    handler.onConnectFailed(e);
                    return;
                }
                regs.add(r);
                watchdog.watch(handler);
                handler.onConnected();
            });
            return r;
        }

        @Override public void execute(Runnable task) { tasks.add(task); }

        @Override public BlockingSeam seam() { return BlockingSeam.INLINE; }

        /** One buffer per thread: a thread serves one connection at a time, so it is never shared. */
        @Override public ByteBuffer acquireBuffer() { return buffers.get().clear(); }

        /** A thread that once read a large head keeps the larger buffer. */
        @Override
        public ByteBuffer grow(ByteBuffer full) {
            ByteBuffer bigger = Driver.super.grow(full);
            buffers.set(bigger);
            return bigger;
        }

        @Override public void releaseBuffer(ByteBuffer buffer) { }

        @Override public LoopStats stats() { return stats; }

        @Override
        @SuppressWarnings("unchecked")
        public <T> T local(Class<T> key, Supplier<T> make) {
            return (T) locals.computeIfAbsent(key, k -> make.get());
        }

        @Override public void spawn(Runnable task) { spawner.newThread(task).start(); }
    }
}
