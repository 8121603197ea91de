package flash.bench;

import java.util.ArrayList;
import java.util.List;

/** Synthetic measurements for report and plot tests (no servers are run in unit tests). */
final class Fixtures {
    private Fixtures() {
    }

    static Measurement m(String exp, String server, String param, double x, int run, double reqS) {
        WrkResult r = new WrkResult(reqS, reqS * x / 1048576.0 + 1, 0.5 + run * 0.1, 2.0 + run, (long) reqS * 3, 0, 0);
        return new Measurement(exp, server, server.startsWith("flash-") ? server.substring(6) : "event", param, x,
                run, 50, 3, r, 0.97, 0.6, 20_000 + (long) x, 18_000, 0.98, false, false,
                "raw/" + exp + "/" + param + "-" + server + "-r" + run + ".txt");
    }

    static List<Measurement> everyExperiment() {
        List<Measurement> out = new ArrayList<>();
        for (int run = 1; run <= 3; run++) {
            for (String s : List.of("flash-amped", "nginx", "lighttpd")) {
                double k = s.equals("nginx") ? 1.0 : s.equals("lighttpd") ? 1.3 : 1.2;
                for (long size : FileSizeDocRoot.QUICK_SIZES) {
                    out.add(m("filesize", s, Fmt.bytes(size), size, run, k * 5e7 / (size + 1000)));
                }
                out.add(m("traces", s, "nasa", 0, run, k * 30_000));
                out.add(m("traces", s, "specweb99", 1, run, k * 20_000));
                for (double mb : new double[] {4, 16, 64}) {
                    out.add(m("dataset", s, (int) mb + "MiB", mb, run, k * 40_000 / Math.sqrt(mb)));
                }
                for (String p : BigSiteExperiment.POINTS) {
                    out.add(m("bigsite", s, p, BigSiteExperiment.POINTS.indexOf(p), run,
                            k * (p.endsWith("cold") ? 8_000 : 25_000)));
                }
                for (int c : new int[] {10, 100, 1000, 10000}) {
                    out.add(m("concurrency", s, Integer.toString(c), c, run, k * 40_000 - c));
                }
            }
            for (var spec : AblationExperiment.combinations()) {
                out.add(m("ablation", spec.label(), "small-files", 0, run, 10_000 + spec.label().length() * 1000));
            }
        }
        return out;
    }
}
