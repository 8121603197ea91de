package flash.content;

import flash.sys.DiskGuard;
import flash.sys.Native;
import flash.http.MimeTypes;
import flash.http.RequestTarget;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * URL path to file: the step that may block on the disk (stat, realpath, open, and reading small files).
 * It runs wherever the architecture puts blocking work: inline (SPED, MT, VT, MP) or on a helper (AMPED).
 *
 * <p>Safety does not depend on the caller: the path was normalised by {@link RequestTarget} (no "..", no
 * separators inside a segment), and the resolved real path must still lie under the real root unless
 * symlinks may be followed out of it.
 */
public final class PathTranslator {
    private final java.util.List<String> indexNames;
    private final Path realRoot;
    private final boolean followSymlinks;
    private final boolean dotfiles;
    private final boolean listDirs;
    private final int smallFileMax;
    private final DotfilePolicy dotPolicy;
    private final java.util.Map<String, String> mime; // --mime: lower-case extension to type

    public PathTranslator(Path root, boolean followSymlinks, boolean dotfiles, boolean listDirs, int smallFileMax) {
        this(root, followSymlinks, dotfiles, listDirs, smallFileMax, java.util.List.of("index.html"));
    }

    public PathTranslator(Path root, boolean followSymlinks, boolean dotfiles, boolean listDirs, int smallFileMax,
                          java.util.List<String> indexNames) {
        this(root, followSymlinks, dotfiles, listDirs, smallFileMax, indexNames,
                new DotfilePolicy(dotfiles, flash.config.SiteRules.DEFAULT_DOTFILES_ALLOW), java.util.Map.of());
    }

    /**
     * @param indexNames files tried in order for a directory URL (--index), dynamic ones (FastCGI's) left out
     * @param dotPolicy  which dot-names may be served (--dotfiles, --dotfiles-allow)
     * @param mime       extra media types (--mime), lower-case extension to type
     */
    public PathTranslator(Path root, boolean followSymlinks, boolean dotfiles, boolean listDirs, int smallFileMax,
                          java.util.List<String> indexNames, DotfilePolicy dotPolicy, java.util.Map<String, String> mime) {
        this.dotPolicy = dotPolicy;
        this.mime = java.util.Map.copyOf(mime);
        this.indexNames = java.util.List.copyOf(indexNames);
        try {
            this.realRoot = root.toRealPath();
        } catch (IOException e) {
            throw new IllegalArgumentException("document root " + root + " is not accessible: " + e.getMessage(), e);
        }
        this.followSymlinks = followSymlinks;
        this.dotfiles = dotfiles;
        this.listDirs = listDirs;
        this.smallFileMax = smallFileMax;
    }

    public Path root() { return realRoot; }

    public Translation translate(RequestTarget.Normalized target) {
        DiskGuard.check("translate " + target.path());
        if (!dotPolicy.allows(target)) return Translation.NOT_FOUND;
        // The normalised path is its segments joined by '/': one resolve, not a Path per segment.
        Path p = target.path().length() == 1 ? realRoot : realRoot.resolve(target.path().substring(1));
        try {
            BasicFileAttributes attrs = Files.readAttributes(p, BasicFileAttributes.class);
            Path real = p.toRealPath();
            if (!followSymlinks && !real.startsWith(realRoot)) return Translation.NOT_FOUND;
            if (attrs.isDirectory()) {
                if (!target.trailingSlash()) return new Translation.Redirect(RequestTarget.encodePath(target.path()) + "/");
                for (String name : indexNames) {
                    Path index = real.resolve(name);
                    if (Files.isRegularFile(index)) {
                        Path realIndex = index.toRealPath();
                        if (!followSymlinks && !realIndex.startsWith(realRoot)) return Translation.NOT_FOUND;
                        return open(realIndex, Files.readAttributes(realIndex, BasicFileAttributes.class));
                    }
                }
                if (listDirs) {
                    return new Translation.Listing(DirectoryListing.read(real, target.path(), realRoot, dotfiles, followSymlinks));
                }
                return Translation.NOT_FOUND;
            }
            if (!attrs.isRegularFile()) return Translation.NOT_FOUND; // never open a FIFO or a device
            if (target.trailingSlash()) return Translation.NOT_FOUND;
            return open(real, attrs);
        } catch (NoSuchFileException | NotDirectoryException e) {
            return Translation.NOT_FOUND;
        } catch (AccessDeniedException e) {
            return Translation.FORBIDDEN;
        } catch (FileSystemException e) {
            // ELOOP, ENAMETOOLONG and friends: the client named something that cannot be a file here.
            String reason = e.getReason() == null ? "" : e.getReason();
            if (reason.contains("Too many levels") || reason.contains("too long")) return Translation.NOT_FOUND;
            return new Translation.Failed(e.toString());
        } catch (IOException e) {
            return new Translation.Failed(e.toString());
        }
    }

