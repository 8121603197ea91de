package flash.pipeline;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Turns a keep-alive response into the last one of its connection: its encoded head gets {@code Connection: close}
 * (replacing an HTTP/1.0 {@code Connection: keep-alive}). Used when a drain begins while a request is being
 * handled, after its handler built the head for keep-alive: a client, or a load balancer, must learn from the
 * response itself that the connection ends, or it may send its next request into the close.
 */
final class ResponseClosing {
    private static final byte[] KEEP_ALIVE = "Connection: keep-alive\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CLOSE = "Connection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private ResponseClosing() {}

    static Response of(Response r) {
        ByteBuffer h = r.head();
        byte[] head = new byte[h.remaining()];
        h.duplicate().get(head); // the head may be a cached one that other connections send too: copy, never change
        int end = head.length - 2; // the blank line that ends the head
        if (end < 2 || head[end] != '\r' || head[end + 1] != '\n') return r; // not a head we encoded: leave it
        ByteBuffer out = ByteBuffer.allocate(end + CLOSE.length);
        int keepAlive = indexOf(head, KEEP_ALIVE, end);
        if (keepAlive >= 0) {
            out.put(head, 0, keepAlive).put(head, keepAlive + KEEP_ALIVE.length, end - keepAlive - KEEP_ALIVE.length);
        } else {
            out.put(head, 0, end);
        }
        out.put(CLOSE).flip();
        return new Response(r.status(), out, r.body(), r.bodyLength(), true, r.stream(), r.chunked());
    }

    /** Where {@code field} starts a line of {@code head} before {@code end}, or -1. */
    private static int indexOf(byte[] head, byte[] field, int end) {
        outer:
        for (int i = 0; i + field.length <= end; i++) {
            if (i > 0 && head[i - 1] != '\n') continue;
            for (int j = 0; j < field.length; j++) if (head[i + j] != field[j]) continue outer;
            return i;
        }
        return -1;
    }
}
