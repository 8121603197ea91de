package flash.bench;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Paper Fig. 13 in spirit (many simultaneous clients): persistent connections from 10 to 10,000 on one cached
 * 1 KiB file; throughput, p99 latency and the server's memory per connection.
 */
public final class ConcurrencyExperiment implements Experiment {
    @Override
    public String name() {
        return "concurrency";
    }

    @Override
    public void run(BenchConfig cfg, BenchLog log, PointRunner runner) throws IOException, InterruptedException {
        Path root = cfg.workDir().resolve("docroot-concurrency");
        DocFiles.write(root.resolve("c/1k.bin"), 1024);
        Target t = Target.fixed("/c/1k.bin");
        try (Servers servers = Servers.start(cfg.servers(), root, cfg.workDir().resolve("srv-concurrency"), cfg.jar(),
                "/c/1k.bin", log)) {
            for (int c : cfg.connectionLevels()) {
                runner.measure(name(), Integer.toString(c), c, servers.list(), t, c, PointRunner.Options.warm(t));
            }
        }
    }
}
