package flash.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The "site larger than the caches": many files of a few tens of KiB (/site/dNNN/fNNNNNN.html, 100 per directory),
 * sizes drawn uniformly between a minimum and a maximum with a fixed seed so every run builds the same site.
 */
public final class BigSite {
    static final int FILES_PER_DIR = 100;

    /** The generated site: request paths, their files, and the total size. */
    public record Built(List<String> paths, List<Path> files, long bytes) {
    }

    private BigSite() {
    }

    public static String path(int i) {
        return String.format("/site/d%03d/f%06d.html", i / FILES_PER_DIR, i);
    }

    /** File sizes in bytes, reproducible from the seed; minKb..maxKb inclusive, any byte count in between. */
    static long[] sizes(int files, int minKb, int maxKb, long seed) {
        Random rnd = new Random(seed);
        long lo = minKb * 1024L;
        long span = (maxKb - minKb) * 1024L + 1;
        long[] out = new long[files];
        for (int i = 0; i < files; i++) {
            out[i] = lo + (long) (rnd.nextDouble() * span);
        }
        return out;
    }

    public static Built create(Path root, int files, int minKb, int maxKb) throws IOException {
        long[] sizes = sizes(files, minKb, maxKb, 20_000);
        List<String> paths = new ArrayList<>(files);
        List<Path> written = new ArrayList<>(files);
        long bytes = 0;
        for (int i = 0; i < files; i++) {
            String p = path(i);
            Path f = root.resolve(p.substring(1));
            DocFiles.write(f, sizes[i]);
            paths.add(p);
            written.add(f);
            bytes += sizes[i];
        }
        return new Built(paths, written, bytes);
    }
}
