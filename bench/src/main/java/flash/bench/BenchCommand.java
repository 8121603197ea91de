package flash.bench;

import flash.cli.Subcommand;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * `flash bench`: reproduces the paper's experiments against Flash, nginx and lighttpd and writes a report. It lives
 * in the bench module, outside the server jar; `flash.cli.FlashMain` finds it as a {@link flash.cli.Subcommand}
 * service (META-INF/services) when the launcher puts bench/target/flash-bench.jar on the class path.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Run the Flash paper's experiments (file size, traces, cold data-set size, a site larger "
                + "than the caches, cache ablation, connections) against Flash, nginx and lighttpd, pinned to "
                + "separate cores, and write CSV, "
                + "summary.md and PNG plots to bench/results/<timestamp>/ (also copied to bench/results/latest/)."})
public final class BenchCommand implements Callable<Integer>, Subcommand {
    static final List<String> ALL_EXPERIMENTS = List.of("filesize", "traces", "dataset", "bigsite", "ablation",
            "concurrency");
    static final List<String> ALL_ARCHS = List.of("amped", "sped", "mt", "vt", "mp");
    static final List<String> ALL_SERVERS = List.of("flash", "nginx", "lighttpd");
    /** The trace ships in the workspace's shared/ folder, beside the repository (../shared from the repo root). */
    static final Path DEFAULT_TRACE = defaultTrace();

    private static Path defaultTrace() {
        String name = "NASA_access_log_Jul95.first267818.gz";
        for (Path p : new Path[] {Path.of("..", "shared", "traces", name), Path.of("/work/shared/traces", name)}) {
            if (java.nio.file.Files.isRegularFile(p)) return p.toAbsolutePath().normalize();
        }
        return Path.of("..", "shared", "traces", name);
    }

    @Spec
    CommandSpec spec;

    @Option(names = "--quick", description = "Whole run in about 12 minutes: fewer points, 2 s runs, small data sets, "
            + "archs amped,sped unless --archs is given.")
    boolean quick;

    @Option(names = "--experiments", split = ",", paramLabel = "LIST",
            description = "Subset of ${DEFAULT-VALUE}.",
            defaultValue = "filesize,traces,dataset,bigsite,ablation,concurrency")
    List<String> experiments;

    @Option(names = "--archs", split = ",", paramLabel = "LIST",
            description = "Flash architectures: amped,sped,mt,vt,mp (default: all; --quick: amped,sped).")
    List<String> archs;

    @Option(names = "--servers", split = ",", paramLabel = "LIST", defaultValue = "flash,nginx,lighttpd",
            description = "Servers to compare (default: ${DEFAULT-VALUE}).")
    List<String> servers;

    @Option(names = "--duration", paramLabel = "SECONDS", description = "Seconds per run (default 10; --quick 2).")
    Integer duration;

    @Option(names = "--repeats", paramLabel = "N", defaultValue = "3", description = "Runs per point (default 3).")
    int repeats;

    @Option(names = "--connections", paramLabel = "N", defaultValue = "50",
            description = "Persistent connections for all experiments but the connection sweep (default 50).")
    int connections;

    @Option(names = "--conn-levels", split = ",", paramLabel = "LIST",
            description = "Connection counts of the concurrency sweep (default 10,30,100,300,1000,3000,10000; --quick 10,1000,10000).")
    List<Integer> connLevels;

    @Option(names = "--warmup", paramLabel = "SECONDS", description = "Warm-up per server and point (default 3; --quick 2).")
    Integer warmup;

    @Option(names = "--cache-mb", paramLabel = "MB", description = "Flash's cache in the data-set experiment "
            + "(default 64; --quick 16); data sets range from 1/4 of it to 16 times it.")
    Integer cacheMb;

    @Option(names = "--dataset-mb", split = ",", paramLabel = "LIST", description = "Data-set sizes (MiB) of the "
            + "cold-cache experiment (default: 1/4 of --cache-mb to 16 times it). Make the largest bigger than what "
            + "one run can read back from the disk: the log's residency check says whether a run did.")
    List<Integer> dataSetMbList;

    @Option(names = "--site-files", paramLabel = "N", description = "Files of the big-site experiment (default "
            + "20000; --quick 8000): more bytes than Flash's caches keep (a quarter of --cache-mb for small files).")
    Integer siteFiles;

    @Option(names = "--site-kb", split = ",", paramLabel = "MIN,MAX", description = "Size range of the big site's "
            + "files in KiB, drawn uniformly (default 16,32: 20000 files make about 470 MiB).")
    List<Integer> siteKb;

