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
    final FileEntry owner;
    private final DescriptorBudget budget;
    private volatile long lastUsedTick = DescriptorBudget.nowTick();

    KeptDescriptor(int fd, FileEntry owner, DescriptorBudget budget) {
        this.fd = fd;
        this.owner = owner;
        this.budget = budget;
    }

    /** Marks a read now; written only when the tick changed, so reads on several loops rarely share a written line. */
    void touch() {
        long t = DescriptorBudget.nowTick();
        if (lastUsedTick != t) lastUsedTick = t;
    }

    long lastUsedTick() { return lastUsedTick; }

    void release() {
        if (drop()) {
            Native.close(fd);
            budget.returned(this);
        }
    }
}
