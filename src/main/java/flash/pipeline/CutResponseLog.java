package flash.pipeline;

import flash.http.Request;
import flash.log.LogThrottle;

import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.logging.Logger;

/**
 * The error log's line for a response that the server itself had to cut: sending it failed on the server's side
 * (the file shrank under sendfile or a mapping, or a defect threw), so the connection was closed, maybe before any
 * byte left. Such a response is no 5xx ({@link ErrorCause} covers those), and the access log shows only a short or
 * empty body, so without this line the cause was lost. A client that went away is not the server's failure and is
 * not logged: that is an {@link java.io.IOException} from the socket, which {@link #serverSide} tells apart.
 * Rate-limited as each 5xx cause's lines are ({@link LogThrottle}): at most one line a second for all cut responses of
 * a server, the next saying how many were left out.
 */
final class CutResponseLog {
    private static final Logger LOG = Logger.getLogger("flash.response");

    private final LogThrottle throttle;
    private final Consumer<String> sink;

    CutResponseLog() { this(TimeUnit.SECONDS.toNanos(1), System::nanoTime, LOG::warning); }

    CutResponseLog(long intervalNanos, LongSupplier clock, Consumer<String> sink) {
        this.throttle = new LogThrottle(intervalNanos, clock);
        this.sink = sink;
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
        long left = throttle.admit();
        if (left < 0) return;
        StringBuilder sb = new StringBuilder(256).append("response cut by a failure on the server's side, ");
        sb.append(sent == 0 ? "before any byte left" : "after " + sent + " bytes").append(": ");
        sb.append(LogThrottle.request(request));
        sb.append(" from ").append(remote == null ? "-" : remote).append(": ").append(ErrorCause.describe(t));
        if (left > 0) sb.append(" [").append(left).append(" more since the last line]");
        sink.accept(sb.toString());
    }
}
