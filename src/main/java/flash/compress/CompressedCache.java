package flash.compress;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import flash.content.FileEntry;

import java.nio.file.Path;
import java.util.concurrent.atomic.LongAdder;

/**
 * Compressed bodies, so a hot page is compressed once (the paper's caching of computation, for transfer codings):
 * keyed by the file's identity, modification time and size and the coding, so a changed or replaced file is a new key
 * and its old bodies age out. Bounded by bytes, the least recently used going first (Caffeine). Lookups never block,
 * and an entry is immutable: the loops share it as they share the path cache.
 */
public final class CompressedCache {
    record Key(Path path, Object fileKey, long mtimeMillis, long size, Coding coding) {}

    /** A compressed body as a servable entry, or {@link #NOT_SMALLER}: the file does not shrink, send it as it is. */
    record Result(FileEntry entry) {
        long weight() { return 128 + (entry == null ? 0 : entry.size()); }
    }

    static final Result NOT_SMALLER = new Result(null);

    private final Cache<Key, Result> cache;
    public final LongAdder hits = new LongAdder();
    public final LongAdder misses = new LongAdder();
    /** Compressions run, by coding ({@link Coding#ordinal()}). */
    private final LongAdder[] compressions = new LongAdder[Coding.all().length];

    public CompressedCache(long maxBytes) {
        for (int i = 0; i < compressions.length; i++) compressions[i] = new LongAdder();
        // Maintenance on the calling thread: eviction only drops references (no descriptor to close), and no
        // thread pool is needed for it.
        this.cache = Caffeine.newBuilder().maximumWeight(maxBytes)
                .weigher((Key k, Result r) -> (int) Math.min(Integer.MAX_VALUE, r.weight()))
                .executor(Runnable::run).build();
    }

    static Key key(FileEntry original, Coding coding) {
        return new Key(original.path(), original.fileKey(), original.mtimeMillis(), original.size(), coding);
    }

    /** Non-blocking: the cached result, or null (counted as a hit or a miss). */
    Result lookup(Key key) {
        Result r = cache.getIfPresent(key);
        (r == null ? misses : hits).increment();
        return r;
    }

    /**
     * Blocking (a helper): the cached result, or compresses and caches it. Requests that miss together wait for one
     * compression of the key instead of each running their own.
     */
    Result compute(Key key, FileEntry original, int level) {
        return cache.get(key, k -> {
            try {
                java.nio.ByteBuffer bytes = Compressor.compress(original, k.coding(), level);
                compressions[k.coding().ordinal()].increment();
                if (bytes.remaining() >= original.size()) return NOT_SMALLER;
                return new Result(original.encoded(bytes, k.coding().token, etag(original.etag(), k.coding())));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    /**
     * A weak validator per coding, from the file's own: the bytes are equivalent, not guaranteed identical across
     * versions of the compressor or levels (nginx weakens its gzip ETags the same way).
     */
    static String etag(String fileEtag, Coding coding) {
        String opaque = fileEtag.startsWith("W/") ? fileEtag.substring(2) : fileEtag;
        return "W/" + opaque.substring(0, opaque.length() - 1) + "-" + coding.token + "\"";
    }

    public long compressions(Coding c) { return compressions[c.ordinal()].sum(); }

    /** Bytes held (compressed bodies and a small overhead per entry). */
    public long bytesHeld() {
        return cache.policy().eviction().map(e -> e.weightedSize().orElse(0L)).orElse(0L);
    }

    public long entries() { return cache.estimatedSize(); }

    public void clear() { cache.invalidateAll(); }
}
