package flash.embed;

import java.io.InputStream;
import java.io.OutputStream;

/**
 * One request and its response, as a {@link Handler} sees it. Used by the handler's own thread only (it is not
 * safe to share between threads).
 *
 * <p><b>The response.</b> Set the status and headers first, then either call {@link #send} once with the whole
 * body, or write to {@link #responseBody()}: the head leaves with the first bytes that do (when the buffer fills,
 * on {@code flush()}, or when the stream is closed or the handler returns), and after that {@link #status} and
 * {@link #header(String, String)} throw {@link IllegalStateException}. A body whose length is not set with a
 * {@code Content-Length} header is sent chunked (to an HTTP/1.0 client: ended by closing the connection), unless
 * the handler finishes before the buffer is first sent, in which case its length is known and announced. Flash
 * adds Date, Server, the framing and Connection; {@code Transfer-Encoding} and {@code Connection} cannot be set.
 * A HEAD request runs the handler too; what it writes is discarded.
 */
public interface Exchange {
    /** The request method as sent, e.g. {@code GET}. */
    String method();

    /** The request path, percent-decoded and normalised (no {@code .} or {@code ..} segments), e.g. {@code /api/items}. */
    String path();

    /** The raw query string after {@code ?}, still percent-encoded, or null when the target has none. */
    String query();

    /** The first value of a request header (name compared ignoring case), or null. */
    String header(String name);

    /**
     * The request body, read as it arrives (an empty stream when there is none). A client that sent
     * {@code Expect: 100-continue} gets its {@code 100 Continue} when this is first read. Reads block this handler's
     * thread only; they throw {@link java.io.IOException} if the client goes away or the body's framing is bad (the
     * client then gets 400 or 413, or a closed connection).
     */
    InputStream requestBody();

    /** Sets the response status (200 unless set; 200 to 599). */
    void status(int status);

    /**
     * Adds a response header. {@code Content-Length} sets the body's length (then exactly that many bytes must be
     * written). Names must be HTTP tokens; values must not contain CR, LF or NUL.
     */
    void header(String name, String value);

    /**
     * The response body, sent as it is written, with backpressure: a write blocks while the client is slower
     * than the handler. Closing it ends the response (the handler's return does too). A write after the client went
     * away throws {@link java.io.IOException}.
     */
    OutputStream responseBody();

    /**
     * Sends a whole response at once: status, {@code Content-Type} (none when null) and a body whose length is
     * announced. Only once, and only before anything was written to {@link #responseBody()}.
     */
    void send(int status, String contentType, byte[] body);
}
