package flash.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Paper Figs. 10-11 (data-set size, disk-bound): SPECweb99-style directories, growing from a fraction of Flash's
 * cache (--cache-mb) to many times it (--dataset-mb). Every run starts cold and the log shows it: the set is evicted
 * from the page cache before each run, with its residency counted before and after ({@link ColdCache}).
 *
 * <p>Each request list is passes over every file of the set, each pass a fresh shuffle, so a run finds nothing in
 * the page cache until it has read the whole set back. (With the SPECweb99 mix the popular small files were re-read
 * within the first second and the runs were warm: amped measured the same as sped.) The residency after each run
 * tells how much of the set it read, and a NOTE says when a run read all of it, i.e. the set was too small to stay
 * cold for the whole run.
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
                String param = String.format("%.0fMiB", mib);
                List<Path> files = SpecWebFileSet.files(root, dirs);
                List<String> paths = files.stream().map(f -> "/" + root.relativize(f).toString()
                        .replace(java.io.File.separatorChar, '/')).toList();
                Path list = PathListScript.writeList(lists.resolve("dataset-" + dirs + ".txt"),
                        SiteAccess.shuffledPasses(paths, Math.max(paths.size(), cfg.quick() ? 30_000 : 200_000),
                                7 + dirs));
                ColdCache cold = new ColdCache(name() + " " + param, files, log, cfg.dropCaches());
                log.info(String.format("  %s: %d files in %d directories", param, files.size(), dirs));
                runner.measure(name(), param, mib, servers.list(), Target.list(list, script), cfg.connections(),
                        cold.options(first ? warm : null));
                cold.summarize();
                first = false;
            }
        }
    }
}