    /**
     * {@link #translate} without waiting, for an event loop, or null where it would have to wait or is not the simple
     * case (translate it where blocking is allowed). The simple case is most misses of a site larger than the path
     * cache: a small regular file named by the URL path under the root, with no symlink on the way, every name of which
     * is in the kernel's dentry cache (openat2 with RESOLVE_CACHED fails rather than read a directory from the disk)
     * and every byte of which is in the page cache (preadv2 with RWF_NOWAIT fails rather than wait). The paper's
     * helpers translated every path because nothing could tell whether a lookup would block; RESOLVE_CACHED does, as
     * mincore did for file data. With no symlink on it, the path opened is the real path {@link #translate} would
     * find, and the entry carries the same validators. A directory, a symlink, a missing name, a large file, a file
     * changed while it was read, or a reproducible timestamp (whose ETag digests the bytes) gives null.
     */
    public Translation translateCached(RequestTarget.Normalized target) {
        if (smallFileMax < 0 || target.trailingSlash() || target.path().length() <= 1 || !dotPolicy.allows(target)) return null;
        Path real = realRoot.resolve(target.path().substring(1));
        int fd = Native.openCachedNoSymlinks(FileEntry.pathNul(real));
        if (fd < 0) return null;
        try {
            flash.sys.FileStat st = Native.stat(fd);
            if (st == null) return null; // not a regular file: a helper says what it is
            flash.sys.FileIdentity id = st.identity();
            long mtime = id.mtimeMillis();
            if (id.size() > smallFileMax || FileEntry.reproducible(mtime)) return null;
            OwnedBody owned = BodyMemory.allocateWithoutWaiting((int) id.size());
            if (owned == null) return null;
            try {
                ByteBuffer body = owned.buffer();
                // Not in memory, or shorter than fstat said (changed): null.
                if (UnheldRead.readWhole(fd, java.lang.foreign.MemorySegment.ofBuffer(body), id.size(), id.size(), false)
                        != id.size()) return null;
                if (Native.sameFile(fd, id) != 1) return null; // changed while it was read
                String type = MimeTypes.forFileName(real.getFileName().toString(), mime);
                // Owner only: the writable case of mincoreTruthful needs access(2) on the path, which may walk the disk.
                boolean truthful = st.uid() == Native.geteuid();
                FileEntry entry = new FileEntry(real, id.size(), mtime, new FileKey(id.dev(), id.ino()), type, body, null,
                        truthful, null, id, owned);
                owned = null; // the entry's now
                return new Translation.Found(entry);
            } finally {
                if (owned != null) owned.release();
            }
        } finally {
            Native.close(fd);
        }
    }

    /**
     * For {@link #translateCached} under {@code --revalidate watch}, before it: watches each name on {@code target}'s
     * path in its directory, which is what {@link #watchDependencies} records for a path with no symlink, but only in
     * directories watched already (a new watch is a blocking round trip to the JDK's poller). False when one is not,
     * or the watch's tables are busy: the caller cancels {@code watch} and translates where blocking is allowed.
     */
    public boolean watchCached(RequestTarget.Normalized target, FileWatch.Registration watch) {
        Path dir = realRoot;
        for (String name : target.segments()) {
            if (!watch.watchIfWatched(dir, name)) return false;
            dir = dir.resolve(name);
        }
        return true;
    }

    /** Symlinks followed in one walk before it gives up, as the kernel's ELOOP (40). */
    private static final int MAX_LINKS = 40;

    /**
     * For {@code --revalidate watch}: records in {@code watch} every (directory, name) that {@link #translate} reads
     * for {@code target}, resolving symlinks one hop at a time as the kernel does, so that a change to any of them
     * (the file, a directory on the way renamed, a symlink on the way or in its target's path swapped, an index file
     * created ahead of the one found, an entry of a listed directory) is an event. Each name is watched BEFORE it is
     * read: a change after this walk's read is always reported. Call it before translating. Blocking (lstat, readlink,
     * inotify_add_watch): runs where translations run. A walk that cannot watch something gives up; the entry then
     * keeps the stat bound.
     */
    public void watchDependencies(RequestTarget.Normalized target, FileWatch.Registration watch) {
        DiskGuard.check("watch " + target.path());
        if (!dotPolicy.allows(target)) return; // decided by the name alone: nothing on disk can change it
        try {
            Path end = walk(watch, realRoot, target.segments());
            if (end == null || !watch.complete() || !target.trailingSlash()) return;
            if (!Files.isDirectory(end)) return;
            for (String name : indexNames) { // as translate tries them: each one ahead of the one found matters
                Path index = walk(watch, end, java.util.List.of(name));
                if (!watch.complete()) return;
                if (index != null && Files.isRegularFile(index)) return;
            }
            if (listDirs) watch.watchAll(end);
        } catch (IOException | RuntimeException e) {
            watch.giveUp();
        }
    }

