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
    private final boolean enabled;
    private final int align;
    public final LongAdder hits = new LongAdder();
    public final LongAdder misses = new LongAdder();

    /**
     * One variant's head as dated in {@code second}: {@code head}, what a response of that second writes (direct
     * memory once kept, a view of {@code bytes} when first encoded), and {@code bytes}, what a later second's copies are
     * made from. Past that second, {@code staleSecond} and {@code staleUses} count how often it was asked for in the
     * current one (plain fields: a racy count is only a hint).
     */
    private static final class Encoded {
        final long second;
        final ByteBuffer head;
        final byte[] bytes;
        final int dateOffset;
        long staleSecond;
        int staleUses;

        Encoded(long second, ByteBuffer head, byte[] bytes, int dateOffset) {
            this.second = second;
            this.head = head;
            this.bytes = bytes;
            this.dateOffset = dateOffset;
        }
    }

    /**
     * Uses within one second after which a head is re-dated into a new direct buffer and kept. Below it, each request
     * gets a heap copy with today's date that is not kept (see {@link #fullResponseHead}). A kept copy lives about a
     * second, so it is promoted and dies in the old generation, with its Cleaner and native memory: at 4 uses, random
     * traffic over 20,000 files (about 1.7 requests a file a second) kept some 1,500 copies a second and the old
     * generation grew by 330-490 KB a second (docs/performance.md section 30). At 16 that chance is negligible, and a
     * file asked for more often still pays for its copy many times over.
     */
    static final int KEEP_AFTER_USES = 16;

    /**
     * An entry's heads, one field per variant, once it has more than the keep-alive HTTP/1.1 one: until then the
     * entry's slot is that variant's {@link Encoded} itself (see {@link #get}). Fields, not an array, and the stale
     * copies made from {@code bytes} rather than from the direct buffer: on a site larger than the CPU's cache each
     * object on the way to the bytes was a load no recent request had made, and a stale head went through five
     * (docs/performance.md sections 40 and 41).
     */
    private static final class Slot {
        Encoded keepAlive11, close11, keepAlive10, close10;

        Encoded get(int v) {
            return switch (v) {
                case 0 -> keepAlive11;
                case 1 -> close11;
                case 2 -> keepAlive10;
                default -> close10;
            };
        }

        void set(int v, Encoded e) {
            switch (v) {
                case 0 -> keepAlive11 = e;
                case 1 -> close11 = e;
                case 2 -> keepAlive10 = e;
                default -> close10 = e;
            }
        }
    }

    public HeaderCache(boolean enabled, int align) {
        this.enabled = enabled;
        this.align = align;
    }

    public boolean enabled() { return enabled; }

    /**
     * The head for a full 200 response of {@code entry}: a fresh view the caller may consume, of memory shared with
     * other responses (read-only) or of this response's own copy.
     */
    public ByteBuffer fullResponseHead(FileEntry entry, boolean http10, boolean close) {
        int v = (http10 ? 2 : 0) + (close ? 1 : 0); // the variant: Slot.get
        if (!enabled) return ByteBuffer.wrap(encode(entry, http10, close).finish(align));
        long now = HttpDate.currentSecond();
        Encoded e = get(entry, v);
        if (e != null && e.second == now) {
            hits.increment();
            return e.head.duplicate();
        }
        if (e != null) {
            hits.increment();
            // Stale: the Date is from an earlier second. A file asked for several times a second gets a new direct
            // copy, kept for the rest of the second. One asked for about once a second or less (a site larger than
            // the caches) gets a heap copy for this response only: a kept copy per request there meant a direct
            // buffer each (malloc, zeroing, a Cleaner), promoted before the next request could replace it, so the
            // old generation and the native memory behind it grew until a full collection (700 MiB of RSS and
            // 17 ms young pauses on the 20,000-file site; docs/performance.md section 19).
            if (e.staleSecond != now) {
                e.staleSecond = now;
                e.staleUses = 0;
            }
            if (++e.staleUses < KEEP_AFTER_USES) {
                // An unheld file's body was read into a pooled buffer with room for this head in front of it.
                ByteBuffer room = entry.pooledHeadSpace(e.bytes.length);
                if (room != null) return redated(e, room).asReadOnlyBuffer();
                // This response's own copy (nothing else sees it), cloned rather than put into a zeroed allocation.
                return ByteBuffer.wrap(e.bytes.clone()).put(e.dateOffset, HttpDate.nowBytes());
            }
            e = new Encoded(now, redated(e, ByteBuffer.allocateDirect(e.bytes.length)).asReadOnlyBuffer(), e.bytes,
                    e.dateOffset);
        } else {
            misses.increment();
            ResponseHead h = encode(entry, http10, close);
            byte[] bytes = h.finish(align);
            // On the heap until the head is asked for often in some second: most entries of a big site never are,
            // and a direct buffer each cost its native memory, a Cleaner, and a copy nothing read again.
            e = new Encoded(now, ByteBuffer.wrap(bytes).asReadOnlyBuffer(), bytes, h.dateOffset());
        }
        set(entry, v, e);
        return e.head.duplicate();
    }

    /**
     * Variant {@code v} of {@code entry}'s head, or null. The entry's slot is the keep-alive HTTP/1.1 head itself while
     * that is the only variant asked for (nearly every site): one object fewer to load on every response.
     */
    private static Encoded get(FileEntry entry, int v) {
        Object slot = entry.headerCacheSlot();
        if (slot instanceof Encoded e) return v == 0 ? e : null;
        return slot == null ? null : ((Slot) slot).get(v);
    }

    /**
     * Stores variant {@code v} of {@code entry}'s head: a benign race, two loops may both build or store one; either
     * copy is correct, and a variant lost to the other loop's store is encoded again when next asked for.
     */
    private static void set(FileEntry entry, int v, Encoded e) {
        Object slot = entry.headerCacheSlot();
        if (slot instanceof Slot s) {
            s.set(v, e);
        } else if (v == 0) {
            entry.headerCacheSlot(e);
        } else {
            Slot s = new Slot();
            if (slot instanceof Encoded keepAlive11) s.keepAlive11 = keepAlive11;
            s.set(v, e);
            entry.headerCacheSlot(s);
        }
    }

    /** {@code e}'s head written into {@code copy} with the current Date, flipped for reading. */
    private static ByteBuffer redated(Encoded e, ByteBuffer copy) {
        copy.put(e.bytes).flip();
        copy.put(e.dateOffset, HttpDate.nowBytes());
        return copy;
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
