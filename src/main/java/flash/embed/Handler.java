package flash.embed;

/**
 * Application code behind a route of an embedded {@link Flash}: reads the request and writes the response through
 * the {@link Exchange}.
 *
 * <p>It runs on a virtual thread of its own, one per request, never on one of Flash's event loops: it may block
 * (read a database, sleep, call another service) without holding up other connections. Reading the request body
 * and writing the response body block that virtual thread only, with backpressure both ways.
 *
 * <p>What it leaves unsent is completed when it returns: a response never begun becomes {@code 200} with what was
 * written (a {@code Content-Length} body); a streamed body is ended. If it throws before any byte of the response
 * was sent, the client gets {@code 500} and the exception is logged; after that, the connection is closed (the
 * client sees a truncated response).
 */
@FunctionalInterface
public interface Handler {
    /** Handles one request; see the type's comment for what happens when it returns or throws. */
    void handle(Exchange ex) throws Exception;
}
