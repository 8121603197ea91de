package flash.http;

/**
 * Parser limits. Defaults follow common servers: a request line past 8 KiB is 414, a header section past
 * 16 KiB or 100 fields is 431, a request body (only ever discarded by a static server) past 1 MiB is 413.
 */
public record HttpLimits(int maxRequestLine, int maxHeaderBytes, int maxHeaderCount, long maxBody) {
    public static final HttpLimits DEFAULTS = new HttpLimits(8 * 1024, 16 * 1024, 100, 1024 * 1024);

    /** Largest head the read buffer must hold: request line, header section and the blank line. */
    public int maxHeadBytes() { return maxRequestLine + maxHeaderBytes + 4; }
}
