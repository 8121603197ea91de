package flash.pipeline;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A response body produced while it is sent (a proxied body, later CGI output), pulled by the connection with
 * backpressure both ways: the connection asks for data only when the client socket took the previous piece, and
 * the source reads from its origin only once that piece is consumed. H2O's generator, in pull form.
 * Every call arrives on the connection's thread.
 */
public interface BodyStream {
    /**
     * Data ready to send now: a view the source owns until {@link #consumed}; null when nothing is ready yet or
     * the body has ended ({@link #ended}). Throws when the origin failed mid-body: the connection then closes.
     */
    ByteBuffer next() throws IOException;

    /** True once every byte of the body has been returned by {@link #next} and consumed. */
    boolean ended();

    /** {@code n} bytes of the buffer last returned by {@link #next} were sent. */
    void consumed(int n);

    /** Calls {@code ready} once, on the connection's thread, when {@link #next} may return data or the body ended. */
    void onReady(Runnable ready);

    /** The body was sent whole. */
    default void finished() { }

    /** The body is no longer wanted (client gone, HEAD, an error): release the origin. Idempotent. */
    void abort();
}
