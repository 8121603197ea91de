package flash.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Paper Figs. 10-11 (data-set size, disk-bound): SPECweb99-style directories requested uniformly so the whole
 * set is the working set, growing from a fraction of Flash's cache (--cache-mb) to several times it. The page
 * cache is emptied of the data set before every run, so each run starts cold and the servers that block on the
 * disk (SPED, nginx without aio) show it.
 */
public final class DataSetExperiment implements Experiment {
    @Override
    public String name() {
        return "dataset";
    }

    @Override
    public void run(BenchConfig cfg, BenchLog log, PointRunner runner) throws IOException, InterruptedException {
        Path root = cfg.workDir().resolve("docroot-dataset");
        List<Integer> dirsPerPoint = new ArrayList<>();
        for (int mb : cfg.dataSetMb()) {
            dirsPerPoint.add((int) Math.max(1, Math.round(mb * 1048576.0 / SpecWebFileSet.bytesPerDir())));
        }
        int maxDirs = dirsPerPoint.stream().mapToInt(Integer::intValue).max().orElse(1);
        SpecWebFileSet.create(root, maxDirs);
        DocFiles.write(root.resolve("warm.html"), 1024);
        List<Path> all = SpecWebFileSet.files(root, maxDirs);
        Path lists = cfg.workDir().resolve("lists");
        Path script = PathListScript.script(lists);

        List<ServerSpec> specs = new ArrayList<>();
        for (ServerSpec s : cfg.servers()) {
            if (s.isFlash()) {
                specs.add(s.withFlashArgs(List.of("--cache-mb", Integer.toString(cfg.cacheMb()))));
            } else if (s.label().equals("nginx")) {
                // quick mode keeps only the aio variant: the one that, like AMPED, keeps disk waits off its loop
                if (!cfg.quick()) {
                    specs.add(s);
                }
                specs.add(ServerSpec.nginx(true));
            } else {
                specs.add(s);
            }
        }
        // warm the JIT on a file outside the data set, so warm-up does not pre-load the cache under test
        Target warm = Target.fixed("/warm.html");
        try (Servers servers = Servers.start(specs, root, cfg.workDir().resolve("srv-dataset"), cfg.jar(),
                "/warm.html", log)) {
            boolean first = true;
            for (int i = 0; i < dirsPerPoint.size(); i++) {
                int dirs = dirsPerPoint.get(i);
                double mib = dirs * SpecWebFileSet.bytesPerDir() / 1048576.0;
                Path list = PathListScript.writeList(lists.resolve("dataset-" + dirs + ".txt"),
                        SpecWebFileSet.requests(dirs, cfg.quick() ? 30_000 : 200_000, false, 7 + dirs));
                PointRunner.Options opts = new PointRunner.Options(first ? warm : null,
                        () -> PageCache.evict(all), false);
                runner.measure(name(), String.format("%.0fMiB", mib), mib, servers.list(),
                        Target.list(list, script), cfg.connections(), opts);
                first = false;
            }
        }
    }
}
