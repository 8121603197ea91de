package flash.pipeline;

import flash.http.Status;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * A response ready to send: its encoded head and its body, which is either fixed segments (bytes in memory,
 * mapped chunks or file regions: the zero-copy path) or a {@link BodyStream}. {@code bodyLength} is what
 * Content-Length announced, or -1 for a streamed body of unknown length, which goes out chunked
 * ({@code chunked}) or ends at close. The connection closes after it if {@code close}.
 */
public record Response(int status, ByteBuffer head, List<Segment> body, long bodyLength, boolean close,
                       BodyStream stream, boolean chunked) {
    public Response {
        body = List.copyOf(body);
    }

    /** A response whose body is known in full. */
    public Response(Status status, ByteBuffer head, List<Segment> body, long bodyLength, boolean close) {
        this(status.code(), head, body, bodyLength, close, null, false);
    }

    /** A response whose body is produced while it is sent. */
    public static Response streamed(int status, ByteBuffer head, BodyStream stream, long length, boolean chunked,
                                    boolean close) {
        return new Response(status, head, List.of(), length, close, stream, chunked);
    }
}
