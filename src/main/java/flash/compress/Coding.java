package flash.compress;

/**
 * The content codings Flash can send, in the server's order of preference when a client accepts several equally:
 * the smallest first. Brotli is served only from precompressed sidecars: no well-kept Java library encodes it.
 */
public enum Coding {
    BR("br", ".br", false),
    ZSTD("zstd", ".zst", true),
    GZIP("gzip", ".gz", true);

    private static final Coding[] ALL = values();

    /** The Content-Encoding token. */
    public final String token;
    /** The sidecar file's suffix: {@code x.css} + suffix. */
    public final String suffix;
    /** Whether {@code --compress} can produce it. */
    public final boolean onTheFly;

    Coding(String token, String suffix, boolean onTheFly) {
        this.token = token;
        this.suffix = suffix;
        this.onTheFly = onTheFly;
    }

    static Coding[] all() { return ALL; }

    /** The coding an Accept-Encoding token names (x-gzip is gzip, RFC 9110 8.4.1.3), or null. */
    static Coding forToken(String token) {
        return switch (token) {
            case "br" -> BR;
            case "zstd" -> ZSTD;
            case "gzip", "x-gzip" -> GZIP;
            default -> null;
        };
    }

    /** Whether a file name ends in a sidecar suffix (such a file is never looked up for sidecars of its own). */
    static boolean isSidecarName(String name) {
        for (Coding c : ALL) if (name.endsWith(c.suffix)) return true;
        return false;
    }
}
