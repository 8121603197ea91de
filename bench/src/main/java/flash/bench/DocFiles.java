package flash.bench;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes content files of an exact size. Bytes are a fixed non-zero pattern (nothing here compresses). */
final class DocFiles {
    private static final byte[] BLOCK = new byte[64 * 1024];

    static {
        for (int i = 0; i < BLOCK.length; i++) {
            BLOCK[i] = (byte) ('a' + (i * 7 + i / 61) % 26);
        }
    }

    private DocFiles() {
    }

    static void write(Path file, long size) throws IOException {
        Files.createDirectories(file.getParent());
        if (Files.exists(file) && Files.size(file) == size) {
            return;
        }
        try (OutputStream out = Files.newOutputStream(file)) {
            long left = size;
            while (left > 0) {
                int n = (int) Math.min(left, BLOCK.length);
                out.write(BLOCK, 0, n);
                left -= n;
            }
        }
    }
}
