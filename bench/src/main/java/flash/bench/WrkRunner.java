package flash.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs `wrk -t1 -cN -dS --latency` pinned to CPU 1 while sampling the server's CPU time and memory, and measures
 * wrk's own CPU time with the shell's `times` builtin (wrk is reaped before we could read its /proc entry).
 */
public final class WrkRunner {
    static final int GENERATOR_CPU = 1;
    private static final Pattern TIMES = Pattern.compile("(\\d+)m([0-9.]+)s\\s+(\\d+)m([0-9.]+)s");

    /** Raw wrk output plus the resource numbers taken around it. */
    public record Outcome(String output, WrkResult result, double serverCpu, double genCpu, long rssPeakKb,
                          long rssIdleKb, double cpu0Busy) {
    }

    public Outcome run(ServerProcess server, Target target, int connections, int seconds, Path rawFile)
            throws IOException, InterruptedException {
        List<String> wrk = new ArrayList<>(List.of("taskset", "-c", Integer.toString(GENERATOR_CPU), "wrk", "-t1",
                "-c" + connections, "-d" + seconds + "s", "--timeout", "10s", "--latency"));
        if (target.script() != null) {
            wrk.add("-s");
            wrk.add(target.script().toString());
        }
        wrk.add(server.baseUrl() + target.path());
        if (target.pathList() != null) {
            wrk.add("--");
            wrk.add(target.pathList().toString());
        }
        List<String> cmd = new ArrayList<>(List.of("bash", "-c",
                "ulimit -n 65536 2>/dev/null || ulimit -n $(ulimit -Hn); \"$@\"; rc=$?; echo; echo '#times'; times; exit $rc",
                "bash"));
        cmd.addAll(wrk);

        long pid = server.pid();
        List<Long> tree = ProcTree.withDescendants(pid);
        long rssIdle = ProcTree.rssKb(tree);
        long cpuBefore = ProcTree.cpuTicks(tree);
        long[] core0Before = ProcTree.cpuBusyTotal(ServerProcess.SERVER_CPU);
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        AtomicLong rssPeak = new AtomicLong(rssIdle);
        Thread sampler = Thread.ofPlatform().daemon().start(() -> new RssSampler(pid, tree).sampleWhileAlive(p, rssPeak));
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int rc = p.waitFor();
        long elapsedNs = System.nanoTime() - t0;
        long cpuAfter = ProcTree.cpuTicks(pid);
        long[] core0After = ProcTree.cpuBusyTotal(ServerProcess.SERVER_CPU);
        sampler.join(1000);
        Files.writeString(rawFile, String.join(" ", wrk) + "\n" + out, StandardCharsets.UTF_8);
        if (rc != 0) {
            throw new IOException("wrk exited " + rc + " (" + rawFile + "): " + firstLine(out));
        }
        double secs = elapsedNs / 1e9;
        double serverCpu = (cpuAfter - cpuBefore) / ProcTree.TICKS_PER_SEC / secs;
        double genCpu = generatorCpuSeconds(out) / secs;
        long totalDelta = core0After[1] - core0Before[1];
        double busy = totalDelta > 0 ? (double) (core0After[0] - core0Before[0]) / totalDelta : Double.NaN;
        return new Outcome(out, WrkResult.parse(out), serverCpu, genCpu, rssPeak.get(), rssIdle, busy);
    }

    /** Children's user+sys seconds from the second line after the "#times" marker. */
    static double generatorCpuSeconds(String out) {
        int at = out.lastIndexOf("#times");
        if (at < 0) {
            return Double.NaN;
        }
        String[] lines = out.substring(at).split("\n");
        if (lines.length < 3) {
            return Double.NaN;
        }
        Matcher m = TIMES.matcher(lines[2]);
        if (!m.find()) {
            return Double.NaN;
        }
        return Long.parseLong(m.group(1)) * 60 + Double.parseDouble(m.group(2))
                + Long.parseLong(m.group(3)) * 60 + Double.parseDouble(m.group(4));
    }

    private static String firstLine(String s) {
        String t = s.strip();
        int nl = t.indexOf('\n');
        return nl < 0 ? t : t.substring(0, nl);
    }
}
