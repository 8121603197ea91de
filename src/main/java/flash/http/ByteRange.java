package flash.http;

/** One satisfiable byte range, inclusive bounds as in Content-Range. */
public record ByteRange(long first, long last) {
    public long length() { return last - first + 1; }

    public String contentRange(long total) { return "bytes " + first + "-" + last + "/" + total; }
}
