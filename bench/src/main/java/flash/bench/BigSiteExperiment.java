package flash.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A site larger than the caches (issue #11): tens of thousands of 16-32 KiB files, more than Flash's default
 * caches keep (the path cache holds every translation, but the bytes of small files it keeps are bounded by a
 * quarter of --cache-mb: about 2,700 such files at the default 256 MiB), requested in uniform random
 * order or with Zipf popularity, once with the whole site in the page cache and once evicted before every run.
 * Flash runs with its default caches; nginx with and without `aio threads`; lighttpd as it comes.
 */
public final class BigSiteExperiment implements Experiment {
    /** Points in plot order: the warm pair first, so the cold runs cannot leave pages the warm ones then reuse. */
    static final List<String> POINTS = List.of("random-warm", "zipf-warm", "random-cold", "zipf-cold");

    @Override
    public String name() {
        return "bigsite";
    }

    /** Flash archs as given; nginx both with and without aio threads; lighttpd. */
    static List<ServerSpec> servers(List<ServerSpec> configured) {
        List<ServerSpec> out = new ArrayList<>();
        for (ServerSpec s : configured) {
            if (s.kind().equals("nginx")) {
                out.add(ServerSpec.nginx(false));
                out.add(ServerSpec.nginx(true));
            } else {
                out.add(s);
            }
        }
        return out;
    }

    /** Seconds of warm-up for one pass over {@code files} paths: at 5,000 a second, the rate of a pass that translates them all. */
    static int onePassWarmupS(int files) {
        return (int) Math.ceil(files / 5000.0);
    }

    @Override
    public void run(BenchConfig cfg, BenchLog log, PointRunner runner) throws IOException, InterruptedException {
        Path root = cfg.workDir().resolve("docroot-bigsite");
        log.info(String.format(Locale.ROOT, "  writing %d files of %d-%d KiB under %s", cfg.siteFiles(),
                cfg.siteMinKb(), cfg.siteMaxKb(), root));
        BigSite.Built site = BigSite.create(root, cfg.siteFiles(), cfg.siteMinKb(), cfg.siteMaxKb());
        DocFiles.write(root.resolve("warm.html"), 1024);
        log.info(String.format(Locale.ROOT, "  site: %d files, %.1f MiB (Flash keeps the bytes of at most a quarter of --cache-mb)",
                site.paths().size(), site.bytes() / 1048576.0));
        Path lists = cfg.workDir().resolve("lists");
        Path script = PathListScript.script(lists);
        Target random = Target.list(PathListScript.writeList(lists.resolve("bigsite-random.txt"),
                SiteAccess.shuffledPasses(site.paths(), cfg.siteRequests(), 11)), script);
        Target zipf = Target.list(PathListScript.writeList(lists.resolve("bigsite-zipf.txt"),
                SiteAccess.zipf(site.paths(), cfg.siteRequests(), SiteAccess.ZIPF_ALPHA, 13)), script);

        try (Servers servers = Servers.start(servers(cfg.servers()), root, cfg.workDir().resolve("srv-bigsite"),
                cfg.jar(), "/warm.html", log)) {
            PageCache.load(site.files());
            Residency.Count warm = Residency.of(site.files());
            log.info("  page cache loaded: site resident " + (warm == null ? "(uncounted)" : warm.describe()));
            PointRunner.BeforeRun keepWarm = (s, run) -> {
                Residency.Count c = Residency.of(site.files());
                if (c != null && c.share() < 0.99) {
                    log.info("    site resident " + c.describe() + " before " + s.label() + ": reloading it");
                    PageCache.load(site.files());
                }
            };
            // The warm-up runs the random list: it warms the JIT and the servers' caches as a warm site would. It lasts
            // long enough for one pass over the site (Flash translates each path once, nginx and lighttpd fill their
            // open-file caches): with the plain warm-up, the first random-warm run at 100,000 files was still
            // translating (docs/performance.md, section 23). The list's first pass covers every file, and each wrk run
            // starts at the top of the list, so the warm-up's requests are that pass.
            int onePass = onePassWarmupS(cfg.siteFiles());
            if (cfg.warmupS() > 0) {
                log.info(String.format(Locale.ROOT, "  warm-up: at least %d s per server, for one pass over the site", onePass));
            }
            runner.measure(name(), "random-warm", 0, servers.list(), random, cfg.connections(),
                    PointRunner.Options.warm(random).withBeforeRun(keepWarm).withMinWarmup(cfg.warmupS() > 0 ? onePass : 0));
            runner.measure(name(), "zipf-warm", 1, servers.list(), zipf, cfg.connections(),
                    PointRunner.Options.warm(zipf).withBeforeRun(keepWarm));
            for (String kind : List.of("random", "zipf")) {
                String point = kind + "-cold";
                ColdCache cold = new ColdCache(name() + " " + point, site.files(), log, cfg.dropCaches());
                runner.measure(name(), point, POINTS.indexOf(point), servers.list(),
                        kind.equals("random") ? random : zipf, cfg.connections(), cold.options(null));
                cold.summarize();
            }
        }
    }
}
