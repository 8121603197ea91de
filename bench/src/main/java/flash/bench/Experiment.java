package flash.bench;

import java.io.IOException;

/** One of the paper's experiments: builds its doc root, starts its servers, and measures its points. */
public interface Experiment {
    String name();

    void run(BenchConfig cfg, BenchLog log, PointRunner runner) throws IOException, InterruptedException;

    static Experiment byName(String name) {
        return switch (name) {
            case "filesize" -> new FileSizeExperiment();
            case "traces" -> new TraceExperiment();
            case "dataset" -> new DataSetExperiment();
            case "bigsite" -> new BigSiteExperiment();
            case "ablation" -> new AblationExperiment();
            case "concurrency" -> new ConcurrencyExperiment();
            default -> throw new IllegalArgumentException("unknown experiment '" + name + "'");
        };
    }
}
