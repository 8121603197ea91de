package flash.sys;

/**
 * What fstat(2) says makes a regular file the one that was read: device and inode (the same file, not one renamed
 * over it), size, and modification and change times to the nanosecond (not changed in place since). A file that
 * matches all of them has the content that was read then, short of a writer that restores both times.
 */
public record FileIdentity(long dev, long ino, long size, long mtimeNanos, long ctimeNanos) {
    /** The modification time in whole milliseconds, as {@code BasicFileAttributes} reports it. */
    public long mtimeMillis() { return Math.floorDiv(mtimeNanos, 1_000_000L); }
}
