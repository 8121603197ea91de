package flash.bench;

/**
 * One measured run: a row of results.csv.
 *
 * @param param      the x value as text (e.g. "10KiB", "nasa", "path+file")
 * @param x          the x value as a number for plots (bytes, connections, MiB, or index)
 * @param serverCpu  cores' worth of CPU the server tree got (1.0 = one core busy the whole run)
 * @param genCpu     same for wrk
 * @param rssKb      peak resident set of the server tree sampled during the run
 * @param rssIdleKb  resident set of the server tree just before the run
 * @param cpu0Busy   share of the server's core busy with anything (server or intruder) during the run
 * @param starved    server below 80% of a core while wrk was not saturated either
 * @param retried    this run replaced an earlier starved attempt
 */
public record Measurement(String experiment, String server, String arch, String param, double x, int run,
                          int connections, double durationS, WrkResult wrk, double serverCpu, double genCpu,
                          long rssKb, long rssIdleKb, double cpu0Busy, boolean starved, boolean retried, String rawFile) {

    /** wrk's one thread near a whole core: the load generator, not the server, set the pace. */
    public boolean generatorBound() {
        return genCpu >= 0.95;
    }

    public double reqS() {
        return wrk.requestsPerSec();
    }

    /**
     * Microseconds of CPU the server tree spent per response (all its threads: loops, helpers, JIT, GC), or NaN when
     * no request completed. Where wrk set the pace, req/s says nothing about the server and this does.
     */
    public double serverUsPerRequest() {
        return wrk.requests() > 0 ? serverCpu * durationS * 1e6 / wrk.requests() : Double.NaN;
    }

    /**
     * wrk's own CPU microseconds per request. Where wrk is generator-bound its core is full, so this, not the
     * server, sets req/s: at 1 MiB it reads 8 KiB at a time, with an ioctl before each read.
     */
    public double generatorUsPerRequest() {
        return wrk.requests() > 0 ? genCpu * durationS * 1e6 / wrk.requests() : Double.NaN;
    }
}
