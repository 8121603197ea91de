package flash.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * SPECweb99-style static file set: each directory holds 4 classes x 9 files (class c, file i has
 * 1024 * 10^(c-1) * (i+1) bytes: 102-921 B, 1-9 KiB, 10-90 KiB, 100-900 KiB). Requests pick a directory (Zipf
 * alpha=1 as in SPECweb99, or uniformly when every byte of the set should be touched), a class by the mix
 * 35/50/14/1 %, and a file within the class by Zipf alpha=1.
 */
public final class SpecWebFileSet {
    public static final int CLASSES = 4;
    public static final int FILES_PER_CLASS = 9;
    public static final double[] CLASS_MIX = {0.35, 0.50, 0.14, 0.01};

    private SpecWebFileSet() {
    }

    public static long size(int cls, int file) {
        return (long) Math.floor(1024 * Math.pow(10, cls - 1) * (file + 1));
    }

    /** Bytes in one directory (about 5.1 MB). */
    public static long bytesPerDir() {
        long sum = 0;
        for (int c = 0; c < CLASSES; c++) {
            for (int f = 0; f < FILES_PER_CLASS; f++) {
                sum += size(c, f);
            }
        }
        return sum;
    }

    public static String path(int dir, int cls, int file) {
        return String.format("/dir%05d/class%d_%d", dir, cls, file);
    }

    public static void create(Path root, int dirs) throws IOException {
        for (int d = 0; d < dirs; d++) {
            for (int c = 0; c < CLASSES; c++) {
                for (int f = 0; f < FILES_PER_CLASS; f++) {
                    DocFiles.write(root.resolve(path(d, c, f).substring(1)), size(c, f));
                }
            }
        }
    }

    /** Every file of the first {@code dirs} directories, e.g. to evict them from the page cache. */
    public static List<Path> files(Path root, int dirs) {
        List<Path> out = new ArrayList<>();
        for (int d = 0; d < dirs; d++) {
            for (int c = 0; c < CLASSES; c++) {
                for (int f = 0; f < FILES_PER_CLASS; f++) {
                    Path p = root.resolve(path(d, c, f).substring(1));
                    if (Files.exists(p)) {
                        out.add(p);
                    }
                }
            }
        }
        return out;
    }

    /** A reproducible request sequence over the first {@code dirs} directories. */
    public static List<String> requests(int dirs, int count, boolean zipfDirs, long seed) {
        Random rnd = new Random(seed);
        double[] dirCdf = zipfDirs ? zipfCdf(dirs, 1.0) : uniformCdf(dirs);
        double[] classCdf = cdf(CLASS_MIX);
        double[] fileCdf = zipfCdf(FILES_PER_CLASS, 1.0);
        List<String> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(path(pick(dirCdf, rnd), pick(classCdf, rnd), pick(fileCdf, rnd)));
        }
        return out;
    }

    static double[] zipfCdf(int n, double alpha) {
        double[] w = new double[n];
        for (int i = 0; i < n; i++) {
            w[i] = 1.0 / Math.pow(i + 1, alpha);
        }
        return cdf(w);
    }

    private static double[] uniformCdf(int n) {
        double[] w = new double[n];
        java.util.Arrays.fill(w, 1.0);
        return cdf(w);
    }

    static double[] cdf(double[] weights) {
        double total = 0;
        for (double w : weights) {
            total += w;
        }
        double[] c = new double[weights.length];
        double acc = 0;
        for (int i = 0; i < weights.length; i++) {
            acc += weights[i] / total;
            c[i] = acc;
        }
        c[c.length - 1] = 1.0;
        return c;
    }

    static int pick(double[] cdf, Random rnd) {
        double u = rnd.nextDouble();
        int lo = 0;
        int hi = cdf.length - 1;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (cdf[mid] < u) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }
}
