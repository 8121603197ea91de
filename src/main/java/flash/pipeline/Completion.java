package flash.pipeline;

import flash.http.Request;

import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * How one exchange ended: every exchange ends exactly once, whether answered, aborted, or refused before a request
 * could be parsed (400, 408: {@code request} is null). The access log and the metrics hang here.
 *
 * @param client     the peer's address, or null when unknown; its text ({@link #remote}) is made only when a log asks,
 *                   so a server without an access log formats no address per request
 * @param status     the status sent, or the one that was being sent when the exchange was aborted
 * @param bodyBytes  body bytes actually written to the client
 * @param aborted    the response did not reach the client whole (client gone, timeout, origin failure)
 * @param upstreamNanos time spent waiting for an upstream's response head, or -1 when not proxied
 * @param cause      for a 5xx status, why (never null then); null for every other status
 * @param errorDetail what failed, when Flash generated the 5xx because something did (for the error log); else null
 */
public record Completion(Request request, SocketAddress client, int status, long bodyBytes, boolean aborted,
                         long startNanos, long endNanos, long upstreamNanos, ErrorCause cause, String errorDetail) {

    /** The client's IP address as text, or null when unknown. */
    public String remote() {
        return client instanceof InetSocketAddress a && a.getAddress() != null ? a.getAddress().getHostAddress() : null;
    }

    /** Receives every completion, on the connection's thread: it must not block. */
    @FunctionalInterface
    public interface Listener {
        void completed(Completion c);

        Listener NONE = c -> { };
    }
}
