package flash.pipeline;

import flash.net.BlockingSeam;
import flash.net.Driver;
import flash.net.IoHandler;
import flash.net.LoopStats;
import flash.net.Registration;

import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * A {@link Driver} with an event loop's (non-blocking) semantics that does nothing by itself: the test plays the
 * loop. It records the interest each {@link Reg} asked for last, queues {@link #execute} tasks until
 * {@link #runTasks}, runs blocking work through {@link BlockingSeam#INLINE} or through a {@link DeferredSeam}
 * whose completions the test releases by hand, hands out fresh heap buffers (and tracks which are still out), and
 * keeps a {@link LoopStats}.
 */
public final class FakeDriver implements Driver {
    private final ArrayDeque<Runnable> tasks = new ArrayDeque<>();
    private final LoopStats stats = new LoopStats("fake");
    private final Map<Class<?>, Object> locals = new HashMap<>();
    private final Set<ByteBuffer> buffersOut = Collections.newSetFromMap(new IdentityHashMap<>());
    private final BlockingSeam seam;
    private final int bufferSize;
    public int buffersAcquired;
    public int buffersReleased;

    /** An inline seam and buffers of {@code bufferSize} bytes. */
    public FakeDriver(int bufferSize) { this(bufferSize, BlockingSeam.INLINE); }

    public FakeDriver(int bufferSize, BlockingSeam seam) {
        this.bufferSize = bufferSize;
        this.seam = seam;
    }

    /** A registration as an event loop's adopt() makes it: waiting for READ. */
    public Reg registration() { return new Reg(Registration.READ); }

    /** What the test sees of a handler's place on the loop. */
    public static final class Reg implements Registration {
        private int ops;
        public final List<Integer> history = new ArrayList<>();
        public int cancels;

        Reg(int ops) { this.ops = ops; }

        @Override
        public void interest(int ops) {
            this.ops = ops;
            history.add(ops);
        }

        @Override public void cancel() { cancels++; }

        public int ops() { return ops; }
        public boolean reading() { return (ops & READ) != 0; }
        public boolean writing() { return (ops & WRITE) != 0; }
        public boolean cancelled() { return cancels > 0; }
    }

    // ------------------------------------------------------------------ test controls

    /** Runs queued tasks (and the ones they queue) until none is left; returns how many ran. */
    public int runTasks() {
        int n = 0;
        Runnable t;
        while ((t = tasks.poll()) != null) {
            t.run();
            n++;
        }
        return n;
    }

    public int pendingTasks() { return tasks.size(); }

    /** Buffers handed out and not given back. */
    public int buffersHeld() { return buffersOut.size(); }

    // ------------------------------------------------------------------ Driver

    @Override public boolean blocking() { return false; }

    @Override
    public Registration register(SocketChannel channel, IoHandler handler, int ops) {
        return new Reg(ops);
    }

    /** Connects nothing: the connect stays pending, as on a loop that never runs, unless the test plays it out. */
    @Override
    public Registration connect(SocketChannel channel, SocketAddress address, IoHandler handler, long timeoutNanos) {
        return new Reg(java.nio.channels.SelectionKey.OP_CONNECT);
    }

    @Override public void execute(Runnable task) { tasks.add(task); }

    @Override public BlockingSeam seam() { return seam; }

    @Override
    public ByteBuffer acquireBuffer() {
        ByteBuffer b = ByteBuffer.allocate(bufferSize);
        buffersAcquired++;
        buffersOut.add(b);
        return b;
    }

    @Override
    public void releaseBuffer(ByteBuffer buffer) {
        buffersReleased++;
        if (!buffersOut.remove(buffer)) throw new AssertionError("released a buffer this driver did not hand out (or twice)");
    }

    @Override
    public ByteBuffer grow(ByteBuffer full) {
        ByteBuffer bigger = Driver.super.grow(full); // releases the full one
        buffersAcquired++;
        buffersOut.add(bigger);
        return bigger;
    }

    @Override public LoopStats stats() { return stats; }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T local(Class<T> key, Supplier<T> make) {
        return (T) locals.computeIfAbsent(key, k -> make.get());
    }

    // ------------------------------------------------------------------ seam

    /**
     * A seam that holds each task and its continuation until the test releases it: AMPED's helper handoff with the
     * test as the helper thread and the loop (both run on the test's thread, one after the other).
     */
    public static final class DeferredSeam implements BlockingSeam {
        private final ArrayDeque<Runnable> pending = new ArrayDeque<>();

        @Override
        public <T> void run(Task<T> task, Consumer<Outcome<T>> then) {
            pending.add(() -> BlockingSeam.INLINE.run(task, then));
        }

        public int pending() { return pending.size(); }

        /** Runs the oldest task and delivers its outcome; false if none was waiting. */
        public boolean releaseNext() {
            Runnable r = pending.poll();
            if (r == null) return false;
            r.run();
            return true;
        }

        public void releaseAll() {
            while (releaseNext()) { }
        }
    }
}
