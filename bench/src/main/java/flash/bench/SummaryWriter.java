package flash.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/** summary.md: medians with min-max, run-by-run ratios, and what to distrust (starved or generator-bound runs). */
public final class SummaryWriter {
    static final List<String> EXPERIMENTS = List.of("filesize", "traces", "dataset", "bigsite", "ablation",
            "concurrency");
    static final String ABLATION_BASE = "path+header+file";

    private SummaryWriter() {
    }

    /** Run facts that do not come from the measurements. */
    public record Context(String commandLine, String started, double durationS, List<String> machine,
                          List<String> notes, int repeats, int durationPerRunS) {
    }

    public static void write(Path file, List<Measurement> results, Context ctx) throws IOException {
        Files.writeString(file, render(results, ctx), StandardCharsets.UTF_8);
    }

    static String render(List<Measurement> results, Context ctx) {
        StringBuilder sb = new StringBuilder();
        sb.append("# Flash benchmark summary\n\n");
        sb.append("- Command: `").append(ctx.commandLine()).append("`\n");
        sb.append("- Started: ").append(ctx.started()).append(String.format(Locale.ROOT, ", took %.1f min%n",
                ctx.durationS() / 60));
        sb.append("- Each cell: median of ").append(ctx.repeats()).append(" runs of ").append(ctx.durationPerRunS())
                .append(" s (min–max), servers interleaved run by run, the first rotating from run to run; wrk -t1, keep-alive.\n");
        sb.append("- MB/s is wrk's Transfer/sec (MiB/s, headers included). Ratios are computed run by run "
                + "(run i of one server against run i of the other, measured back to back), then summarised.\n\n");
        for (String exp : EXPERIMENTS) {
            ResultTable t = new ResultTable(results, exp);
            if (!t.isEmpty()) {
                experiment(sb, exp, t);
            }
        }
        notes(sb, results, ctx.notes());
        sb.append("## Machine\n\n");
        for (String m : ctx.machine()) {
            sb.append("- ").append(m).append('\n');
        }
        return sb.toString();
    }

    private static void experiment(StringBuilder sb, String exp, ResultTable t) {
        sb.append("## ").append(title(exp)).append("\n\n");
        table(sb, t, "requests/s", Measurement::reqS);
        if (!exp.equals("ablation") && !exp.equals("concurrency")) {
            table(sb, t, "MB/s", m -> m.wrk().mbPerSec());
        }
        // Where wrk was the bottleneck (see the notes) req/s is the generator's ceiling; the server's CPU per response
        // is what tells servers apart there.
        table(sb, t, "server CPU per request (us, all the server's threads; lower is better)",
                Measurement::serverUsPerRequest);
        if (exp.equals("filesize") || exp.equals("traces")) {
            // Where wrk is generator-bound, its cost per response is what sets req/s: servers whose responses cost
            // the client differently (how the bytes arrive) differ in req/s by that much, whatever their own CPU.
            table(sb, t, "wrk's CPU per request (us; in generator-bound runs this, not the server, sets req/s)",
                    Measurement::generatorUsPerRequest);
        }
        if (exp.equals("concurrency") || exp.equals("dataset") || exp.equals("bigsite")) {
            // where clients wait on the disk or on each other, the tail says more than the mean
            table(sb, t, "p99 latency (ms)", m -> m.wrk().p99Ms());
        }
        if (exp.equals("concurrency")) {
            table(sb, t, "server RSS, peak during run (MiB)", m -> m.rssKb() / 1024.0);
            table(sb, t, "server RSS growth per connection (KiB)",
                    m -> (double) (m.rssKb() - m.rssIdleKb()) / Math.max(1, m.connections()));
        }
        if (exp.equals("ablation")) {
            ratios(sb, t, ABLATION_BASE);
        } else {
            for (String base : List.of("nginx", "nginx-aio")) {
                if (t.servers().contains(base)) {
                    ratios(sb, t, base);
                    cpuRatios(sb, t, base);
                }
            }
        }
    }

    private static String title(String exp) {
        return switch (exp) {
            case "filesize" -> "File size sweep (one cached file, paper Figs. 6-7)";
            case "traces" -> "Trace replay: NASA Jul 1995 and SPECweb99-style (paper Figs. 8-9)";
            case "dataset" -> "Data-set size, cold page cache before each run (paper Figs. 10-11)";
            case "bigsite" -> "A site larger than the caches: random and Zipf access, page cache warm and evicted";
            case "ablation" -> "Cache ablation, Flash AMPED (paper Fig. 12)";
            case "concurrency" -> "Persistent connections (paper Fig. 13 in spirit)";
            default -> exp;
        };
    }

