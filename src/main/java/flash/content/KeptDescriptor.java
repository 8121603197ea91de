package flash.content;

import flash.sys.Native;

/**
 * An unheld entry's file, kept open between requests so that serving it costs an fstat and a read (a read alone when
 * the entry is watched: UnheldRead.Check) instead of an openat2, an fstat, a read and a close (issue #11: on a warm
 * site larger than the byte budget, openat2 and close were an eighth of the loop; docs/performance.md section 20).
 * lighttpd's stat cache keeps descriptors the same way.
 *
 * <p>Reference counted as {@link FileHandle} is: the entry holds one reference, each read one more, and the descriptor
 * is closed by whoever drops the last, so a read racing the entry's eviction (or a shedding, {@link DescriptorBudget})
 * never uses a closed or reused descriptor. Closing a read-only regular file does not wait for the disk, except the
 * last close of a deleted one, which frees its blocks: such an entry's read fails its fstat (the unlink changed the
 * ctime), or the watch reports the deletion, so the entry is dropped by the helper that translates it again, or by the
 * watch thread, or, idle, by the budget's sweeper, and a loop makes that close only if it was reading the file just
 * then.
 */
final class KeptDescriptor extends RefCount {
    final int fd;
    /**
     * The same open file as a {@link FileHandle}, for a connection that sends bodies by sendfile: a response's file
     * region and AMPED's residency mapping need one. Null for a descriptor kept for reads only ({@code fd} is then
     * the raw descriptor this closes).
     */
    final FileHandle handle;
    final FileEntry owner;
    private final DescriptorBudget budget;
    private volatile long lastUsedTick = DescriptorBudget.nowTick();

    /** @param handle the file as a handle, whose descriptor {@code fd} is (one reference, released by this); or null */
    KeptDescriptor(int fd, FileHandle handle, FileEntry owner, DescriptorBudget budget) {
        this.fd = fd;
        this.handle = handle;
        this.owner = owner;
        this.budget = budget;
    }

    /**
     * {@code fd} (open on {@code owner}'s file, found to be it by fstat) as a {@link FileHandle}, which then owns it;
     * or null, and the caller still owns {@code fd}. The handle's channel is made over {@code fd} itself
     * ({@link Native#adoptReadOnly}), with no system call; only where JDK internals are closed is the file opened again
     * ({@link #reopen}). The reopen was a fifth of the system calls of a site whose kept descriptors churn
     * (docs/performance.md section 43).
     */
    static FileHandle handle(int fd, FileEntry owner) {
        java.nio.channels.FileChannel ch = Native.adoptReadOnly(fd, null); // no path: it only names JFR's events
        if (ch != null) return new FileHandle(ch, owner.mincoreTruthful());
        FileHandle h = reopen(fd, owner);
        if (h != null) Native.close(fd); // the handle's own descriptor is the one kept
        return h;
    }

    /**
     * {@code fd} (open on {@code owner}'s file) opened again as a {@link FileHandle}, or null. The JDK makes no
     * channel from a descriptor number through its API, but {@code /proc/self/fd/N} reopens the very file {@code fd}
     * refers to, whatever became of its path since; fstat confirms it. Once per kept file, on the thread that keeps it:
     * procfs and an inode already open. On a loop this follows an openat2 with RESOLVE_CACHED that succeeded, which it
     * does not on file systems that revalidate names remotely (NFS, FUSE), whose open could wait. The caller still owns
     * {@code fd}.
     */
    static FileHandle reopen(int fd, FileEntry owner) {
        java.nio.channels.FileChannel ch;
        try {
            ch = java.nio.channels.FileChannel.open(java.nio.file.Path.of("/proc/self/fd/" + fd),
                    java.nio.file.StandardOpenOption.READ);
        } catch (java.io.IOException | RuntimeException e) {
            return null; // no procfs, or no descriptor left: the reads keep the raw descriptor
        }
        int again = Native.fd(ch);
        if (again < 0 || Native.sameFile(again, owner.identity()) != 1) {
            try {
                ch.close();
            } catch (java.io.IOException ignored) {
                // a read-only descriptor closes without losing anything
            }
            return null;
        }
        return new FileHandle(ch, owner.mincoreTruthful());
    }

    /** Marks a read now; written only when the tick changed, so reads on several loops rarely share a written line. */
    void touch() {
        long t = DescriptorBudget.nowTick();
        if (lastUsedTick != t) lastUsedTick = t;
    }

    long lastUsedTick() { return lastUsedTick; }

    /** Tests age it: its last read {@code ticks} ticks ago. */
    void lastUsedTicksAgo(long ticks) { lastUsedTick = DescriptorBudget.nowTick() - ticks; }

    void release() {
        if (drop()) {
            // A handle closes once the responses still sending from it are done, too (each holds a reference).
            if (handle != null) handle.release();
            else Native.close(fd);
            budget.returned(this);
        }
    }
}
