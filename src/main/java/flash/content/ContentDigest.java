package flash.content;

import flash.sys.DiskGuard;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A content-derived ETag component for files whose mtime says nothing (0 or 1, as reproducible builds set it): the
 * first 64 bits of the content's SHA-256, as hex. With mtime and size equal, an in-place rewrite of the same length
 * keeps inode, mtime and size, so only the content can tell the two versions apart.
 *
 * <p>It runs where path translation runs (a helper under amped, never a loop). A small file is hashed from the copy
 * the translator just read. A large one is read once and its digest remembered by (file key, size, ctime): any
 * write changes the ctime, which no one can set back, so a remembered digest is never stale; the path cache's
 * one-second revalidation then costs a stat, not a re-read.
 */
final class ContentDigest {
    private static final int REMEMBERED = 1024;
    private static final ConcurrentHashMap<Key, String> LARGE = new ConcurrentHashMap<>();

    private record Key(Object fileKey, long size, long ctimeNanos) {}

    private ContentDigest() {}

    /** The digest of an in-memory copy (position and limit untouched). */
    static String of(ByteBuffer body) {
        MessageDigest md = sha256();
        md.update(body.duplicate());
        return hex(md.digest());
    }

    /** The digest of a whole open file; remembered while the file is unchanged. */
    static String of(Path real, FileChannel ch, Object fileKey, long size) throws IOException {
        DiskGuard.check("digest " + real);
        FileTime ctime = (FileTime) Files.getAttribute(real, "unix:ctime");
        java.time.Instant t = ctime.toInstant();
        Key key = fileKey == null ? null : new Key(fileKey, size, t.getEpochSecond() * 1_000_000_000L + t.getNano());
        String d = key == null ? null : LARGE.get(key);
        if (d != null) return d;
        MessageDigest md = sha256();
        ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
        long pos = 0;
        while (pos < size) {
            buf.clear();
            int n = ch.read(buf, pos);
            if (n < 0) break;
            buf.flip();
            md.update(buf);
            pos += n;
        }
        d = hex(md.digest());
        if (key != null) {
            if (LARGE.size() >= REMEMBERED) LARGE.clear(); // rare (a tree of many large files with mtime 1): start over
            LARGE.put(key, d);
        }
        return d;
    }

    private static String hex(byte[] digest) { return HexFormat.of().formatHex(digest, 0, 8); }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