    @Option(names = "--drop-caches", description = "After evicting a cold set file by file, also write 1 to "
            + "/proc/sys/vm/drop_caches (root only; empties the whole machine's clean page cache). Without "
            + "permission the run goes on with per-file eviction and says so.")
    boolean dropCaches;

    @Option(names = "--jar", paramLabel = "PATH", defaultValue = "target/flash.jar", description = "Flash jar (default ${DEFAULT-VALUE}).")
    Path jar;

    @Option(names = "--trace", paramLabel = "FILE", description = "NASA CLF trace, plain or .gz (default ../shared/traces/NASA_access_log_Jul95.first267818.gz).")
    Path trace;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "bench/results", description = "Results parent directory (default ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--workdir", paramLabel = "DIR", description = "Where doc roots and server configs go; kept and "
            + "reused when given (default: a temp dir, deleted afterwards).")
    Path workdir;

    public static void main(String[] args) {
        CommandLine cl = new CommandLine(new BenchCommand());
        cl.setParameterExceptionHandler((ex, a) -> {
            ex.getCommandLine().getErr().println("bench: " + ex.getMessage() + " (see --help)");
            return 2;
        });
        System.exit(cl.execute(args));
    }

    /** Where the harness's own threads run ({@link HarnessAffinity#keepOffServerCore}), for the summary. */
    private String harnessPlacement;
    /** CPUs this process could use at start, for the summary. */
    private int cores;

    @Override
    public Integer call() throws Exception {
        BenchConfig cfg;
        try {
            cfg = resolve();
        } catch (IllegalArgumentException e) {
            System.err.println("bench: " + e.getMessage());
            return 2;
        }
        BenchLog log = new BenchLog();
        String missing = Tools.ensure(cfg.servers(), log);
        if (missing != null) {
            System.err.println("bench: " + missing);
            return 2;
        }
        cores = Runtime.getRuntime().availableProcessors(); // before the harness leaves the server's core
        harnessPlacement = HarnessAffinity.keepOffServerCore();
        log.info("bench: " + harnessPlacement);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> List.copyOf(ServerProcess.RUNNING).forEach(ServerProcess::close)));
        boolean tempWork = workdir == null;
        Files.createDirectories(cfg.workDir());
        Files.createDirectories(cfg.outDir());
        String started = LocalDateTime.now().toString();
        long t0 = System.nanoTime();
        log.info("bench: results in " + cfg.outDir() + ", work dir " + cfg.workDir());
        List<Measurement> results = new ArrayList<>();
        PointRunner runner = new PointRunner(cfg, log, results);
        try {
            for (String name : cfg.experiments()) {
                Experiment e = Experiment.byName(name);
                log.info("== " + name);
                try {
                    e.run(cfg, log, runner);
                } catch (IOException | RuntimeException ex) {
                    log.note(name + " stopped early: " + ex.getMessage());
                }
                writeReport(cfg, results, log, started, t0);
            }
        } finally {
            if (tempWork) {
                deleteTree(cfg.workDir());
            }
        }
        Path latest = copyToLatest(cfg.outDir());
        log.info("bench: wrote " + cfg.outDir() + " (and " + latest + ")");
        return results.isEmpty() ? 1 : 0;
    }

    /** Written after every experiment so an interrupted run still leaves a report. */
    private void writeReport(BenchConfig cfg, List<Measurement> results, BenchLog log, String started, long t0)
            throws IOException {
        ResultsCsv.write(cfg.outDir().resolve("results.csv"), results);
        SummaryWriter.write(cfg.outDir().resolve("summary.md"), results, new SummaryWriter.Context(commandLine(),
                started, (System.nanoTime() - t0) / 1e9, MachineInfo.lines(cores, harnessPlacement), log.notes(), cfg.repeats(),
                cfg.durationS()));
        Plots.writeAll(results, cfg.outDir());
    }

    BenchConfig resolve() {
        for (String e : experiments) {
            require(ALL_EXPERIMENTS.contains(e), "unknown experiment '" + e + "' (choose from " + String.join(",", ALL_EXPERIMENTS) + ")");
        }
        for (String s : servers) {
            require(ALL_SERVERS.contains(s), "unknown server '" + s + "' (choose from " + String.join(",", ALL_SERVERS) + ")");
        }
        List<String> a = archs != null ? archs : quick ? List.of("amped", "sped") : ALL_ARCHS;
        for (String s : a) {
            require(ALL_ARCHS.contains(s), "unknown arch '" + s + "' (choose from " + String.join(",", ALL_ARCHS) + ")");
        }
        int d = duration != null ? duration : quick ? 2 : 10;
        require(d >= 1 && d <= 3600, "--duration must be 1..3600 seconds, got " + d);
        require(repeats >= 1 && repeats <= 100, "--repeats must be 1..100, got " + repeats);
        require(connections >= 1 && connections <= 60000, "--connections must be 1..60000, got " + connections);
        List<Integer> levels = connLevels != null ? connLevels
                : quick ? List.of(10, 1000, 10000) : List.of(10, 30, 100, 300, 1000, 3000, 10000);
        for (int c : levels) {
            require(c >= 1 && c <= 60000, "--conn-levels values must be 1..60000, got " + c);
        }
        // The JVM servers need a couple of seconds of JIT warm-up before a point means anything.
        int w = warmup != null ? warmup : quick ? 2 : 3;
        require(w >= 0 && w <= 600, "--warmup must be 0..600 seconds, got " + w);
        int cache = cacheMb != null ? cacheMb : quick ? 16 : 64;
        require(cache >= 4 && cache <= 65536, "--cache-mb must be 4..65536, got " + cache);
        List<ServerSpec> specs = new ArrayList<>();
        for (String s : servers) {
            switch (s) {
                case "flash" -> a.forEach(arch -> specs.add(ServerSpec.flash(arch, List.of())));
                case "nginx" -> specs.add(ServerSpec.nginx(false));
                case "lighttpd" -> specs.add(ServerSpec.lighttpd());
                default -> throw new IllegalStateException(s);
            }
        }
        boolean needsFlash = servers.contains("flash");
        require(!needsFlash || Files.isRegularFile(jar), "Flash jar " + jar + " not found: build it with "
                + "'mvn -B -q -ntp -DskipTests package', pass --jar PATH, or leave flash out of --servers");
        require(!experiments.contains("ablation") || needsFlash || experiments.size() > 1,
                "the ablation experiment needs flash in --servers");
        Path traceFile = trace != null ? trace : DEFAULT_TRACE;
        require(!experiments.contains("traces") || Files.isReadable(traceFile),
                "trace " + traceFile + " not readable (pass --trace FILE or leave traces out of --experiments)");
        require(Set.copyOf(experiments).size() == experiments.size(), "--experiments lists an experiment twice");
        int files = siteFiles != null ? siteFiles : quick ? 8000 : 20_000;
        require(files >= 1 && files <= 10_000_000, "--site-files must be 1..10000000, got " + files);
        List<Integer> kb = siteKb != null ? siteKb : List.of(16, 32);
        require(kb.size() == 2, "--site-kb takes MIN,MAX, got " + kb);
        require(kb.get(0) >= 1 && kb.get(0) <= kb.get(1) && kb.get(1) <= 1 << 20,
                "--site-kb needs 1 <= MIN <= MAX <= 1048576, got " + kb.get(0) + "," + kb.get(1));
        if (dataSetMbList != null) {
            require(!dataSetMbList.isEmpty(), "--dataset-mb needs at least one size");
            for (int mb : dataSetMbList) {
                require(mb >= 1 && mb <= 1 << 20, "--dataset-mb values must be 1..1048576, got " + mb);
            }
        }
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        Path work = workdir != null ? workdir.toAbsolutePath() : tempDir();
        return new BenchConfig(quick, List.copyOf(experiments), specs, d, repeats, connections, List.copyOf(levels),
                w, cache, jar.toAbsolutePath(), traceFile, out.resolve(stamp).toAbsolutePath(), work, files, kb.get(0),
                kb.get(1), dataSetMbList == null ? null : List.copyOf(dataSetMbList), dropCaches);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    private static Path tempDir() {
        try {
            return Files.createTempDirectory("flash-bench-");
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot create a temp dir: " + e.getMessage());
        }
    }

    private String commandLine() {
        List<String> args = spec != null && spec.commandLine().getParseResult() != null
                ? spec.commandLine().getParseResult().originalArgs() : List.of();
        // Run as a subcommand, the original arguments start with "bench" itself.
        if (!args.isEmpty() && args.getFirst().equals("bench")) args = args.subList(1, args.size());
        return "flash bench " + String.join(" ", args);
    }

    /** A plain copy (not a symlink) so the README can embed bench/results/latest/*.png on any host. */
    static Path copyToLatest(Path runDir) throws IOException {
        Path latest = runDir.resolveSibling("latest");
        if (Files.isSymbolicLink(latest)) {
            Files.delete(latest);
        } else if (Files.exists(latest)) {
            deleteTree(latest);
        }
        Files.createDirectories(latest);
        try (Stream<Path> files = Files.list(runDir)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Files.copy(f, latest.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        Files.writeString(latest.resolve("SOURCE"), runDir.getFileName() + "\n");
        return latest;
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
