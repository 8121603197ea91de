package flash.pipeline;

/**
 * Produces the response to an exchange: static files, the status page, the reverse proxy, later CGI and
 * FastCGI. Chosen per request by the {@link Router}. Each handler decides which methods it allows.
 */
public interface Handler {
    /**
     * Called on the connection's thread once the request head is parsed. It must lead, now or later from an event
     * on the same thread, to exactly one {@link Exchange#respond} or {@link Exchange#abort}. It must not block:
     * anything that may block goes through the driver's seam ({@link Exchange#driver()}).
     */
    void handle(Exchange exchange);
}
