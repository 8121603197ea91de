package flash.http;

/**
 * Request limits. Defaults follow common servers: a request line past 8 KiB is 414, a header section past
 * 16 KiB or 100 fields is 431, a request body (only ever discarded by a static server) past 1 MiB is 413.
 * {@code maxKeepAliveRequests} (0 = no limit) closes a connection after that many requests, as Apache's
 * MaxKeepAliveRequests does: prefork workers need it so persistent clients cannot hold every worker.
 */
public record HttpLimits(int maxRequestLine, int maxHeaderBytes, int maxHeaderCount, long maxBody, int maxKeepAliveRequests) {
    public static final HttpLimits DEFAULTS = new HttpLimits(8 * 1024, 16 * 1024, 100, 1024 * 1024, 0);

    public HttpLimits(int maxRequestLine, int maxHeaderBytes, int maxHeaderCount, long maxBody) {
        this(maxRequestLine, maxHeaderBytes, maxHeaderCount, maxBody, 0);
    }

    public HttpLimits withMaxKeepAliveRequests(int n) {
        return new HttpLimits(maxRequestLine, maxHeaderBytes, maxHeaderCount, maxBody, n);
    }

    /** Largest head the read buffer must hold: request line, header section and the blank line. */
    public int maxHeadBytes() { return maxRequestLine + maxHeaderBytes + 4; }
}
