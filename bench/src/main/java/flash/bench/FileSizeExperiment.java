package flash.bench;

import java.io.IOException;
import java.nio.file.Path;

/** Paper Figs. 6-7: one cached file requested over and over, for sizes from 500 B to 1 MiB. */
public final class FileSizeExperiment implements Experiment {
    @Override
    public String name() {
        return "filesize";
    }

    @Override
    public void run(BenchConfig cfg, BenchLog log, PointRunner runner) throws IOException, InterruptedException {
        Path root = cfg.workDir().resolve("docroot-filesize");
        FileSizeDocRoot.create(root, cfg.fileSizes());
        try (Servers servers = Servers.start(cfg.servers(), root, cfg.workDir().resolve("srv-filesize"), cfg.jar(),
                FileSizeDocRoot.path(cfg.fileSizes().getFirst()), log)) {
            for (long size : cfg.fileSizes()) {
                Target t = Target.fixed(FileSizeDocRoot.path(size));
                runner.measure(name(), Fmt.bytes(size), size, servers.list(), t, cfg.connections(),
                        PointRunner.Options.warm(t));
            }
        }
    }
}
