package flash.compress;

import com.github.luben.zstd.Zstd;
import flash.content.FileEntry;
import flash.sys.DiskGuard;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * Compresses a whole file into a direct buffer (sent by the loop with its head in one gathering write). Blocking:
 * it may read the file and it is milliseconds of CPU for a large page, so it runs where the architecture runs
 * blocking work (a helper under AMPED), never on an event loop; the loop guard says so under test.
 */
final class Compressor {
    private Compressor() {}

    /** The file's bytes compressed with {@code coding} at {@code level}. */
    static ByteBuffer compress(FileEntry e, Coding coding, int level) throws IOException {
        DiskGuard.check("compress " + e.path());
        ByteBuffer input = contents(e);
        return switch (coding) {
            case GZIP -> gzip(input, level);
            case ZSTD -> zstd(input, level);
            case BR -> throw new IllegalArgumentException("brotli is served from precompressed files only");
        };
    }

    /** The whole file: the in-memory copy, or read from the open file into a direct buffer. */
    private static ByteBuffer contents(FileEntry e) throws IOException {
        ByteBuffer mem = e.body();
        if (mem != null) return mem;
        ByteBuffer buf = ByteBuffer.allocateDirect(Math.toIntExact(e.size()));
        FileChannel ch = e.handle().channel();
        long pos = 0;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos);
            // Truncated since it was opened: compressing a prefix would serve a body that never existed.
            if (n < 0) throw new IOException(e.path() + " shrank while it was compressed");
            pos += n;
        }
        return buf.flip();
    }

    /** RFC 1952: a 10-byte header (no name, no time: the same bytes every time), raw deflate, CRC-32 and length. */
    static ByteBuffer gzip(ByteBuffer input, int level) {
        int length = input.remaining();
        CRC32 crc = new CRC32();
        crc.update(input.duplicate());
        Deflater d = new Deflater(level, true);
        try {
            d.setInput(input.duplicate());
            d.finish();
            byte[] out = new byte[Math.max(64, length / 3 + 64)];
            int n = 10;
            out[0] = 0x1f;
            out[1] = (byte) 0x8b;
            out[2] = 8;                       // deflate
            out[8] = (byte) (level == 9 ? 2 : level == 1 ? 4 : 0); // XFL: slowest or fastest, as gzip(1) marks it
            out[9] = 3;                       // OS: Unix
            while (!d.finished()) {
                if (n == out.length) out = java.util.Arrays.copyOf(out, out.length * 2);
                n += d.deflate(out, n, out.length - n);
            }
            ByteBuffer b = ByteBuffer.allocateDirect(n + 8).order(ByteOrder.LITTLE_ENDIAN);
            b.put(out, 0, n).putInt((int) crc.getValue()).putInt(length); // ISIZE is the length mod 2^32
            return b.flip().order(ByteOrder.BIG_ENDIAN);
        } finally {
            d.end();
        }
    }

    static ByteBuffer zstd(ByteBuffer input, int level) {
        ByteBuffer src = input;
        if (!src.isDirect()) {
            src = ByteBuffer.allocateDirect(input.remaining()).put(input.duplicate()).flip();
        }
        return Zstd.compress(src, level);
    }
}
