package flash.bench;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** Writes results.csv: one row per measured run, every number as measured (no aggregation). */
public final class ResultsCsv {
    static final String HEADER = "experiment,server,arch,param,x,run,connections,duration_s,req_s,mb_s,p50_ms,p99_ms,"
            + "requests,errors,non2xx,socket_errors,server_cpu,gen_cpu,cpu0_busy,rss_kb,rss_idle_kb,starved,generator_bound,"
            + "retried,raw_file";

    private ResultsCsv() {
    }

    public static void write(Path file, List<Measurement> rows) throws IOException {
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            w.write(HEADER);
            w.write('\n');
            for (Measurement m : rows) {
                w.write(row(m));
                w.write('\n');
            }
        }
    }

    static String row(Measurement m) {
        WrkResult r = m.wrk();
        return String.join(",",
                esc(m.experiment()), esc(m.server()), esc(m.arch()), esc(m.param()), d(m.x()),
                Integer.toString(m.run()), Integer.toString(m.connections()), d(m.durationS()),
                d(r.requestsPerSec()), d(r.mbPerSec()), d(r.p50Ms()), d(r.p99Ms()),
                Long.toString(r.requests()), Long.toString(r.errors()), Long.toString(r.non2xx()),
                Long.toString(r.socketErrors()), d(m.serverCpu()), d(m.genCpu()), d(m.cpu0Busy()),
                Long.toString(m.rssKb()), Long.toString(m.rssIdleKb()),
                Boolean.toString(m.starved()), Boolean.toString(m.generatorBound()), Boolean.toString(m.retried()),
                esc(m.rawFile()));
    }

    private static String d(double v) {
        if (Double.isNaN(v)) {
            return "";
        }
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return String.format(Locale.ROOT, "%.4f", v);
    }

    /** RFC 4180 quoting, only when needed. */
    static String esc(String s) {
        if (s == null) {
            return "";
        }
        if (s.indexOf(',') < 0 && s.indexOf('"') < 0 && s.indexOf('\n') < 0) {
            return s;
        }
        return '"' + s.replace("\"", "\"\"") + '"';
    }
}
