package flash.content;

/**
 * The memory a file body in memory lives in, counted: a pooled buffer lent for one request ({@link PooledBody}), or
 * memory of its own for bytes the path cache holds ({@link OwnedBody}). Each holder (the cache, a request's entry,
 * a response segment viewing the bytes) owns one reference; the last release gives the memory back at once, to its
 * pool or to malloc, rather than when the collector next finds the views unreachable.
 */
public abstract sealed class BodyRef extends RefCount permits PooledBody, OwnedBody {
    /** Takes one more reference; false once the last one was released (the caller must not use the bytes). */
    @Override public boolean retain() { return super.retain(); }

    /** Drops one reference; the last one gives the memory back. */
    public abstract void release();
}
