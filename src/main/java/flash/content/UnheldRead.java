package flash.content;

import flash.sys.DiskGuard;
import flash.sys.Native;

import java.nio.ByteBuffer;

/**
 * Serves an unheld entry (a cached translation of a small file whose bytes the cache could not hold) without
 * blocking, so that an AMPED loop answers it itself instead of sending a full translation to a helper (issue #11,
 * "warm set larger than the caches"): open with {@code openat2(RESOLVE_CACHED | RESOLVE_NO_SYMLINKS)}, which fails
 * instead of waiting for a directory or inode read; fstat, which must find the file the translation read; preadv2
 * with RWF_NOWAIT of the whole file into a pooled buffer, which fails instead of waiting for a page; and the
 * descriptor is kept for the next request ({@link KeptDescriptor}), so that these pay only the fstat and the read. Any
 * failure (not in memory, changed, replaced, a symlink on the path, an old kernel) returns null; where blocking is
 * allowed the caller then reads the file there ({@link #readWaiting}), and translates it again only if that fails
 * too (changed, replaced, a symlink on the path).
 *
 * <p>Safety: the path opened is the translation's real path, which was checked to lie under the document root (or
 * allowed out of it by --follow-symlinks); with no symlink allowed anywhere on it, it names the same place in the
 * tree however the tree changed since, so a symlink swapped in to point out of the root fails the open. A change
 * in place, a rename over the file or its deletion fails the identity check, on a kept descriptor too (the unlink
 * changes the kept inode's ctime); a directory above it moved or swapped for a symlink is seen only when the path
 * is opened again, past the entry's bound (or dropped at once by the watch). No call of {@link #read} is a disk wait,
 * so none goes through {@link DiskGuard}; {@link #readWaiting} waits, and does: the invariant still fails every call
 * that can block.
 */
final class UnheldRead {
    /** Cleared for good when the kernel lacks openat2's RESOLVE_CACHED: every such read would fail. */
    private static volatile boolean supported = Native.available();

    private UnheldRead() {}

    /** Whether unheld entries can be served at all here (Linux 5.12+ on x86-64, native access enabled). */
    static boolean supported() { return supported; }

    /**
     * Whether {@code unheld}'s real path still opens, without blocking, to the file it was translated from (same
     * device, inode, size, modification and change times). False when that would wait, so the caller translates.
     */
    static boolean unchanged(FileEntry unheld) {
        int fd = Native.openCachedNoSymlinks(unheld.pathNul());
        if (fd < 0) {
            if (fd == -Native.ENOSYS || fd == -Native.EINVAL) supported = false;
            return false;
        }
        try {
            return Native.sameFile(fd, unheld.identity()) == 1;
        } finally {
            Native.close(fd);
        }
    }

    /**
     * {@code unheld}'s file read now, as an entry holding a pooled body (one reference, owned by the caller, who
     * must {@link FileEntry#release()} it), or null when that would have to wait or the file is not the one cached.
     *
     * <p>Without {@code checkPath}, a descriptor the entry keeps is read if it has one: the file it was opened on,
     * still unchanged (fstat), which is what a held body would serve within the entry's bound. With it, or without a
     * kept descriptor, the real path is opened again, which proves the path still names that file; the descriptor is
     * then kept for the next reads when {@code budget} allows (null: never). It is kept once the file is found to be
     * the one cached, even when the read failed because its pages were not in memory, so that the read a helper makes
     * next ({@link #readWaiting}) does not open the path again.
     */
    static FileEntry read(FileEntry unheld, boolean checkPath, DescriptorBudget budget) {
        return read(unheld, checkPath, budget, false);
    }

    /**
     * As {@link #read}, where blocking is allowed (a helper under amped; inline in the other architectures): the open
     * may walk directories on the disk, and the read waits for the file's pages. For an unheld entry whose pages were
     * not in memory this replaces a whole new translation (stat, realpath, open, a read into new memory, the cache's
     * insert and the watch's registration) by what nginx's thread pool does: one read of an open file (section 23 of
     * docs/performance.md). Null when the file is not the one cached: the caller translates again.
     */
    static FileEntry readWaiting(FileEntry unheld, boolean checkPath, DescriptorBudget budget) {
        DiskGuard.check("read unheld file");
        return read(unheld, checkPath, budget, true);
    }

    private static FileEntry read(FileEntry unheld, boolean checkPath, DescriptorBudget budget, boolean wait) {
        if (!checkPath) {
            KeptDescriptor kept = unheld.retainKept();
            if (kept != null) {
                kept.touch();
                try {
                    return Native.sameFile(kept.fd, unheld.identity()) == 1 ? readBody(unheld, kept.fd, wait) : null;
                } finally {
                    kept.release();
                }
            }
        }
        int fd = wait ? Native.openNoSymlinks(unheld.pathNul()) : Native.openCachedNoSymlinks(unheld.pathNul());
        if (fd < 0) {
            if (fd == -Native.ENOSYS || fd == -Native.EINVAL) supported = false;
            return null;
        }
        boolean kept = false;
        try {
            if (Native.sameFile(fd, unheld.identity()) != 1) return null;
            FileEntry e = readBody(unheld, fd, wait);
            // Kept only after the read, failed or not: once kept, a shed or an eviction on another thread may close it.
            if (budget != null) kept = unheld.keep(fd, budget);
            return e;
        } finally {
            if (!kept) Native.close(fd);
        }
    }

    /**
     * The whole file at {@code fd} (found to be {@code unheld}'s), or null: with {@code wait} false, when a page is not
     * in memory; in both cases when the file is shorter than its identity says.
     */
    private static FileEntry readBody(FileEntry unheld, int fd, boolean wait) {
        int size = (int) unheld.size();
        PooledBody body = PooledBody.take(size);
        try {
            long done = 0;
            while (done < size) {
                long n = wait ? Native.pread(fd, body.memory(), done, size - done, done)
                        : Native.preadv2Nowait(fd, body.memory(), done, size - done, done);
                if (n <= 0) return null; // -EAGAIN: a page is not in memory; 0: shorter than fstat said
                done += n;
            }
            ByteBuffer view = body.view(size);
            FileEntry e = unheld.withPooledBody(view, body);
            body = null; // the entry owns the reference now
            return e;
        } finally {
            if (body != null) body.release();
        }
    }
}
