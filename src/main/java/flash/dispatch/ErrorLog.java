package flash.dispatch;

import flash.log.LogThrottle;
import flash.pipeline.Completion;
import flash.pipeline.ErrorCause;

import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.logging.Logger;

/**
 * The error log's side of a 5xx that Flash generated because something failed: one WARNING line through
 * java.util.logging (stderr, like every other problem the server reports), naming the cause, the request and what
 * failed. Rate-limited per cause ({@link LogThrottle}): at most one line per cause per second, and the next line says
 * how many were left out since the previous one; {@code flash_errors_total} counts every one. It hangs at the
 * pipeline's completion point beside the metrics, so a 5xx is logged once however it ended.
 */
final class ErrorLog implements Completion.Listener {
    private static final Logger LOG = Logger.getLogger(ErrorLog.class.getName());

    private final Consumer<String> sink;
    /** Per cause, its own limit. */
    private final LogThrottle[] throttles = new LogThrottle[ErrorCause.values().length];

    ErrorLog() {
        this(TimeUnit.SECONDS.toNanos(1), System::nanoTime, LOG::warning);
    }

    ErrorLog(long intervalNanos, LongSupplier clock, Consumer<String> sink) {
        this.sink = sink;
        for (int i = 0; i < throttles.length; i++) throttles[i] = new LogThrottle(intervalNanos, clock);
    }

    @Override
    public void completed(Completion c) {
        ErrorCause cause = c.cause();
        if (cause == null || !cause.logged()) return;
        long suppressed = throttles[cause.ordinal()].admit();
        if (suppressed >= 0) sink.accept(line(c, suppressed));
    }

    static String line(Completion c, long suppressed) {
        StringBuilder sb = new StringBuilder(256);
        sb.append(c.status()).append(' ').append(c.cause().label()).append(": ");
        sb.append(LogThrottle.request(c.request())).append(" from ").append(c.remote() == null ? "-" : c.remote())
                .append(": ").append(c.errorDetail() == null ? "no detail recorded" : c.errorDetail());
        if (c.aborted()) sb.append(" (the error response did not reach the client whole)");
        if (suppressed > 0) sb.append(" [").append(suppressed).append(" more of this cause since its last line]");
        return sb.toString();
    }
}
