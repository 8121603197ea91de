package flash.content;

/**
 * A file's device and inode, for an entry translated from an fstat(2) ({@link PathTranslator#translateCached}) rather
 * than from {@code BasicFileAttributes}. Its hash is the JDK's {@code fileKey()} hash of the same file, so the file's
 * ETag (made from that hash) is the same whichever way it was translated. It is not equal to the JDK's key: the caches
 * keyed by file (compressed variants) may then hold a small file twice, never serve one for another.
 */
record FileKey(long dev, long ino) {
    @Override
    public int hashCode() { return (int) (dev ^ (dev >>> 32)) + (int) (ino ^ (ino >>> 32)); }

    @Override
    public String toString() { return "(dev=" + Long.toHexString(dev) + ",ino=" + ino + ")"; }
}
