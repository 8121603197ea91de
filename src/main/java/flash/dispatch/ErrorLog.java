package flash.dispatch;

import flash.pipeline.Completion;
import flash.pipeline.ErrorCause;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.logging.Logger;

/**
 * The error log's side of a 5xx that Flash generated because something failed: one WARNING line through
 * java.util.logging (stderr, like every other problem the server reports), naming the cause, the request and what
 * failed. Rate-limited per cause: at most one line per cause per second, and the next line says how many were left
 * out since the previous one; {@code flash_errors_total} counts every one. It hangs at the pipeline's completion
 * point beside the metrics, so a 5xx is logged once however it ended.
 */
final class ErrorLog implements Completion.Listener {
    private static final Logger LOG = Logger.getLogger(ErrorLog.class.getName());
    private static final int MAX_TARGET = 256;

    private final long intervalNanos;
    private final LongSupplier clock;
    private final Consumer<String> sink;
    /** Per cause: when its next line may be written. */
    private final AtomicLong[] next = new AtomicLong[ErrorCause.values().length];
    /** Per cause: failures not logged since its last line. */
    private final AtomicLong[] suppressed = new AtomicLong[ErrorCause.values().length];

    ErrorLog() {
        this(TimeUnit.SECONDS.toNanos(1), System::nanoTime, LOG::warning);
    }

    ErrorLog(long intervalNanos, LongSupplier clock, Consumer<String> sink) {
        this.intervalNanos = intervalNanos;
        this.clock = clock;
        this.sink = sink;
        long now = clock.getAsLong();
        for (int i = 0; i < next.length; i++) {
            next[i] = new AtomicLong(now);
            suppressed[i] = new AtomicLong();
        }
    }

    @Override
    public void completed(Completion c) {
        ErrorCause cause = c.cause();
        if (cause == null || !cause.logged()) return;
        int i = cause.ordinal();
        long now = clock.getAsLong();
        long due = next[i].get();
        if (now - due < 0 || !next[i].compareAndSet(due, now + intervalNanos)) {
            suppressed[i].incrementAndGet();
            return;
        }
        sink.accept(line(c, suppressed[i].getAndSet(0)));
    }

    static String line(Completion c, long suppressed) {
        StringBuilder sb = new StringBuilder(256);
        sb.append(c.status()).append(' ').append(c.cause().label()).append(": ");
        if (c.request() != null) {
            String target = c.request().target();
            if (target.length() > MAX_TARGET) target = target.substring(0, MAX_TARGET) + "...";
            sb.append(c.request().methodToken()).append(' ').append(target);
        } else {
            sb.append("(no request)");
        }
        sb.append(" from ").append(c.remote() == null ? "-" : c.remote()).append(": ")
                .append(c.errorDetail() == null ? "no detail recorded" : c.errorDetail());
        if (c.aborted()) sb.append(" (the error response did not reach the client whole)");
        if (suppressed > 0) sb.append(" [").append(suppressed).append(" more of this cause since its last line]");
        return sb.toString();
    }
}