    static void table(StringBuilder sb, ResultTable t, String what, ToDoubleFunction<Measurement> metric) {
        List<String> servers = t.servers();
        sb.append("**").append(what).append("**\n\n| param |");
        for (String s : servers) {
            sb.append(' ').append(s).append(" |");
        }
        sb.append("\n|---|");
        sb.append("---|".repeat(servers.size())).append('\n');
        for (String p : t.params().keySet()) {
            sb.append("| ").append(p).append(" |");
            for (String s : servers) {
                sb.append(' ').append(t.stats(s, p, metric).format()).append(" |");
            }
            sb.append('\n');
        }
        sb.append('\n');
    }

    private static void ratios(StringBuilder sb, ResultTable t, String base) {
        ratioTable(sb, t, base, "**req/s ratio to " + base + "** (same run index)", t::ratio);
    }

    private static void cpuRatios(StringBuilder sb, ResultTable t, String base) {
        ratioTable(sb, t, base, "**CPU per request, " + base + "'s over the server's** (same run index; above 1: fewer "
                + "CPU microseconds per response than " + base + ", the comparison that holds where wrk set the pace)",
                t::cpuRatio);
    }

    private interface RatioOf {
        Stats of(String server, String base, String param);
    }

    private static void ratioTable(StringBuilder sb, ResultTable t, String base, String heading, RatioOf ratio) {
        List<String> others = t.servers().stream()
                .filter(s -> !s.equals(base) && (s.startsWith("flash-") || base.equals(ABLATION_BASE))).toList();
        if (others.isEmpty()) {
            return;
        }
        sb.append(heading).append("\n\n| param |");
        for (String s : others) {
            sb.append(' ').append(s).append(" |");
        }
        sb.append("\n|---|").append("---|".repeat(others.size())).append('\n');
        for (String p : t.params().keySet()) {
            sb.append("| ").append(p).append(" |");
            for (String s : others) {
                Stats r = ratio.of(s, base, p);
                sb.append(r.n() == 0 ? " n/a |" : String.format(Locale.ROOT, " %.2f (%.2f–%.2f) |", r.median(),
                        r.min(), r.max()));
            }
            sb.append('\n');
        }
        sb.append('\n');
    }

    static void notes(StringBuilder sb, List<Measurement> results, List<String> logNotes) {
        sb.append("## Notes on the runs\n\n");
        List<String> lines = new ArrayList<>();
        long genBound = results.stream().filter(Measurement::generatorBound).count();
        if (genBound > 0) {
            lines.add(String.format(Locale.ROOT, "%d of %d runs were generator-bound (wrk used >= 95%% of its core): "
                    + "there the server could have gone faster, and the numbers are wrk's ceiling. Affected: %s",
                    genBound, results.size(), groups(results.stream().filter(Measurement::generatorBound).toList())));
        }
        List<Measurement> starved = results.stream().filter(Measurement::starved).toList();
        if (!starved.isEmpty()) {
            lines.add(String.format(Locale.ROOT, "%d runs had the server under 80%% of a core while wrk was not "
                    + "saturated either (kept after one retry where retries apply; in the cold-cache experiment this "
                    + "is disk wait, not starvation): %s", starved.size(), groups(starved)));
        }
        long retried = results.stream().filter(Measurement::retried).count();
        if (retried > 0) {
            lines.add(retried + " runs are retries of a starved first attempt (both raw outputs are kept).");
        }
        List<Measurement> errs = results.stream().filter(m -> m.wrk().errors() > 0).toList();
        if (!errs.isEmpty()) {
            lines.add("Runs with errors (non-2xx/3xx or socket errors): " + groups(errs));
        }
        lines.addAll(logNotes);
        if (lines.isEmpty()) {
            lines.add("No starved, generator-bound or failed runs.");
        }
        for (String l : lines) {
            sb.append("- ").append(l).append('\n');
        }
        sb.append('\n');
    }

    private static String groups(List<Measurement> ms) {
        StringBuilder b = new StringBuilder();
        java.util.Map<String, Integer> counts = new java.util.LinkedHashMap<>();
        for (Measurement m : ms) {
            counts.merge(m.experiment() + "/" + m.server() + "@" + m.param(), 1, Integer::sum);
        }
        counts.forEach((k, v) -> b.append(b.isEmpty() ? "" : ", ").append(k).append(v > 1 ? " x" + v : ""));
        return b.toString();
    }
}
