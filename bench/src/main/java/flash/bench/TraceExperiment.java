package flash.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Paper Figs. 8-9 (trace replay): the NASA July 1995 log replayed in order, and a SPECweb99-style file set, both
 * from one doc root (/nasa/..., /spec/...) so one set of servers serves both.
 */
public final class TraceExperiment implements Experiment {
    @Override
    public String name() {
        return "traces";
    }

    @Override
    public void run(BenchConfig cfg, BenchLog log, PointRunner runner) throws IOException, InterruptedException {
        if (!Files.isReadable(cfg.trace())) {
            log.note("traces: trace " + cfg.trace() + " not readable, experiment skipped (use --trace)");
            return;
        }
        Path root = cfg.workDir().resolve("docroot-traces");
        Path lists = cfg.workDir().resolve("lists");
        List<ClfTrace.Request> trace = ClfTrace.read(cfg.trace(), cfg.traceRequests());
        TraceDocRoot.Built nasa = TraceDocRoot.build(trace, root.resolve("nasa"), cfg.traceMaxFileBytes());
        log.info(String.format("  NASA: %d requests over %d files, %.1f MiB (%d files over the size cap left out)",
                nasa.paths().size(), nasa.files(), nasa.bytes() / 1048576.0, nasa.skippedLarge()));
        Path nasaList = PathListScript.writeList(lists.resolve("nasa.txt"),
                nasa.paths().stream().map(p -> "/nasa" + p).toList());
        SpecWebFileSet.create(root.resolve("spec"), cfg.specDirs());
        Path specList = PathListScript.writeList(lists.resolve("specweb99.txt"),
                SpecWebFileSet.requests(cfg.specDirs(), cfg.specRequests(), true, 99).stream()
                        .map(p -> "/spec" + p).toList());
        Path script = PathListScript.script(lists);
        String probe = "/spec" + SpecWebFileSet.path(0, 0, 0);
        try (Servers servers = Servers.start(cfg.servers(), root, cfg.workDir().resolve("srv-traces"), cfg.jar(),
                probe, log)) {
            Target n = Target.list(nasaList, script);
            runner.measure(name(), "nasa", 0, servers.list(), n, cfg.connections(), PointRunner.Options.warm(n));
            Target s = Target.list(specList, script);
            runner.measure(name(), "specweb99", 1, servers.list(), s, cfg.connections(), PointRunner.Options.warm(s));
        }
    }
}
