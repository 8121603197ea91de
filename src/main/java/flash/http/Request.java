package flash.http;

import java.util.List;

/**
 * One parsed request head. {@code rawPath} is the target's path exactly as sent (still percent-encoded);
 * decoding and normalisation belong to {@link RequestTarget}.
 */
public record Request(
        Method method,
        String methodToken,
        String target,
        String rawPath,
        String query,
        int minorVersion,
        Headers headers,
        boolean keepAlive,
        long contentLength,
        boolean chunked) implements ParseResult {

    public boolean http10() { return minorVersion == 0; }

    public boolean hasBody() { return chunked || contentLength > 0; }

    public String header(String name) { return headers.get(name); }

    /** The same request, answered as the last one on its connection. */
    public Request closing() {
        return keepAlive ? new Request(method, methodToken, target, rawPath, query, minorVersion, headers, false,
                contentLength, chunked) : this;
    }

    public List<String> headerValues(String name) { return headers.all(name); }
}
