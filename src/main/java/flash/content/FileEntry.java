package flash.content;

import flash.http.HttpDate;

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

    public Object headerCacheSlot() { return headerCacheSlot; }
    public void headerCacheSlot(Object slot) { this.headerCacheSlot = slot; }

    public Object representationSlot() { return representationSlot; }
    public void representationSlot(Object slot) { this.representationSlot = slot; }

    /** Drops this entry's own reference to its open file (it closes once no response still sends from it). */
    public void release() {
        if (handle != null && !borrowed) handle.release();
    }
}
