package flash.dispatch;

import flash.config.Architecture;
import flash.net.Adopter;
import flash.net.BlockingDriver;
import flash.net.IoHandler;
import flash.net.LoopStats;
import flash.net.Watchdog;
import flash.pipeline.PipelineContext;

import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * MT (the paper's Flash-MT: a fixed pool of platform threads; a connection is accepted when a thread is
 * free) and VT (one virtual thread per connection). Both run the pipeline with blocking I/O.
 */
public final class ThreadPerConnection implements Dispatcher {
    private final ExecutorService executor;
    private final BlockingDriver driver;
    private final Watchdog watchdog = new Watchdog("flash-watchdog");
    private final LoopStats stats;
    private final Runnable onConnectionClosed;
    private final int capacity;

    public ThreadPerConnection(PipelineContext ctx, Architecture arch, Adopter adopter, Runnable onConnectionClosed) {
        this.stats = new LoopStats(arch.cliName());
        this.onConnectionClosed = onConnectionClosed;
        // A second thread per exchange (a tunnel's other direction) is of the same kind as the first.
        java.util.concurrent.ThreadFactory spawner = arch == Architecture.VT
                ? Thread.ofVirtual().name("flash-vt-pump-", 0).factory()
                : Thread.ofPlatform().name("flash-mt-pump-", 0).factory();
        this.driver = new BlockingDriver(adopter, watchdog, stats, onConnectionClosed, spawner);
        if (arch == Architecture.VT) {
            this.executor = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("flash-vt-", 0).factory());
            this.capacity = Integer.MAX_VALUE;
        } else {
            int n = Math.max(1, ctx.config().threads());
            this.capacity = n;
            AtomicInteger id = new AtomicInteger();
            this.executor = new ThreadPoolExecutor(n, n, 0, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                    r -> Thread.ofPlatform().name("flash-mt-" + id.incrementAndGet()).unstarted(r));
        }
    }

    @Override public void start() { watchdog.start(); }

    /**
     * MT: as many connections as threads, like Apache's worker MPM, whose listener accepts only when a worker is
     * idle. Queueing accepted connections behind busy threads instead would hold a descriptor for each (a flood
     * of connections could exhaust them), and in an MP worker (one thread) it would keep a connection waiting
     * behind a slow client while other workers sit idle.
     */
    @Override public int capacity() { return capacity; }

    /**
     * mt: a keep-alive client idle between requests holds a thread, so a pool of idle clients would keep every new
     * connection in the backlog until one of them times out (60 s by default). The one idle longest goes instead,
     * as nginx closes idle keep-alive connections when it runs out of connections. Only its deadline moves here;
     * the watchdog, woken, interrupts it, and its own thread closes it and frees the place.
     */
    @Override
    public IoHandler shedIdle() {
        for (int attempt = 0; attempt < 3; attempt++) { // a request may arrive on the one picked: pick again
            IoHandler oldest = null;
            long oldestDeadline = 0;
            for (IoHandler h : watchdog.handlers()) {
                long d = h.idleDeadline();
                if (d != Long.MAX_VALUE && (oldest == null || d - oldestDeadline < 0)) {
                    oldest = h;
                    oldestDeadline = d;
                }
            }
            if (oldest == null) return null;
            if (oldest.shedIfIdle(oldestDeadline)) {
                stats.idleSheds.increment();
                watchdog.nudge();
                return oldest;
            }
        }
        return null;
    }

    @Override
    public void adopt(SocketChannel ch) {
        try {
            executor.execute(() -> driver.serve(ch));
        } catch (RejectedExecutionException e) {
            // Accepted just as drain() shut the executor down: refuse it like any connection during shutdown.
            try {
                ch.close();
            } catch (java.io.IOException ignored) {
                // nothing to do
            }
            onConnectionClosed.run();
        }
    }

    @Override
    public void drain() {
        driver.drain();
        executor.shutdown();
    }

    @Override public int openConnections() { return driver.openConnections(); }

    @Override
    public void stop() {
        for (IoHandler h : watchdog.handlers()) h.abort();
        executor.shutdownNow();
        watchdog.stop();
        driver.closeLocals();
    }

    @Override public List<LoopStats> stats() { return List.of(stats); }
}
