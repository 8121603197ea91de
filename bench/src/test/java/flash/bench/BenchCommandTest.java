package flash.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class BenchCommandTest {
    private static int exit(String... args) {
        CommandLine cl = new CommandLine(new BenchCommand());
        cl.setErr(new PrintWriter(new StringWriter()));
        return cl.execute(args);
    }

    @Test
    void badOptionsExitWithUsageCode() {
        assertThat(exit("--experiments", "filesize,nope", "--servers", "nginx")).isEqualTo(2);
        assertThat(exit("--servers", "apache")).isEqualTo(2);
        assertThat(exit("--servers", "nginx", "--duration", "0")).isEqualTo(2);
        assertThat(exit("--servers", "flash", "--jar", "/nonexistent/flash.jar")).isEqualTo(2);
        assertThat(exit("--servers", "nginx", "--archs", "amped,fast")).isEqualTo(2);
        assertThat(exit("--repeats", "many")).isEqualTo(2);
    }

    @Test
    void quickModeNarrowsTheDefaults() {
        BenchCommand c = new BenchCommand();
        new CommandLine(c).parseArgs("--quick", "--servers", "flash,nginx", "--jar", "pom.xml",
                "--experiments", "filesize", "--workdir", "target/bench-test-work");
        BenchConfig cfg = c.resolve();
        assertThat(cfg.durationS()).isEqualTo(2);
        assertThat(cfg.repeats()).isEqualTo(3);
        assertThat(cfg.servers()).extracting(ServerSpec::label).containsExactly("flash-amped", "flash-sped", "nginx");
        assertThat(cfg.workDir()).isEqualTo(Path.of("target/bench-test-work").toAbsolutePath());
    }

    @Test
    void badBigSiteAndDataSetOptionsExitWithUsageCode() {
        assertThat(exit("--servers", "nginx", "--site-files", "0")).isEqualTo(2);
        assertThat(exit("--servers", "nginx", "--site-kb", "32,16")).isEqualTo(2);
        assertThat(exit("--servers", "nginx", "--site-kb", "16")).isEqualTo(2);
        assertThat(exit("--servers", "nginx", "--site-kb", "16,32,64")).isEqualTo(2);
        assertThat(exit("--servers", "nginx", "--dataset-mb", "64,0")).isEqualTo(2);
        assertThat(exit("--servers", "nginx", "--dataset-mb", "lots")).isEqualTo(2);
    }

    private static BenchConfig resolve(String... args) {
        BenchCommand c = new BenchCommand();
        new CommandLine(c).parseArgs(args);
        return c.resolve();
    }

    /** The big site's warm-up covers one pass over it: 20 s at 100,000 files, 4 s at the default 20,000. */
    @Test
    void bigSiteWarmUpLastsOnePassOverTheSite() {
        assertThat(BigSiteExperiment.onePassWarmupS(100_000)).isEqualTo(20);
        assertThat(BigSiteExperiment.onePassWarmupS(20_000)).isEqualTo(4);
        assertThat(BigSiteExperiment.onePassWarmupS(8_001)).isEqualTo(2);
        PointRunner.Options o = PointRunner.Options.warm(null).withMinWarmup(20).withBeforeRun((s, r) -> { });
        assertThat(o.minWarmupS()).as("kept by the other withers").isEqualTo(20);
    }

    @Test
    void bigSiteAndColdDataSetOptions() {
        BenchConfig full = resolve("--servers", "nginx,lighttpd", "--trace", "pom.xml", "--workdir",
                "target/bench-test-work");
        assertThat(full.experiments()).contains("bigsite", "dataset");
        assertThat(full.siteFiles()).isEqualTo(20_000);
        assertThat(full.siteMinKb()).isEqualTo(16);
        assertThat(full.siteMaxKb()).isEqualTo(32);
        assertThat(full.siteRequests()).isEqualTo(200_000);
        assertThat(full.dropCaches()).isFalse();
        // from a quarter of the cache to 16 times it, so the largest set outlasts a run
        assertThat(full.dataSetMb()).containsExactly(16, 32, 64, 128, 256, 512, 1024);
        assertThat(full.fileSizes()).contains(16 * 1024L, 100 * 1024L);

        BenchConfig quick = resolve("--quick", "--servers", "nginx", "--trace", "pom.xml", "--workdir",
                "target/bench-test-work");
        assertThat(quick.siteFiles()).isEqualTo(8000);
        assertThat(quick.dataSetMb()).containsExactly(4, 16, 64, 256);
        assertThat(quick.fileSizes()).contains(16 * 1024L, 100 * 1024L);

        BenchConfig given = resolve("--servers", "nginx", "--experiments", "bigsite,dataset", "--site-files", "200",
                "--site-kb", "1,4", "--dataset-mb", "8,600", "--drop-caches", "--workdir", "target/bench-test-work");
        assertThat(given.experiments()).containsExactly("bigsite", "dataset");
        assertThat(given.siteFiles()).isEqualTo(200);
        assertThat(given.siteMinKb()).isEqualTo(1);
        assertThat(given.siteMaxKb()).isEqualTo(4);
        assertThat(given.siteRequests()).isEqualTo(200_000);
        assertThat(given.dataSetMb()).containsExactly(8, 600);
        assertThat(given.dropCaches()).isTrue();
        assertThat(Experiment.byName("bigsite")).isInstanceOf(BigSiteExperiment.class);
    }

    @Test
    void bigSiteRunsNginxWithAndWithoutAioThreads() {
        List<ServerSpec> specs = BigSiteExperiment.servers(List.of(ServerSpec.flash("amped", List.of()),
                ServerSpec.flash("sped", List.of()), ServerSpec.nginx(false), ServerSpec.lighttpd()));
        assertThat(specs).extracting(ServerSpec::label)
                .containsExactly("flash-amped", "flash-sped", "nginx", "nginx-aio", "lighttpd");
        // Flash keeps its default caches: the point is a site bigger than they are
        assertThat(specs.getFirst().flashArgs()).isEmpty();
    }

    @Test
    void nginxAioVariantUsesTheDefaultThreadPool() {
        String aio = NginxServer.config(Path.of("/d"), Path.of("/w"), 8080, true, 65536);
        // `aio threads;` without a pool name uses the pool called "default"; the config spells out its size
        assertThat(aio).contains("aio threads;", "thread_pool default threads=32 max_queue=65536;");
        assertThat(NginxServer.config(Path.of("/d"), Path.of("/w"), 8080, false, 65536)).doesNotContain("thread_pool");
    }

    @Test
    void generatedConfigsCarryTheTuning() {
        String nginx = NginxServer.config(Path.of("/d"), Path.of("/w"), 8080, false, 65536);
        assertThat(nginx).contains("worker_processes 1;", "sendfile on;", "tcp_nopush on;", "open_file_cache max=",
                "access_log off;", "listen 127.0.0.1:8080").doesNotContain("aio threads");
        assertThat(NginxServer.config(Path.of("/d"), Path.of("/w"), 8080, true, 65536)).contains("aio threads;");
        assertThat(LighttpdServer.config(Path.of("/d"), Path.of("/w"), 9090, 65536))
                .contains("server.port = 9090", "server.document-root = \"/d\"");
        assertThat(PathListScript.LUA).contains("function init(args)", "function request()");
    }

    /** Under a limit of 20,000 (this container's), neither server may be configured to need more descriptors. */
    @Test
    void configsFitTheDescriptorLimitTheServersGet() {
        assertThat(NginxServer.config(Path.of("/d"), Path.of("/w"), 8080, false, 20000))
                .contains("worker_rlimit_nofile 20000;", "open_file_cache max=17952 ");
        assertThat(NginxServer.config(Path.of("/d"), Path.of("/w"), 8080, false, 65536))
                .contains("worker_rlimit_nofile 65536;", "open_file_cache max=20000 ");
        assertThat(LighttpdServer.config(Path.of("/d"), Path.of("/w"), 9090, 20000))
                .contains("server.max-fds = 20000", "server.max-connections = 10000");
        assertThat(ServerProcess.descriptorLimit()).isBetween(1, 65536);
    }

    @Test
    void procStatParsingSurvivesSpacesInTheCommandName() {
        String[] f = ProcTree.parseStat("1234 (my (odd) proc) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0");
        assertThat(f[0]).isEqualTo("S");
        assertThat(f[1]).isEqualTo("1");
        assertThat(Long.parseLong(f[11]) + Long.parseLong(f[12])).isEqualTo(325);
    }

    @Test
    void flashIsStartedExactlyAsTheCliContractSays() {
        FlashServer f = new FlashServer("flash-amped", Path.of("/docs"), Path.of("/w"), Path.of("/x/flash.jar"), "amped",
                java.util.List.of("--no-file-cache"));
        f.port = 8081;
        assertThat(f.command()).endsWith("--enable-native-access=ALL-UNNAMED", "-jar", "/x/flash.jar", "serve", "/docs",
                "--port", "8081", "--bind", "127.0.0.1", "--arch", "amped", "--no-file-cache");
        assertThat(f.isReadyLine("flash listening on http://127.0.0.1:8081/ (arch=amped, root=/docs)")).isTrue();
    }
}
