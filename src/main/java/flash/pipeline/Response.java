package flash.pipeline;

import flash.http.Status;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * A response ready to send: its encoded head, its body segments, and whether the connection closes after it.
 * {@code bodyLength} is what Content-Length announced; the connection closes if it cannot be sent whole.
 */
public record Response(Status status, ByteBuffer head, List<Segment> body, long bodyLength, boolean close) {
    public Response {
        body = List.copyOf(body);
    }
}
