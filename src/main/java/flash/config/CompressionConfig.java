package flash.config;

/**
 * Content codings for static files: precompressed sidecars ({@code x.css.br}, {@code .zst}, {@code .gz} next to
 * {@code x.css}) and on-the-fly gzip or zstd with a bounded cache of the compressed bodies. Off by default, as in
 * nginx (a response that varies by Accept-Encoding is a choice the operator makes).
 *
 * @param precompressed serve sidecars chosen by Accept-Encoding
 * @param compress      compress compressible files on the fly (gzip, zstd) and cache the result
 * @param gzipLevel     deflate level, 1 (fast) to 9 (small)
 * @param zstdLevel     zstd level, 1 to 19
 * @param minSize       files smaller than this many bytes are never compressed on the fly (the head outweighs the win)
 * @param cacheBytes    budget of the compressed-body cache; a file larger than an eighth of it is sent uncompressed
 */
public record CompressionConfig(boolean precompressed, boolean compress, int gzipLevel, int zstdLevel, int minSize,
                                long cacheBytes) {
    /** nginx's gzip_comp_level 6 and gzip's own default: most of level 9's ratio at a fraction of its time. */
    public static final int DEFAULT_GZIP_LEVEL = 6;
    /** zstd's own default level: smaller than gzip -6 and several times faster. */
    public static final int DEFAULT_ZSTD_LEVEL = 3;
    /** Below 1 KiB a body fits a packet anyway; nginx's gzip_min_length is in the same spirit. */
    public static final int DEFAULT_MIN_SIZE = 1024;
    public static final long DEFAULT_CACHE_BYTES = 64L << 20;
    /** A file larger than this fraction of the cache is never compressed on the fly: it could not stay cached. */
    public static final int MAX_ENTRY_FRACTION = 8;

    public static final CompressionConfig DEFAULTS = new CompressionConfig(false, false, DEFAULT_GZIP_LEVEL,
            DEFAULT_ZSTD_LEVEL, DEFAULT_MIN_SIZE, DEFAULT_CACHE_BYTES);

    public CompressionConfig {
        if (gzipLevel < 1 || gzipLevel > 9) throw new IllegalArgumentException("gzip level must be between 1 and 9, not " + gzipLevel);
        if (zstdLevel < 1 || zstdLevel > 19) throw new IllegalArgumentException("zstd level must be between 1 and 19, not " + zstdLevel);
        if (minSize < 0) throw new IllegalArgumentException("minimum size must not be negative");
        if (cacheBytes < 0) throw new IllegalArgumentException("cache size must not be negative");
    }

    /** Whether any of it is on: otherwise the static handler never looks at Accept-Encoding. */
    public boolean enabled() { return precompressed || compress; }

    /** The largest file compressed on the fly. */
    public long maxSize() { return cacheBytes / MAX_ENTRY_FRACTION; }

    public CompressionConfig withPrecompressed(boolean v) { return new CompressionConfig(v, compress, gzipLevel, zstdLevel, minSize, cacheBytes); }
    public CompressionConfig withCompress(boolean v) { return new CompressionConfig(precompressed, v, gzipLevel, zstdLevel, minSize, cacheBytes); }
    public CompressionConfig withGzipLevel(int v) { return new CompressionConfig(precompressed, compress, v, zstdLevel, minSize, cacheBytes); }
    public CompressionConfig withZstdLevel(int v) { return new CompressionConfig(precompressed, compress, gzipLevel, v, minSize, cacheBytes); }
    public CompressionConfig withMinSize(int v) { return new CompressionConfig(precompressed, compress, gzipLevel, zstdLevel, v, cacheBytes); }
    public CompressionConfig withCacheBytes(long v) { return new CompressionConfig(precompressed, compress, gzipLevel, zstdLevel, minSize, v); }
}
