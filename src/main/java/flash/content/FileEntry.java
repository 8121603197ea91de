package flash.content;

import flash.http.HttpDate;
import flash.sys.Native;

import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * A regular file as the server saw it at one moment: metadata, validators, and either its whole content in
 * memory (small files) or an open {@link FileHandle} (large files, sent with sendfile). Immutable; a changed
 * file gets a new entry.
 */
public final class FileEntry {
    private final Path path;
    private final long size;
    private final long mtimeMillis;
    private final String etag;
    private final String contentType;
    private final String lastModified;
    private final ByteBuffer body;      // read-only, position 0; null for large files
    private final FileHandle handle;    // null for small files
    private final Object fileKey;
    private final boolean mincoreTruthful;
    // Content negotiation (flash.compress): another representation of a resource carries its coding, whether the
    // choice depended on Accept-Encoding, and whether it takes ranges. An entry derived from another one shares its
    // bytes and open file without a reference of its own ("borrowed"): it is valid while the entry it came from is held.
    private final String contentEncoding;
    private final boolean vary;
    private final boolean acceptRanges;
    private final boolean borrowed;
    // Unheld entries (PathCache, issue #11): the cache keeps a small file's translation apart from its bytes, with
    // what identifies the file read ({@code identity}) and its real path for openat2; a request whose bytes are not
    // held reads them into a pooled buffer ({@code owner}, released with this entry) and serves an entry made from
    // the unheld one ({@code origin}, whose header cache slot it shares: same validators, same head).
    private final flash.sys.FileIdentity identity; // fstat of the file read, when known
    private final boolean unheld;                  // metadata only: no body, no handle
    // The counted memory the body lives in (a request's pooled buffer, or bytes of their own that the path cache may
    // hold: each holder owns a reference, released with this entry), or null: a buffer left to the collector.
    private final BodyRef owner;
    private final FileEntry origin;                // the unheld entry a request's entry was read for, or null
    private volatile byte[] pathNul;               // the real path, UTF-8 and NUL-terminated, made on first use
    /**
     * The second (System.nanoTime / 1e9) in which a send of this held file from its kept descriptor found a page not
     * in memory, or -1: the rest of that second copies the held bytes without testing again (a racy hint), and the
     * miss has a refill read the pages back (docs/performance.md sections 36 and 39).
     */
    long residencyMissSecond = -1;
    /** Whether a refill of this held file's pages is queued or running ({@link #startRefill}): one at a time. */
    private volatile boolean refilling;
    // An unheld entry's open file (KeptDescriptor), kept between requests; RELEASED once the entry is released.
    private volatile Object kept;
    // The tick (DescriptorBudget.nowTick) of this unheld entry's last read on a loop that opened its file, or
    // MIN_VALUE: a racy hint for keepsOnRead.
    long openedTick = Long.MIN_VALUE; // package-private: tests age it
    private static final Object RELEASED = new Object();
    private static final java.lang.invoke.VarHandle KEPT, REFILLING;
    static {
        try {
            KEPT = java.lang.invoke.MethodHandles.lookup().findVarHandle(FileEntry.class, "kept", Object.class);
            REFILLING = java.lang.invoke.MethodHandles.lookup().findVarHandle(FileEntry.class, "refilling", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
    private volatile Object headerCacheSlot; // owned by the header cache
    private volatile Object representationSlot; // owned by flash.compress

    public FileEntry(Path path, long size, long mtimeMillis, Object fileKey, String contentType, ByteBuffer body, FileHandle handle) {
        this(path, size, mtimeMillis, fileKey, contentType, body, handle, false);
    }

    /** @param mincoreTruthful this process owns or may write the file, so mincore on its mapping tells the truth */
    public FileEntry(Path path, long size, long mtimeMillis, Object fileKey, String contentType, ByteBuffer body, FileHandle handle,
                     boolean mincoreTruthful) {
        this(path, size, mtimeMillis, fileKey, contentType, body, handle, mincoreTruthful, null);
    }

    /**
     * @param contentDigest a digest of the content, for a file whose mtime says nothing ({@link #reproducible}): it
     *                      stands in the ETag where the mtime would, so a same-size change still changes the ETag
     */
    public FileEntry(Path path, long size, long mtimeMillis, Object fileKey, String contentType, ByteBuffer body, FileHandle handle,
                     boolean mincoreTruthful, String contentDigest) {
        this(path, size, mtimeMillis, fileKey, contentType, body, handle, mincoreTruthful, contentDigest, null);
    }

    /**
     * @param identity what fstat said of the file the body was read from (null: unknown); with it, and only if it
     *                 agrees with {@code size} and {@code mtimeMillis}, a cache can keep the entry without its bytes
     *                 and read them again without blocking ({@link #readUnheld})
     */
    public FileEntry(Path path, long size, long mtimeMillis, Object fileKey, String contentType, ByteBuffer body, FileHandle handle,
                     boolean mincoreTruthful, String contentDigest, flash.sys.FileIdentity identity) {
        this(path, size, mtimeMillis, fileKey, contentType, body, handle, mincoreTruthful, contentDigest, identity, null);
    }

    /** As above, with {@code body} in {@code owned} memory, whose one reference this entry takes over. */
    FileEntry(Path path, long size, long mtimeMillis, Object fileKey, String contentType, ByteBuffer body, FileHandle handle,
              boolean mincoreTruthful, String contentDigest, flash.sys.FileIdentity identity, OwnedBody owned) {
        this.identity = identity != null && identity.size() == size && identity.mtimeMillis() == mtimeMillis ? identity : null;
        this.unheld = false;
        this.owner = owned;
        this.origin = null;
        this.mincoreTruthful = mincoreTruthful;
        this.path = path;
        this.size = size;
        this.mtimeMillis = mtimeMillis;
        this.fileKey = fileKey;
        this.contentType = contentType;
        this.body = body == null ? null : body.asReadOnlyBuffer();
        this.handle = handle;
        // Strong validator from identity, modification time and size: a replaced file (new inode) changes it even
        // when size and mtime happen to match.
        this.etag = "\"" + Long.toHexString(fileKey == null ? 0 : fileKey.hashCode() & 0xffffffffL) + "-"
                + (contentDigest != null ? contentDigest : Long.toHexString(mtimeMillis)) + "-" + Long.toHexString(size) + "\"";
        // A reproducible-build tree (the Nix store) sets every mtime to 0 or 1: as a Last-Modified it would match
        // any If-Modified-Since and give a false 304, so such a file has none.
        this.lastModified = reproducible(mtimeMillis) ? null : HttpDate.format(mtimeMillis);
        this.contentEncoding = null;
        this.vary = false;
        this.acceptRanges = true;
        this.borrowed = false;
    }

    private FileEntry(FileEntry from, String contentType, String etag, ByteBuffer body, FileHandle handle, long size,
                      String contentEncoding, boolean vary, boolean acceptRanges, boolean borrowed) {
        this(from, contentType, etag, body, handle, size, contentEncoding, vary, acceptRanges, borrowed,
                borrowed ? from.owner : null, false, null, null);
    }

    private FileEntry(FileEntry from, String contentType, String etag, ByteBuffer body, FileHandle handle, long size,
                      String contentEncoding, boolean vary, boolean acceptRanges, boolean borrowed, BodyRef owner,
                      boolean unheld, flash.sys.FileIdentity identity, FileEntry origin) {
        this.owner = owner;
        this.unheld = unheld;
        this.identity = identity;
        this.origin = origin;
        this.pathNul = from.pathNul;
        this.path = from.path;
        this.size = size;
        this.mtimeMillis = from.mtimeMillis;
        this.fileKey = from.fileKey;
        this.mincoreTruthful = from.mincoreTruthful;
        this.lastModified = from.lastModified;
        this.contentType = contentType;
        this.etag = etag;
        this.body = body == null ? null : body.asReadOnlyBuffer();
        this.handle = handle;
        this.contentEncoding = contentEncoding;
        this.vary = vary;
        this.acceptRanges = acceptRanges;
        this.borrowed = borrowed;
    }

    /**
     * This file's bytes as a representation chosen by content negotiation: with {@code contentType} (a sidecar
     * {@code x.css.gz} is served as {@code x.css}'s type), a Content-Encoding (null: none) and Vary: Accept-Encoding
     * when {@code vary}. Same validators, ranges allowed. Borrowed: use it only while this entry is held.
     */
    public FileEntry representation(String contentType, String contentEncoding, boolean vary) {
        return new FileEntry(this, contentType, etag, body, handle, size, contentEncoding, vary, true, true);
    }

    /**
     * Bytes compressed from this file with {@code coding}, held in memory with their own {@code etag}; Vary:
     * Accept-Encoding and no ranges (a range request gets the file itself). Owns nothing that needs a release.
     */
    public FileEntry encoded(ByteBuffer bytes, String coding, String etag) {
        return new FileEntry(this, contentType, etag, bytes, null, bytes.remaining(), coding, true, false, false);
    }

    /**
     * This small file's translation without its bytes, for the path cache to keep apart from them: metadata,
     * validators, the real path and the identity of the file read; no body and no open file.
     */
    public FileEntry withoutBody() {
        if (body == null || borrowed || contentEncoding != null) throw new IllegalStateException("not a small file's own entry: " + path);
        return new FileEntry(this, contentType, etag, null, null, size, null, false, true, false, null, true, identity, null);
    }

    /** Metadata only ({@link #withoutBody}): serve it through {@link #readUnheld}, never as it is. */
    public boolean unheld() { return unheld; }

    /** Whether {@link #readUnheld} can work: the identity of the file read is known, and the kernel can do it. */
    public boolean readableUnheld() { return identity != null && UnheldRead.supported(); }

    /**
     * An unheld entry's file read now without blocking, as an entry with its body in a pooled buffer (one reference,
     * the caller's to release); null when that would block or the file is no longer the one cached.
     *
     * @param check  what proves the file read is still the one cached: the real path opened again (an entry past
     *               its bound), or a descriptor this entry kept open, checked by fstat or trusted to the watch
     * @param budget descriptors this entry may keep open for the next reads (null: none)
     */
    FileEntry readUnheld(UnheldRead.Check check, DescriptorBudget budget) { return readUnheld(check, budget, false); }

    /**
     * As {@link #readUnheld(UnheldRead.Check, DescriptorBudget)}; with {@code sendfile} (the connection sends file
     * regions) the entry returned may send the file from a descriptor this entry keeps instead of holding a copy
     * ({@link UnheldRead#read(FileEntry, UnheldRead.Check, DescriptorBudget, boolean)}).
     */
    FileEntry readUnheld(UnheldRead.Check check, DescriptorBudget budget, boolean sendfile) {
        if (!unheld) throw new IllegalStateException("not an unheld entry: " + path);
        return identity == null ? null : UnheldRead.read(this, check, budget, sendfile);
    }

    /**
     * As {@link #readUnheld}, where blocking is allowed: the open and the read may wait for the disk. Null only when
     * the file is no longer the one cached (or cannot be read at all): the caller translates again. Always a copy;
     * {@code sendfile} only chooses how a descriptor opened here is kept.
     */
    FileEntry readUnheldWaiting(UnheldRead.Check check, DescriptorBudget budget, boolean sendfile) {
        if (!unheld) throw new IllegalStateException("not an unheld entry: " + path);
        return identity == null ? null : UnheldRead.readWaiting(this, check, budget, sendfile);
    }

    /**
     * For this unheld entry whose bytes the cache holds: an entry that sends the file by sendfile from the descriptor
     * this entry keeps, or null to serve the held bytes ({@link UnheldRead#sendHeld}); {@code often}: asked for often
     * this second; {@code check}: whether the kept descriptor is checked by fstat first (not for a watched entry).
     */
    FileEntry sendHeld(DescriptorBudget budget, boolean often, UnheldRead.Check check) {
        if (!unheld) throw new IllegalStateException("not an unheld entry: " + path);
        return identity == null ? null : UnheldRead.sendHeld(this, budget, often, check);
    }

    /**
     * Claims the refill of this held file's pages for the caller, false if one is already queued or running: on a
     * slow disk a refill could otherwise be queued again each second, ahead of the helpers' request work, and by each
     * loop that missed. The caller ends it with {@link #refillDone}.
     */
    boolean startRefill() { return REFILLING.compareAndSet(this, false, true); }

    void refillDone() { refilling = false; }

    /** The descriptor this unheld entry keeps, with one more reference for the caller, or null. */
    KeptDescriptor retainKept() {
        return kept instanceof KeptDescriptor k && k.retain() ? k : null;
    }

    /**
     * Keeps {@code fd} (just opened on this entry's path and found to be its file) open with this entry, if it keeps
     * none yet, is not released, and {@code budget} has room; true when it did. Takes {@code fd} either way: kept, or
     * closed here. With {@code asHandle}, the file is kept as a {@link FileHandle} ({@link KeptDescriptor#handle}) so
     * that later requests can send it by sendfile ({@link #withKeptHandle}); where no handle can be made, {@code fd} is
     * kept as it is.
     */
    boolean keep(int fd, DescriptorBudget budget, boolean asHandle) {
        // A full budget refuses the charge below: found before the handle is made (and, on first use, mapped), which a
        // site of more files than the room otherwise paid on every read of a file it could not keep (section 35).
        FileHandle h = null;
        boolean done = false;
        try {
            if (kept != null || budget.full()) return false;
            h = asHandle ? KeptDescriptor.handle(fd, this) : null; // owns the open file when not null
            KeptDescriptor k = budget.charge(h == null ? fd : h.fd(), h, this); // its reference to h is h's only one
            if (k != null && KEPT.compareAndSet(this, null, k)) return done = true;
            if (k != null) budget.returned(k); // another read kept one first, or the entry was released
            return false;
        } finally {
            if (!done) { // else the kept descriptor owns the file now
                if (h != null) h.release(); // the only reference: closes the file
                else Native.close(fd);
            }
        }
    }

    /**
     * Whether a read that opened this unheld entry's file and read it on a loop should keep the descriptor once the
     * budget is three quarters full (below that, every such read keeps it): yes for the first such read since the
     * translation, and then only when the one before was less than the budget's relief idle time ago ({@link
     * DescriptorBudget#RELIEF_IDLE_TICKS}, about 4 s); this read is recorded for the next. A descriptor idle that
     * long is one the budget's relief may close when files asked for often need room ({@link
     * DescriptorBudget#relieve}, a batch a tick, the longest unused first), so keeping one for a file asked for less
     * often only churns: on a site of 100,000 files under Zipf access, one
     * request in five kept a new descriptor while as many were closed (docs/performance.md section 43).
     */
    boolean keepsOnRead(DescriptorBudget budget) {
        long now = DescriptorBudget.nowTick(), last = openedTick;
        openedTick = now;
        return last == Long.MIN_VALUE || now - last < budget.reliefIdleTicks;
    }

    /** The unheld entry this request's entry was read for, or null. */
    FileEntry origin() { return origin; }

    /** Stops keeping {@code k} (shed by the budget); it closes once no read still uses it. False if it was not kept. */
    boolean dropKept(KeptDescriptor k) {
        if (!KEPT.compareAndSet(this, k, null)) return false;
        k.release();
        return true;
    }

    /**
     * Whether this unheld entry's real path still opens, without blocking, to the file it was translated from; false
     * when it does not or that would wait (a caller then translates again where blocking is allowed).
     */
    public boolean unchangedOnDisk() {
        if (!unheld) throw new IllegalStateException("not an unheld entry: " + path);
        return identity != null && UnheldRead.unchanged(this);
    }

    /**
     * A request's entry for this unheld one that sends its file from {@code handle} (the kept descriptor's, one
     * reference that this entry now owns) instead of bytes read into memory: a file region, by sendfile.
     */
    FileEntry withKeptHandle(FileHandle handle) {
        return new FileEntry(this, contentType, etag, null, handle, size, null, false, true, false, null, false, null, this);
    }

    FileEntry withPooledBody(ByteBuffer view, PooledBody body) {
        return new FileEntry(this, contentType, etag, view, null, size, null, false, true, false, body, false, null, this);
    }

    /**
     * This request's entry (read for an unheld one into a pooled buffer) as one the path cache can hold: the same
     * bytes copied into memory of their own, with the unheld entry's validators and header cache slot.
     */
    FileEntry heldCopy() {
        if (!(owner instanceof PooledBody) || origin == null) throw new IllegalStateException("not an unheld entry's read: " + path);
        OwnedBody copy = BodyMemory.allocate((int) size);
        ByteBuffer bytes = copy.buffer().put(body.duplicate()).flip();
        return new FileEntry(origin, contentType, etag, bytes, null, size, null, false, true, false, copy, false, null, origin);
    }

    flash.sys.FileIdentity identity() { return identity; }

    byte[] pathNul() {
        byte[] p = pathNul;
        if (p == null) pathNul = p = pathNul(path);
        return p;
    }

    /** {@code path} as the native calls take it: UTF-8, ending in one NUL byte. */
    static byte[] pathNul(Path path) {
        byte[] utf8 = path.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        return java.util.Arrays.copyOf(utf8, utf8.length + 1);
    }

    /**
     * Direct memory for the head of this request's response, living as long as its pooled body, or null (no pooled
     * body, a borrowed representation, a head too long, or lent already): {@link PooledBody#headSpace}. Never for an
     * empty file: its response has no body segment to hold the loan until the head is written, and the request's
     * release of this entry would give the buffer back to its pool under a head still waiting for the socket.
     */
    public ByteBuffer pooledHeadSpace(int n) {
        return owner instanceof PooledBody p && !borrowed && size != 0 ? p.headSpace(n) : null;
    }

    /**
     * The counted memory the body lives in, with one more reference for the caller (a response segment viewing it),
     * or null when it is not counted (a buffer left to the collector, mapped chunks, or a file sent from its descriptor).
     */
    public BodyRef retainBody() {
        if (owner == null) return null;
        if (!owner.retain()) throw new IllegalStateException("body memory released under a live entry: " + path);
        return owner;
    }

    /**
     * One more reference to this entry's bytes for a holder that found it where another thread may release it (the
     * path cache's byte tier, for a request or for the tier itself); false once the last one is gone, and the bytes
     * must not be served. The holder gives it back with {@link #release()} (a request) or {@link #releaseBody()}.
     */
    boolean retainHeld() { return owner == null || owner.retain(); }

    /** Drops one reference to this entry's bytes alone (the byte tier's own, or one {@link #retainHeld} took). */
    void releaseBody() {
        if (owner != null) owner.release();
    }

    public Path path() { return path; }
    public long size() { return size; }
    public long mtimeMillis() { return mtimeMillis; }
    /** Whole seconds, or -1 when the file has no usable modification time ({@link #reproducible}). */
    public long lastModifiedSeconds() { return lastModified == null ? -1 : Math.floorDiv(mtimeMillis, 1000); }
    public String etag() { return etag; }
    public String contentType() { return contentType; }
    /** The Last-Modified value, or null when the file's mtime is a reproducible-build placeholder. */
    public String lastModified() { return lastModified; }

    /** An mtime of 0 or 1 second past the epoch (or before): set by reproducible builds, not by a change. */
    public static boolean reproducible(long mtimeMillis) { return mtimeMillis < 2000; }
    public Object fileKey() { return fileKey; }
    public boolean mincoreTruthful() { return mincoreTruthful; }
    /** The Content-Encoding of this representation, or null for the file as it is. */
    public String contentEncoding() { return contentEncoding; }
    /** Whether responses carry Vary: Accept-Encoding (another representation could have been chosen). */
    public boolean vary() { return vary; }
    /** Whether ranges apply (Accept-Ranges: bytes); not for bytes compressed on the fly. */
    public boolean acceptRanges() { return acceptRanges; }

    /** The whole content, a fresh read-only view the caller may consume; null when the file is sent from disk. */
    public ByteBuffer body() { return body == null ? null : body.duplicate(); }

    public boolean inMemory() { return body != null; }

    public FileHandle handle() { return handle; }

    /**
     * Whether every page of this request's file was found in memory as its entry was made (an unheld file sent from
     * its kept handle, {@link #withKeptHandle}): the response need not test them again before its first send.
     */
    public boolean residentChecked() { return origin != null && handle != null; }

    // A request's entry read for an unheld one shares its slot: the same validators make the same head.
    public Object headerCacheSlot() { return origin != null ? origin.headerCacheSlot() : headerCacheSlot; }
    public void headerCacheSlot(Object slot) {
        if (origin != null) origin.headerCacheSlot(slot);
        else this.headerCacheSlot = slot;
    }

    public Object representationSlot() { return representationSlot; }
    public void representationSlot(Object slot) { this.representationSlot = slot; }

    /**
     * Drops this entry's own reference to its open file (it closes once no response still sends from it), to its
     * body's memory (back to its pool, or freed, once no response still sends from it), or to the descriptor an unheld
     * entry keeps (it closes once no read still uses it).
     */
    public void release() {
        if (borrowed) return;
        if (handle != null) handle.release();
        if (owner != null) owner.release();
        if (unheld && KEPT.getAndSet(this, RELEASED) instanceof KeptDescriptor k) k.release();
    }
}
