package flash.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Paper Fig. 12 (cache ablation): Flash AMPED with each of the 8 on/off combinations of its pathname,
 * response-header and file caches, on many small files so every cache has work to do.
 */
public final class AblationExperiment implements Experiment {
    static final int FILES = 2000;
    static final long[] SIZES = {512, 1024, 2048, 4096, 8192};

    @Override
    public String name() {
        return "ablation";
    }

    /** All 8 combinations, all caches on first, none last. */
    static List<ServerSpec> combinations() {
        List<ServerSpec> out = new ArrayList<>();
        for (int off = 0; off < 8; off++) {
            boolean path = (off & 1) == 0;
            boolean header = (off & 2) == 0;
            boolean file = (off & 4) == 0;
            List<String> args = new ArrayList<>();
            List<String> on = new ArrayList<>();
            if (path) {
                on.add("path");
            } else {
                args.add("--no-path-cache");
            }
            if (header) {
                on.add("header");
            } else {
                args.add("--no-header-cache");
            }
            if (file) {
                on.add("file");
            } else {
                args.add("--no-file-cache");
            }
            String label = on.isEmpty() ? "none" : String.join("+", on);
            out.add(ServerSpec.flash("amped", args).withLabel(label));
        }
        return out;
    }

    @Override
    public void run(BenchConfig cfg, BenchLog log, PointRunner runner) throws IOException, InterruptedException {
        if (cfg.servers().stream().noneMatch(ServerSpec::isFlash)) {
            log.note("ablation: needs --servers flash; skipped");
            return;
        }
        Path root = cfg.workDir().resolve("docroot-ablation");
        List<String> paths = new ArrayList<>();
        for (int i = 0; i < FILES; i++) {
            String p = String.format("/small/d%02d/f%04d.html", i % 50, i);
            DocFiles.write(root.resolve(p.substring(1)), SIZES[i % SIZES.length]);
            paths.add(p);
        }
        Random rnd = new Random(12);
        List<String> seq = new ArrayList<>();
        for (int i = 0; i < 50_000; i++) {
            seq.add(paths.get(rnd.nextInt(paths.size())));
        }
        Path lists = cfg.workDir().resolve("lists");
        Target t = Target.list(PathListScript.writeList(lists.resolve("ablation.txt"), seq), PathListScript.script(lists));
        try (Servers servers = Servers.start(combinations(), root, cfg.workDir().resolve("srv-ablation"), cfg.jar(),
                paths.getFirst(), log)) {
            runner.measure(name(), "small-files", 0, servers.list(), t, cfg.connections(), PointRunner.Options.warm(t));
        }
    }
}
