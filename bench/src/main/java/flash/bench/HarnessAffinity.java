package flash.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * Keeps the harness's own threads off the servers' core. The harness is a JVM too: in the first measured runs its C2
 * compiler thread compiled its sampling and parsing code, and the scheduler put it on the server's core in slices of
 * up to 30 ms, in the middle of a run. The first run of the 10-connection point then had a p99 of 2.3-2.9 ms for
 * Flash (0.4-0.7 in the runs after it) and the worst of nginx's and lighttpd's runs (docs/performance.md, section 50).
 * On the generator's core the harness's bursts still cost wrk some time, which the generator-bound check sees.
 */
final class HarnessAffinity {
    private HarnessAffinity() {
    }

    /**
     * The CPU list (taskset's form, "1,2,5") of {@code allowed} (a kernel CPU list such as "0-3,6") without {@code
     * serverCpu}; null when that leaves none (a one-CPU machine: the harness shares the server's core).
     */
    static String without(String allowed, int serverCpu) {
        TreeSet<Integer> cpus = new TreeSet<>();
        for (String part : allowed.trim().split(",")) {
            if (part.isEmpty()) continue;
            int dash = part.indexOf('-');
            int from = Integer.parseInt(dash < 0 ? part : part.substring(0, dash));
            int to = dash < 0 ? from : Integer.parseInt(part.substring(dash + 1));
            for (int c = from; c <= to; c++) cpus.add(c);
        }
        cpus.remove(serverCpu);
        if (cpus.isEmpty()) return null;
        StringBuilder sb = new StringBuilder();
        for (int c : cpus) sb.append(sb.isEmpty() ? "" : ",").append(c);
        return sb.toString();
    }

    /** The CPUs {@code pid} may run on now (its Cpus_allowed_list), or null if unreadable. */
    static String allowed(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("Cpus_allowed_list:")) return line.substring(line.indexOf(':') + 1).trim();
            }
        } catch (IOException | RuntimeException e) {
            return null;
        }
        return null;
    }

    /**
     * Moves every thread of {@code pid} to {@code cpus} ({@code taskset -a -p -c}); threads made later inherit it
     * from the thread that makes them.
     *
     * @return null, or why it could not
     */
    static String pin(long pid, String cpus) {
        try {
            Process p = new ProcessBuilder("taskset", "-a", "-p", "-c", cpus, Long.toString(pid))
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "taskset did not finish";
            }
            if (p.exitValue() != 0) return "taskset failed: " + out;
            // taskset -a succeeds on a pid that does not exist: the process's own list says whether it moved.
            String now = allowed(pid);
            if (now == null) return "no process " + pid;
            return without(now, -1).equals(without(cpus, -1)) ? null : "still on CPU " + now;
        } catch (IOException e) {
            return "taskset: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    /**
     * Pins this JVM off {@link ServerProcess#SERVER_CPU}, if another CPU is allowed.
     *
     * @return the CPU list it now runs on, or a note saying why it shares the server's core
     */
    static String keepOffServerCore() {
        long self = ProcessHandle.current().pid();
        String allowed = allowed(self);
        String cpus = allowed == null ? null : without(allowed, ServerProcess.SERVER_CPU);
        if (cpus == null) return "the harness shares the server's CPU (" + allowed + " allowed)";
        String failed = pin(self, cpus);
        return failed == null ? "the harness on CPU " + cpus : "the harness shares the server's CPU (" + failed + ")";
    }
}
