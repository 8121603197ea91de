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
    private volatile Object headerCacheSlot; // owned by the header cache

    public FileEntry(Path path, long size, long mtimeMillis, Object fileKey, String contentType, ByteBuffer body, FileHandle handle) {
        this(path, size, mtimeMillis, fileKey, contentType, body, handle, false);
    }

    /** @param mincoreTruthful this process owns or may write the file, so mincore on its mapping tells the truth */
    public FileEntry(Path path, long size, long mtimeMillis, Object fileKey, String contentType, ByteBuffer body, FileHandle handle,
                     boolean mincoreTruthful) {
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
                + Long.toHexString(mtimeMillis) + "-" + Long.toHexString(size) + "\"";
        this.lastModified = HttpDate.format(mtimeMillis);
    }

    public Path path() { return path; }
    public long size() { return size; }
    public long mtimeMillis() { return mtimeMillis; }
    public long lastModifiedSeconds() { return Math.floorDiv(mtimeMillis, 1000); }
    public String etag() { return etag; }
    public String contentType() { return contentType; }
    public String lastModified() { return lastModified; }
    public Object fileKey() { return fileKey; }
    public boolean mincoreTruthful() { return mincoreTruthful; }

    /** The whole content, a fresh read-only view the caller may consume; null when the file is sent from disk. */
    public ByteBuffer body() { return body == null ? null : body.duplicate(); }

    public boolean inMemory() { return body != null; }

    public FileHandle handle() { return handle; }

    public Object headerCacheSlot() { return headerCacheSlot; }
    public void headerCacheSlot(Object slot) { this.headerCacheSlot = slot; }

    /** Drops this entry's own reference to its open file (it closes once no response still sends from it). */
    public void release() {
        if (handle != null) handle.release();
    }
}
