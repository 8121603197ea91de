package flash.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** One file per size for the file-size sweep (the paper's Figures 6 and 7): /size/NNN.bin. */
public final class FileSizeDocRoot {
    /**
     * 16 KiB and 100 KiB (issue #11) bracket Flash's in-memory limit of 64 KiB: below it a body is copied into
     * memory and leaves with its header in one write, above it the body is sent from a mapping, so --quick has a
     * point on each side of the switch.
     */
    public static final List<Long> FULL_SIZES = List.of(500L, 1024L, 2048L, 5 * 1024L, 10 * 1024L, 16 * 1024L,
            20 * 1024L, 50 * 1024L, 100 * 1024L, 200 * 1024L, 500 * 1024L, 1024 * 1024L);
    public static final List<Long> QUICK_SIZES = List.of(500L, 5 * 1024L, 16 * 1024L, 50 * 1024L, 100 * 1024L,
            1024 * 1024L);

    private FileSizeDocRoot() {
    }

    public static String path(long size) {
        return "/size/" + size + ".bin";
    }

    public static void create(Path root, List<Long> sizes) throws IOException {
        for (long s : sizes) {
            DocFiles.write(root.resolve("size").resolve(s + ".bin"), s);
        }
    }
}
