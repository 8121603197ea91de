package flash.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Measures one x value of an experiment: warm-up, then repeats interleaved across servers. */
public final class PointRunner {
    /** Share of the server's core used by other processes that marks a run as starved. */
    static final double INTRUDER = 0.15;

    /** Below this share of a core the server was not the bottleneck (or was starved). */
    static final double SERVER_BUSY = 0.80;
    static final double GEN_SATURATED = 0.95;

    /** Work to do before each measured run, such as evicting the data set from the page cache. */
    public interface BeforeRun {
        void run(ServerProcess server, int run) throws IOException, InterruptedException;
    }

    /** Work to do after each measured run, such as counting how much of the data set it read from the disk. */
    public interface AfterRun {
        void run(ServerProcess server, Measurement m) throws IOException, InterruptedException;
    }

    /**
     * @param warmupTarget what to request during warm-up (null: no warm-up at this point)
     * @param retryStarved repeat once a run where the server got under 80% of a core while wrk was not
     *                     saturated; off where waiting on the disk is the point (cold cache)
     */
    public record Options(Target warmupTarget, BeforeRun beforeRun, AfterRun afterRun, boolean retryStarved, int minWarmupS) {
        public Options(Target warmupTarget, BeforeRun beforeRun, AfterRun afterRun, boolean retryStarved) {
            this(warmupTarget, beforeRun, afterRun, retryStarved, 0);
        }

        public static Options warm(Target t) {
            return new Options(t, (s, r) -> { }, (s, m) -> { }, true);
        }

        public Options withBeforeRun(BeforeRun b) {
            return new Options(warmupTarget, b, afterRun, retryStarved, minWarmupS);
        }

        /** At least {@code seconds} of warm-up for every server, native ones too (a site whose caches take long to fill). */
        public Options withMinWarmup(int seconds) {
            return new Options(warmupTarget, beforeRun, afterRun, retryStarved, seconds);
        }
    }

    /** The JIT check after a JVM's warm-up (see warmUntilJitSettles). */
    private static final int JIT_CHUNK_S = 2, JIT_MAX_S = 40;
    /** At most one 10 ms tick per chunk: 30 ms of C2 in a 5 s run already took p99 at 10 connections to 0.66 ms. */
    private static final double JIT_QUIET = 0.005;

    private final BenchConfig cfg;
    private final BenchLog log;
    private final WrkRunner wrk = new WrkRunner();
    private final List<Measurement> results;

    public PointRunner(BenchConfig cfg, BenchLog log, List<Measurement> results) {
        this.cfg = cfg;
        this.log = log;
        this.results = results;
    }

    public void measure(String experiment, String param, double x, List<ServerProcess> servers, Target target,
                        int connections, Options opts) throws IOException, InterruptedException {
        Path raw = cfg.outDir().resolve("raw").resolve(experiment);
        Files.createDirectories(raw);
        String slug = param.replaceAll("[^A-Za-z0-9._-]", "_");
        if (opts.warmupTarget() != null && cfg.warmupS() > 0) {
            for (ServerProcess s : servers) {
                // Native servers need no JIT warm-up: half the time fills their caches just as well.
                int seconds = Math.max(opts.minWarmupS(), s instanceof FlashServer ? cfg.warmupS() : Math.max(1, cfg.warmupS() / 2));
                tryRun(s, opts.warmupTarget(), connections, seconds,
                        raw.resolve(slug + "-" + s.label() + "-warmup.txt"));
                if (s instanceof FlashServer) warmUntilJitSettles(s, opts.warmupTarget(), connections, raw, slug);
            }
        }
        for (int run = 1; run <= cfg.repeats(); run++) {
            for (ServerProcess s : inRunOrder(servers, run)) {
                String base = slug + "-" + s.label().replaceAll("[^A-Za-z0-9._-]", "_") + "-r" + run;
                opts.beforeRun().run(s, run);
                Measurement m = once(experiment, param, x, run, s, target, connections, raw.resolve(base + ".txt"), false);
                if (m != null && m.starved() && opts.retryStarved()) {
                    log.info(String.format(Locale.ROOT, "    starved (server %.2f, wrk %.2f cores): repeating once",
                            m.serverCpu(), m.genCpu()));
                    opts.beforeRun().run(s, run);
                    Measurement again = once(experiment, param, x, run, s, target, connections,
                            raw.resolve(base + "-retry.txt"), true);
                    m = again != null ? again : m;
                }
                if (m != null) {
                    opts.afterRun().run(s, m);
                    results.add(m);
                }
            }
        }
    }

