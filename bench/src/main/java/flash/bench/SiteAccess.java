package flash.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Request sequences over a set of paths for wrk to replay ({@link PathListScript}): uniform random order, or Zipf
 * popularity. Both are generated here, with a fixed seed, rather than drawn in Lua, so a run is reproducible and the
 * distribution is the one the unit tests check.
 */
public final class SiteAccess {
    /** SPECweb99's file popularity: the k-th most popular file is asked for in proportion to 1/k. */
    public static final double ZIPF_ALPHA = 1.0;

    private SiteAccess() {
    }

    /**
     * Uniform random access as passes over the set, each pass a fresh shuffle: every file is asked for once before
     * any is asked for again. After an eviction the first pass therefore misses the page cache on every request,
     * where drawing with replacement would repeat files (and hit) long before the set had been read once.
     */
    public static List<String> shuffledPasses(List<String> paths, int count, long seed) {
        require(paths, count);
        Random rnd = new Random(seed);
        List<String> out = new ArrayList<>(count);
        List<String> pass = new ArrayList<>(paths);
        while (out.size() < count) {
            Collections.shuffle(pass, rnd);
            out.addAll(pass.subList(0, Math.min(pass.size(), count - out.size())));
        }
        return out;
    }

    /**
     * Zipf(alpha) access: ranks are given to the paths in a random order (so popularity has nothing to do with the
     * name or the directory), then each request draws a rank from the Zipf distribution.
     */
    public static List<String> zipf(List<String> paths, int count, double alpha, long seed) {
        require(paths, count);
        Random rnd = new Random(seed);
        List<String> byRank = new ArrayList<>(paths);
        Collections.shuffle(byRank, rnd);
        double[] cdf = SpecWebFileSet.zipfCdf(byRank.size(), alpha);
        List<String> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(byRank.get(SpecWebFileSet.pick(cdf, rnd)));
        }
        return out;
    }

    private static void require(List<String> paths, int count) {
        if (paths.isEmpty() || count < 0) {
            throw new IllegalArgumentException("need at least one path and a non-negative count");
        }
    }
}
