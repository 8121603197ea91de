package flash.pipeline;

import flash.http.Request;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.logging.Logger;

/**
 * The error log's line for a response that the server itself had to cut: sending it failed on the server's side
 * (the file shrank under sendfile or a mapping, or a defect threw), so the connection was closed, maybe before any
 * byte left. Such a response is no 5xx ({@link ErrorCause} covers those), and the access log shows only a short or
 * empty body, so without this line the cause was lost. A client that went away is not the server's failure and is
 * not logged: that is an {@link java.io.IOException} from the socket, which {@link #serverSide} tells apart.
 * Rate-limited as the 5xx lines are: at most one line a second, the next saying how many were left out.
 */
final class CutResponseLog {
    private static final Logger LOG = Logger.getLogger("flash.response");

    private final long intervalNanos;
    private final LongSupplier clock;
    private final Consumer<String> sink;
    private final AtomicLong next;
    private final AtomicLong suppressed = new AtomicLong();

    CutResponseLog() { this(TimeUnit.SECONDS.toNanos(1), System::nanoTime, LOG::warning); }

    CutResponseLog(long intervalNanos, LongSupplier clock, Consumer<String> sink) {
        this.intervalNanos = intervalNanos;
        this.clock = clock;
        this.sink = sink;
        this.next = new AtomicLong(clock.getAsLong());
    }

    /** Whether sending failed on the server's side, rather than because the client went away. */
    static boolean serverSide(Throwable t) {
        return !(t instanceof java.io.IOException) || t instanceof Outgoing.TruncatedFileException;
    }

    /**
     * Logs (rate-limited) that the response to {@code request} (null before one was parsed) was cut by {@code t},
     * after {@code sent} bytes had left (0: the client saw the connection close without a response).
     */
    void cut(Throwable t, Request request, Object remote, long sent) {
        long now = clock.getAsLong();
        long due = next.get();
        if (now - due < 0 || !next.compareAndSet(due, now + intervalNanos)) {
            suppressed.incrementAndGet();
            return;
        }
        StringBuilder sb = new StringBuilder(256).append("response cut by a failure on the server's side, ");
        sb.append(sent == 0 ? "before any byte left" : "after " + sent + " bytes").append(": ");
        if (request != null) sb.append(request.methodToken()).append(' ').append(abbreviate(request.target()));
        else sb.append("(no request)");
        sb.append(" from ").append(remote == null ? "-" : remote).append(": ").append(ErrorCause.describe(t));
        long left = suppressed.getAndSet(0);
        if (left > 0) sb.append(" [").append(left).append(" more since the last line]");
        sink.accept(sb.toString());
    }

    private static String abbreviate(String target) {
        return target.length() > 256 ? target.substring(0, 256) + "..." : target;
    }
}
