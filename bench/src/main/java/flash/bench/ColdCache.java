package flash.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * Makes each measured run of one point start with its files out of the page cache, and checks that it did: the
 * set's residency is counted before and after the eviction (printed in the log), and again after the run, which
 * tells how much of the set the run read back from the disk. A summary per point goes to summary.md's notes.
 */
final class ColdCache {
    /** More of the set than this left resident after eviction means the run did not start cold. */
    static final double RESIDUAL_MAX = 0.05;
    /** A run that read back more than this share of the set spent its end on page-cache hits. */
    static final double REREAD_MAX = 0.95;

    private final String point;
    private final Function<ServerProcess, List<Path>> filesOf;
    private final BenchLog log;
    private final boolean dropCaches;
    private Residency.Count afterEviction;
    private final List<Double> residual = new ArrayList<>();
    private final java.util.Set<String> notEmptied = new java.util.LinkedHashSet<>();
    private final List<Double> reread = new ArrayList<>();
    private final List<Double> coldShare = new ArrayList<>();
    private String method = "none";
    private boolean warnedUncounted;
    private boolean warnedDrop;

    /** One set shared by every server. */
    ColdCache(String point, List<Path> files, BenchLog log, boolean dropCaches) {
        this(point, server -> files, log, dropCaches);
    }

    /**
     * Each server with its own copy of the set: pages a server keeps mapped (Flash's file cache) or faults in
     * after its run ended (AMPED's helpers finishing requests wrk gave up on) then stay with that server's copy,
     * where eviction could not reach them anyway, instead of warming the next server's run.
     */
    ColdCache(String point, Function<ServerProcess, List<Path>> filesOf, BenchLog log, boolean dropCaches) {
        this.point = point;
        this.filesOf = filesOf;
        this.log = log;
        this.dropCaches = dropCaches;
    }

    PointRunner.Options options(Target warmup) {
        return new PointRunner.Options(warmup, this::beforeRun, this::afterRun, false);
    }

    void beforeRun(ServerProcess server, int run) throws IOException, InterruptedException {
        List<Path> files = filesOf.apply(server);
        Residency.Count before = count(files);
        PageCache.evict(files);
        String how = "fadvise(DONTNEED)";
        if (dropCaches) {
            String why = PageCache.dropAll();
            if (why == null) {
                how += " + drop_caches";
            } else if (!warnedDrop) {
                warnedDrop = true;
                log.note(point + ": --drop-caches not applied, per-file eviction only: " + why);
            }
        }
        afterEviction = count(files);
        if (before != null && afterEviction != null) {
            method = afterEviction.method();
            residual.add(afterEviction.share());
            if (afterEviction.share() > RESIDUAL_MAX) {
                notEmptied.add(server.label());
            }
            log.info(String.format(Locale.ROOT, "    [%s] before %s run %d: %s, set resident %s -> %s [%s]", point,
                    server.label(), run, how, before.describe(), afterEviction.describe(), method));
        }
    }

    void afterRun(ServerProcess server, Measurement m) throws IOException, InterruptedException {
        Residency.Count after = count(filesOf.apply(server));
        if (after == null || afterEviction == null) {
            return;
        }
        double readShare = Math.max(0, after.share() - afterEviction.share());
        double readMib = Math.max(0, after.residentMib() - afterEviction.residentMib());
        double servedMib = m.wrk().mbPerSec() * m.durationS();
        double cold = servedMib > 0 ? Math.min(1.0, readMib / servedMib) : Double.NaN;
        reread.add(readShare);
        if (!Double.isNaN(cold)) {
            coldShare.add(cold);
        }
        log.info(String.format(Locale.ROOT, "    [%s] after %s run %d: set resident %s; read %.1f MiB from the "
                + "disk for %.1f MiB served (%s of the bytes served were cold)", point, server.label(), m.run(),
                after.describe(), readMib, servedMib, Double.isNaN(cold) ? "n/a" : pct(cold)));
    }

    /** One line for summary.md: did eviction work, and how cold were the runs. */
    void summarize() {
        if (residual.isEmpty()) {
            return;
        }
        Stats res = Stats.of(residual);
        Stats rr = Stats.of(reread);
        Stats cs = Stats.of(coldShare);
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%s: after eviction %s–%s of the set was "
                + "still resident (%s); the runs read %s–%s of the set back from the disk, and %s–%s of the bytes "
                + "they served were cold", point, pct(res.min()), pct(res.max()), method, pct(rr.min()),
                pct(rr.max()), pct(cs.min()), pct(cs.max())));
        if (!notEmptied.isEmpty()) {
            sb.append(". WARNING: eviction left more than ").append(pct(RESIDUAL_MAX)).append(" resident before runs of ")
                    .append(String.join(", ", notEmptied)).append(" (pages a running server keeps mapped, such as "
                    + "Flash's file cache of up to --cache-mb, cannot be dropped: for Flash that is its own cache "
                    + "holding part of the set)");
        }
        if (rr.max() > REREAD_MAX) {
            sb.append(". WARNING: some runs read back the whole set, so their later requests hit the page cache: "
                    + "use a larger set (--dataset-mb / --site-files) or a shorter --duration");
        }
        log.note(sb.toString());
    }

    private Residency.Count count(List<Path> files) throws IOException, InterruptedException {
        Residency.Count c = Residency.of(files);
        if (c == null && !warnedUncounted) {
            warnedUncounted = true;
            log.note(point + ": cannot count page-cache residency (no cachestat, no fincore): eviction unchecked");
        }
        return c;
    }

    static String pct(double share) {
        return Double.isNaN(share) ? "n/a" : String.format(Locale.ROOT, "%.0f%%", share * 100);
    }
}
