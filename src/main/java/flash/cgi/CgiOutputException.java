package flash.cgi;

/**
 * A CGI script's (or a FastCGI responder's) output is not a valid CGI response (RFC 3875 section 6): a header
 * block that is too large, never ends, or has an invalid line or field. The handler answers 502 when nothing has
 * reached the client yet, and otherwise closes the connection.
 */
public final class CgiOutputException extends Exception {
    public CgiOutputException(String message) {
        super(message, null, false, false);
    }
}
