package flash.content;

import flash.http.Head;
import flash.http.HttpDate;
import flash.http.ResponseHead;
import flash.http.Status;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.LongAdder;

/**
 * Pre-encoded "200 OK" response heads per file entry and variant (HTTP/1.0 or 1.1, keep-alive or close).
 * The slot lives on the {@link FileEntry}, so a changed file (a new entry) regenerates its heads for free.
 * The Date value is patched into a copy once per second, never re-encoded, and never mutated in place
 * (other loops may be writing the previous copy).
 */
public final class HeaderCache {
    /** Connection variants: index = (http10 ? 2 : 0) + (close ? 1 : 0). */
    private static final int VARIANTS = 4;

    private final boolean enabled;
    private final int align;
    public final LongAdder hits = new LongAdder();
    public final LongAdder misses = new LongAdder();

    private record Encoded(long second, ByteBuffer head, int dateOffset) {}

    private static final class Slot {
        final Encoded[] variants = new Encoded[VARIANTS];
    }

    public HeaderCache(boolean enabled, int align) {
        this.enabled = enabled;
        this.align = align;
    }

    public boolean enabled() { return enabled; }

    /** The head for a full 200 response of {@code entry}; a fresh read-only view the caller may consume. */
    public ByteBuffer fullResponseHead(FileEntry entry, boolean http10, boolean close) {
        int v = (http10 ? 2 : 0) + (close ? 1 : 0);
        if (!enabled) return ByteBuffer.wrap(encode(entry, http10, close).finish(align));
        Slot slot = (Slot) entry.headerCacheSlot();
        if (slot == null) {
            slot = new Slot();
            entry.headerCacheSlot(slot);
        }
        long now = HttpDate.currentSecond();
        Encoded e = slot.variants[v];
        if (e != null && e.second == now) {
            hits.increment();
            return e.head.duplicate();
        }
        if (e != null) {
            hits.increment();
            ByteBuffer copy = ByteBuffer.allocateDirect(e.head.capacity());
            copy.put(e.head.duplicate()).flip();
            copy.put(e.dateOffset, HttpDate.nowBytes());
            e = new Encoded(now, copy.asReadOnlyBuffer(), e.dateOffset);
        } else {
            misses.increment();
            ResponseHead h = encode(entry, http10, close);
            byte[] bytes = h.finish(align);
            ByteBuffer direct = ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();
            e = new Encoded(now, direct.asReadOnlyBuffer(), h.dateOffset());
        }
        slot.variants[v] = e; // a benign race: two loops may both build it; either copy is correct
        return e.head.duplicate();
    }

    /** The full-file 200 head, also used uncached: the HTTP/1 encoding of {@link #fileHead}. */
    public static ResponseHead encode(FileEntry entry, boolean http10, boolean close) {
        return fileHead(Status.OK, entry, entry.contentType()).toHttp1(http10, entry.size(), false, close);
    }

    /**
     * The fields every response about a file carries, written once: its type (null: none, as for 304), validators,
     * and that it takes ranges (not on 304). Callers add what their status needs (Content-Range).
     */
    public static Head fileHead(Status status, FileEntry entry, String contentType) {
        Head h = new Head(status);
        if (contentType != null) h.add("Content-Type", contentType);
        if (entry.lastModified() != null) h.add("Last-Modified", entry.lastModified());
        h.add("ETag", entry.etag());
        // A 304 names the representation's validators and Vary, not its other metadata (RFC 9110 15.4.5).
        if (entry.contentEncoding() != null && status != Status.NOT_MODIFIED) h.add("Content-Encoding", entry.contentEncoding());
        if (entry.vary()) h.add("Vary", "Accept-Encoding");
        if (status != Status.NOT_MODIFIED && entry.acceptRanges()) h.add("Accept-Ranges", "bytes");
        return h;
    }
}
