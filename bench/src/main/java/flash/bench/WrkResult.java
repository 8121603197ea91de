package flash.bench;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What one wrk run reported. Latencies in milliseconds, transfer in MiB/s (wrk's "MB" is binary). */
public record WrkResult(double requestsPerSec, double mbPerSec, double p50Ms, double p99Ms,
                        long requests, long non2xx, long socketErrors) {

    private static final Pattern REQ_S = Pattern.compile("Requests/sec:\\s+([0-9.]+)");
    private static final Pattern TRANSFER = Pattern.compile("Transfer/sec:\\s+([0-9.]+)([KMGT]?B)");
    private static final Pattern P50 = Pattern.compile("^\\s*50(?:\\.0+)?%\\s+([0-9.]+)(us|ms|s|m|h)\\s*$", Pattern.MULTILINE);
    private static final Pattern P99 = Pattern.compile("^\\s*99(?:\\.0+)?%\\s+([0-9.]+)(us|ms|s|m|h)\\s*$", Pattern.MULTILINE);
    private static final Pattern TOTAL = Pattern.compile("(\\d+) requests in");
    private static final Pattern NON2XX = Pattern.compile("Non-2xx or 3xx responses:\\s+(\\d+)");
    private static final Pattern SOCKET = Pattern.compile(
            "Socket errors: connect (\\d+), read (\\d+), write (\\d+), timeout (\\d+)");

    public long errors() {
        return non2xx + socketErrors;
    }

    /** Parses wrk's text output (run with --latency); throws if the essential lines are missing. */
    public static WrkResult parse(String out) {
        Matcher rs = REQ_S.matcher(out);
        if (!rs.find()) {
            throw new IllegalArgumentException("wrk output has no Requests/sec line");
        }
        double reqS = Double.parseDouble(rs.group(1));
        double mb = 0;
        Matcher tr = TRANSFER.matcher(out);
        if (tr.find()) {
            mb = Double.parseDouble(tr.group(1)) * binaryScale(tr.group(2)) / (1024.0 * 1024.0);
        }
        long total = find(TOTAL, out);
        long non2xx = find(NON2XX, out);
        long sock = 0;
        Matcher se = SOCKET.matcher(out);
        if (se.find()) {
            for (int g = 1; g <= 4; g++) {
                sock += Long.parseLong(se.group(g));
            }
        }
        return new WrkResult(reqS, mb, latency(P50, out), latency(P99, out), total, non2xx, sock);
    }

    private static long find(Pattern p, String out) {
        Matcher m = p.matcher(out);
        return m.find() ? Long.parseLong(m.group(1)) : 0;
    }

    private static double latency(Pattern p, String out) {
        Matcher m = p.matcher(out);
        if (!m.find()) {
            return Double.NaN;
        }
        double v = Double.parseDouble(m.group(1));
        return switch (m.group(2)) {
            case "us" -> v / 1000.0;
            case "ms" -> v;
            case "s" -> v * 1000.0;
            case "m" -> v * 60_000.0;
            case "h" -> v * 3_600_000.0;
            default -> throw new IllegalStateException(m.group(2));
        };
    }

    private static double binaryScale(String unit) {
        return switch (unit.toUpperCase(Locale.ROOT)) {
            case "B" -> 1;
            case "KB" -> 1024.0;
            case "MB" -> 1024.0 * 1024;
            case "GB" -> 1024.0 * 1024 * 1024;
            case "TB" -> 1024.0 * 1024 * 1024 * 1024;
            default -> throw new IllegalStateException(unit);
        };
    }
}
