package flash.log;

import flash.http.Request;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * The rate limit of a kind of error-log line (a 5xx's cause, a response the server cut): at most one line per
 * interval, and the next line says how many were left out since the previous one. Safe for any number of threads:
 * of those that find the interval over, exactly one wins the line.
 */
public final class LogThrottle {
    /** The longest request target a line shows whole; longer ones are cut and end with "...". */
    private static final int MAX_TARGET = 256;

    private final long intervalNanos;
    private final LongSupplier clock;
    /** When the next line may be written. */
    private final AtomicLong next;
    /** Lines not written since the last one. */
    private final AtomicLong suppressed = new AtomicLong();

    public LogThrottle(long intervalNanos, LongSupplier clock) {
        this.intervalNanos = intervalNanos;
        this.clock = clock;
        this.next = new AtomicLong(clock.getAsLong());
    }

    /** -1 when this line is not to be written (it is counted); else how many were left out since the last one. */
    public long admit() {
        long now = clock.getAsLong();
        long due = next.get();
        if (now - due < 0 || !next.compareAndSet(due, now + intervalNanos)) {
            suppressed.incrementAndGet();
            return -1;
        }
        return suppressed.getAndSet(0);
    }

    /** How a line names a request: its method and target (cut at 256 characters), or "(no request)" for null. */
    public static String request(Request r) {
        if (r == null) return "(no request)";
        String target = r.target();
        if (target.length() > MAX_TARGET) target = target.substring(0, MAX_TARGET) + "...";
        return r.methodToken() + ' ' + target;
    }
}