    /**
     * The servers in the order of run {@code run} (1-based): the first of the list first in run 1, the second in run 2,
     * and so on, the rest following in list order. A fixed order favoured the last server wherever the machine sped
     * up from run to run: on the 100,000-file site's disk-bound point every server's rate rose round by round and
     * nginx with aio threads, always last, was measured at the disk's fastest (docs/performance.md section 42).
     */
    static <T> List<T> inRunOrder(List<T> servers, int run) {
        int n = servers.size();
        List<T> order = new ArrayList<>(n);
        for (int k = 0; k < n; k++) order.add(servers.get((k + run - 1) % n));
        return order;
    }

    private Measurement once(String experiment, String param, double x, int run, ServerProcess s, Target target,
                             int connections, Path rawFile, boolean retried) throws InterruptedException {
        if (!s.isAlive()) {
            log.note(experiment + " " + param + ": " + s.label() + " is no longer running; run " + run + " skipped ("
                    + s.logTail() + ")");
            return null;
        }
        WrkRunner.Outcome o;
        try {
            o = wrk.run(s, target, connections, cfg.durationS(), rawFile);
        } catch (IOException | RuntimeException e) {
            log.note(experiment + " " + param + " " + s.label() + " run " + run + " failed: " + e.getMessage());
            return null;
        }
        // Starved: the server got little CPU while something else used its core. A server that is simply not
        // CPU-bound (large files, where the client or the copy is the limit) is not starved and is not re-run.
        boolean starved = o.serverCpu() < SERVER_BUSY && !(o.genCpu() >= GEN_SATURATED)
                && o.cpu0Busy() - o.serverCpu() > INTRUDER;
        Measurement m = new Measurement(experiment, s.label(), s.arch(), param, x, run, connections, cfg.durationS(),
                o.result(), o.serverCpu(), o.genCpu(), o.rssPeakKb(), o.rssIdleKb(), o.cpu0Busy(), starved, retried,
                cfg.outDir().relativize(rawFile).toString());
        log.info(String.format(Locale.ROOT, "  [%s %s] %-14s run %d: %9.0f req/s %8.1f MB/s p99 %7.2f ms  "
                        + "errors %d  cpu server %.2f wrk %.2f%s", experiment, param, s.label(), run,
                o.result().requestsPerSec(), o.result().mbPerSec(), o.result().p99Ms(), o.result().errors(),
                o.serverCpu(), o.genCpu(), retried ? " (retry)" : ""));
        return m;
    }

    /**
     * Keeps warming a JVM server while its JIT compilers still work: pinned to one core, a C2 compiler thread takes
     * that core from the event loop in scheduler slices of a few milliseconds, so a point measured during compilation
     * reports the compiler in its p99 (2-7 ms at 10 connections, where the settled server has 0.2-0.4 ms). A fixed
     * warm-up of a few seconds was not enough on this machine: C2 used over a second of CPU in the 15 s after it.
     * Chunks of JIT_CHUNK_S seconds, until one uses under JIT_QUIET of a core for compiling, at most JIT_MAX_S.
     */
    private void warmUntilJitSettles(ServerProcess s, Target t, int connections, Path raw, String slug)
            throws InterruptedException {
        long before = ProcTree.compilerTicks(s.pid());
        for (int spent = 0; spent < JIT_MAX_S && s.isAlive(); spent += JIT_CHUNK_S) {
            tryRun(s, t, connections, JIT_CHUNK_S, raw.resolve(slug + "-" + s.label() + "-warmup-jit.txt"));
            long now = ProcTree.compilerTicks(s.pid());
            double share = (now - before) / ProcTree.TICKS_PER_SEC / JIT_CHUNK_S;
            before = now;
            if (share < JIT_QUIET) {
                if (spent > 0) log.info(String.format(Locale.ROOT, "    %s: JIT settled after %d s more warm-up", s.label(), spent + JIT_CHUNK_S));
                return;
            }
        }
        log.note(slug + ": " + s.label() + "'s JIT compilers were still busy after " + JIT_MAX_S + " s more warm-up");
    }

    private void tryRun(ServerProcess s, Target t, int connections, int seconds, Path rawFile) throws InterruptedException {
        try {
            wrk.run(s, t, connections, seconds, rawFile);
        } catch (IOException | RuntimeException e) {
            log.note("warm-up of " + s.label() + " failed: " + e.getMessage());
        }
    }
}
