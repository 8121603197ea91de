package flash.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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
 *
 * <p>Each server has its own copy of the set. With one shared copy the first smoke test showed 94% of a 15 MiB set
 * still resident after eviction before nginx's run: Flash had it mapped (eviction cannot drop mapped pages), and
 * AMPED's helpers went on faulting files in after wrk had stopped. Copies keep that inside Flash's own runs, where
 * it is Flash's cache doing its job.
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
        // One copy of the set per server: see ColdCache (a server's mapped pages would warm the next one's run).
        Map<String, Path> roots = new LinkedHashMap<>();
        for (ServerSpec spec : specs) {
            Path r = root.resolve(Servers.dirName(spec.label()));
            SpecWebFileSet.create(r, maxDirs);
            DocFiles.write(r.resolve("warm.html"), 1024);
            roots.put(spec.label(), r);
        }
        log.info(String.format("  %d copies of the largest set (%.0f MiB each), one per server, under %s",
                roots.size(), maxDirs * SpecWebFileSet.bytesPerDir() / 1048576.0, root));
        // warm the JIT on a file outside the data set, so warm-up does not pre-load the cache under test
        Target warm = Target.fixed("/warm.html");
        try (Servers servers = Servers.start(specs, spec -> roots.get(spec.label()),
                cfg.workDir().resolve("srv-dataset"), cfg.jar(), "/warm.html", log)) {
            boolean first = true;
            for (int i = 0; i < dirsPerPoint.size(); i++) {
                int dirs = dirsPerPoint.get(i);
                double mib = dirs * SpecWebFileSet.bytesPerDir() / 1048576.0;
                String param = String.format("%.0fMiB", mib);
                Map<String, List<Path>> files = new HashMap<>();
                roots.forEach((label, r) -> files.put(label, SpecWebFileSet.files(r, dirs)));
                List<String> paths = new ArrayList<>();
                for (int d = 0; d < dirs; d++) {
                    for (int c = 0; c < SpecWebFileSet.CLASSES; c++) {
                        for (int f = 0; f < SpecWebFileSet.FILES_PER_CLASS; f++) {
                            paths.add(SpecWebFileSet.path(d, c, f));
                        }
                    }
                }
                Path list = PathListScript.writeList(lists.resolve("dataset-" + dirs + ".txt"),
                        SiteAccess.shuffledPasses(paths, Math.max(paths.size(), cfg.quick() ? 30_000 : 200_000),
                                7 + dirs));
                ColdCache cold = new ColdCache(name() + " " + param, server -> files.get(server.label()), log,
                        cfg.dropCaches());
                log.info(String.format("  %s: %d files in %d directories", param, paths.size(), dirs));
                runner.measure(name(), param, mib, servers.list(), Target.list(list, script), cfg.connections(),
                        cold.options(first ? warm : null));
                cold.summarize();
                first = false;
            }
        }
    }
}
