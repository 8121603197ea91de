package flash.bench;

import java.nio.file.Path;
import java.util.List;

/** The resolved options of one bench run; experiments read their sizes and counts from here. */
public record BenchConfig(boolean quick, List<String> experiments, List<ServerSpec> servers, int durationS,
                          int repeats, int connections, List<Integer> connectionLevels, int warmupS, int cacheMb,
                          Path jar, Path trace, Path outDir, Path workDir, int siteFiles, int siteMinKb,
                          int siteMaxKb, List<Integer> dataSetMbOverride, boolean dropCaches) {

    public List<Long> fileSizes() {
        return quick ? FileSizeDocRoot.QUICK_SIZES : FileSizeDocRoot.FULL_SIZES;
    }

    /** NASA requests replayed; quick mode keeps the doc root small and quick to write. */
    public int traceRequests() {
        return quick ? 60_000 : Integer.MAX_VALUE;
    }

    public long traceMaxFileBytes() {
        return quick ? 1L << 20 : 16L << 20;
    }

    public int specDirs() {
        return quick ? 10 : 40;
    }

    public int specRequests() {
        return quick ? 20_000 : 100_000;
    }

    /**
     * Data-set sizes in MiB (--dataset-mb, else from a quarter of Flash's cache to 16 times it). The largest sets
     * are there so that a run cannot read the whole set back from the disk before it ends (the after-run
     * residency check says whether one did).
     */
    public List<Integer> dataSetMb() {
        if (dataSetMbOverride != null) {
            return dataSetMbOverride;
        }
        return quick ? List.of(cacheMb / 4, cacheMb, cacheMb * 4, cacheMb * 16)
                : List.of(cacheMb / 4, cacheMb / 2, cacheMb, cacheMb * 2, cacheMb * 4, cacheMb * 8, cacheMb * 16);
    }

    /** Requests in each path list of the big-site experiment: enough that wrk seldom wraps around. */
    public int siteRequests() {
        return Math.max(quick ? 100_000 : 200_000, 4 * siteFiles);
    }
}
