package flash.dispatch;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * AMPED's helpers: a fixed pool of platform threads that do every operation that may block on the disk.
 * They never see a connection: they get an immutable task and post its result to the owning loop.
 */
public final class HelperPool {
    private final ThreadPoolExecutor pool;
    private final AtomicInteger busy = new AtomicInteger();
    public final LongAdder completed = new LongAdder();
    public final LongAdder failed = new LongAdder();

    public HelperPool(int size) {
        AtomicInteger n = new AtomicInteger();
        this.pool = new ThreadPoolExecutor(size, size, 0, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                r -> Thread.ofPlatform().name("flash-helper-" + n.incrementAndGet()).daemon(true).unstarted(r));
    }

    public void submit(Runnable task) {
        pool.execute(() -> {
            busy.incrementAndGet();
            try {
                task.run();
            } finally {
                busy.decrementAndGet();
                completed.increment();
            }
        });
    }

    public int queueDepth() { return pool.getQueue().size(); }
    public int busy() { return busy.get(); }
    public int size() { return pool.getMaximumPoolSize(); }

    public void stop() { pool.shutdownNow(); }
}
