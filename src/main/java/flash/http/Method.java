package flash.http;

/** Request methods: the ones a static server serves, the ones it knows but refuses (405), and the rest (501). */
public enum Method {
    GET, HEAD, POST, PUT, DELETE, OPTIONS, TRACE, PATCH, CONNECT, UNKNOWN;

    public static final String ALLOW = "GET, HEAD";

    public boolean servesFiles() { return this == GET || this == HEAD; }

    public static Method of(String token) {
        return switch (token) {
            case "GET" -> GET;
            case "HEAD" -> HEAD;
            case "POST" -> POST;
            case "PUT" -> PUT;
            case "DELETE" -> DELETE;
            case "OPTIONS" -> OPTIONS;
            case "TRACE" -> TRACE;
            case "PATCH" -> PATCH;
            case "CONNECT" -> CONNECT;
            default -> UNKNOWN;
        };
    }
}