    /** The real path {@code names} lead to from {@code dir}, watching every name read; null where it stops. */
    private static Path walk(FileWatch.Registration watch, Path dir, java.util.List<String> names) throws IOException {
        java.util.ArrayDeque<String> todo = new java.util.ArrayDeque<>(names);
        Path cur = dir;
        int links = 0;
        while (!todo.isEmpty()) {
            String name = todo.pollFirst();
            if (name.isEmpty() || name.equals(".")) continue;
            if (name.equals("..")) { // only from a link's target: physical, from the real directory reached
                if (cur.getParent() != null) cur = cur.getParent();
                continue;
            }
            if (!watch.watch(cur, name)) return null;
            Path next = cur.resolve(name);
            BasicFileAttributes a;
            try {
                a = Files.readAttributes(next, BasicFileAttributes.class, java.nio.file.LinkOption.NOFOLLOW_LINKS);
            } catch (NoSuchFileException | NotDirectoryException | AccessDeniedException e) {
                return null; // the name watched says when this changes
            }
            if (a.isSymbolicLink()) {
                if (++links > MAX_LINKS) return null;
                Path target = Files.readSymbolicLink(next);
                java.util.List<String> parts = new java.util.ArrayList<>();
                for (Path part : target) parts.add(part.toString());
                for (int i = parts.size() - 1; i >= 0; i--) todo.addFirst(parts.get(i));
                if (target.isAbsolute()) cur = target.getRoot();
            } else if (a.isDirectory()) {
                cur = next;
            } else {
                return todo.isEmpty() ? next : null; // a file in the middle of a path: ENOTDIR
            }
        }
        return cur;
    }

    /** Opens a regular file; small ones are read whole into memory and closed at once. */
    private Translation open(Path real, BasicFileAttributes attrs) throws IOException {
        DiskGuard.check("open " + real);
        FileChannel ch = FileChannel.open(real, StandardOpenOption.READ);
        boolean keep = false;
        try {
            long size = ch.size();
            long mtime = attrs.lastModifiedTime().toMillis();
            Object key = attrs.fileKey();
            String type = MimeTypes.forFileName(real.getFileName().toString(), mime);
            boolean reproducible = FileEntry.reproducible(mtime);
            if (size <= smallFileMax) {
                OwnedBody owned = BodyMemory.allocate((int) size); // not zeroed: the read below fills it
                try {
                    ByteBuffer body = owned.buffer();
                    long pos = 0;
                    while (body.hasRemaining()) {
                        int n = ch.read(body, pos);
                        if (n < 0) break; // truncated since fstat: serve what is there, consistently sized
                        pos += n;
                    }
                    body.flip();
                    String digest = reproducible ? ContentDigest.of(body) : null;
                    // Taken after the read: an entry whose file changed meanwhile gets an identity that disagrees with
                    // its attributes, and so can never be served unheld (PathCache) from bytes it does not describe.
                    flash.sys.FileIdentity identity = Native.identity(Native.fd(ch));
                    // Asked here, where blocking is allowed: a loop may later send this file unheld by sendfile, after
                    // mincore on a mapping of it, which must then tell the truth (UnheldRead).
                    FileEntry entry = new FileEntry(real, body.remaining(), mtime, key, type, body, null,
                            identity != null && mincoreTruthful(real), digest, identity, owned);
                    owned = null; // the entry's now
                    return new Translation.Found(entry);
                } finally {
                    if (owned != null) owned.release();
                }
            }
            keep = true;
            boolean truthful = mincoreTruthful(real);
            String digest = reproducible ? ContentDigest.of(real, ch, key, size) : null;
            return new Translation.Found(new FileEntry(real, size, mtime, key, type, null, new FileHandle(ch, truthful), truthful, digest));
        } finally {
            if (!keep) ch.close();
        }
    }

    /**
     * The kernel's rule for mincore (mm/mincore.c, can_do_mincore): truthful only for a file the caller owns or could
     * open for writing; otherwise every page is reported resident. Capabilities are not guessed: owner or writable only.
     */
    private static boolean mincoreTruthful(Path real) {
        try {
            int euid = Native.geteuid();
            if (euid < 0) return false;
            if (Files.isWritable(real)) return true; // access(W_OK): honours a read-only mount, as the kernel does
            return ((Integer) Files.getAttribute(real, "unix:uid")) == euid;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }
}
