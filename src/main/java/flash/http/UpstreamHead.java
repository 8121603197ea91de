package flash.http;

/**
 * One parsed upstream response head. {@code keepAlive} is what the version and Connection say; the body's
 * framing ({@link ResponseParser#framing}) can still forbid reuse (a body delimited by the connection closing).
 */
public record UpstreamHead(int status, String reason, int minorVersion, Headers headers, boolean keepAlive)
        implements UpstreamParse {

    /** A 1xx response: interim, with no body; the final response to the same request follows it. */
    public boolean interim() { return status < 200; }

    public String header(String name) { return headers.get(name); }
}
