package flash.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Keeps the harness's own threads off the servers' core. The harness is a JVM too: in the first measured runs its C2
 * compiler thread compiled its sampling and parsing code, and the scheduler put it on the server's core in slices of
 * up to 30 ms, in the middle of a run. The first run of the 10-connection point then had a p99 of 2.3-2.9 ms for
 * Flash (0.4-0.7 in the runs after it) and the worst of nginx's and lighttpd's runs (docs/performance.md, section 50).
 * Where a third CPU exists the harness takes the others; on two it shares the generator's, where what it takes
 * lowers wrk's share of that core (1-2% with the launcher's C1-only harness), and a run the generator bound by less
 * than that may not be marked generator-bound.
 */
final class HarnessAffinity {
    private HarnessAffinity() {
    }

    /** The CPUs of a kernel CPU list ("0-3,6"); throws NumberFormatException on a form it does not know. */
    static TreeSet<Integer> parse(String list) {
        TreeSet<Integer> cpus = new TreeSet<>();
        for (String part : list.trim().split(",")) {
            if (part.isEmpty()) continue;
            int dash = part.indexOf('-');
            int from = Integer.parseInt(dash < 0 ? part : part.substring(0, dash));
            int to = dash < 0 ? from : Integer.parseInt(part.substring(dash + 1));
            for (int c = from; c <= to; c++) cpus.add(c);
        }
        return cpus;
    }

    /** {@code cpus} as a CPU list with ranges ("1-3,6"); null when empty. */
    static String format(TreeSet<Integer> cpus) {
        if (cpus.isEmpty()) return null;
        StringBuilder sb = new StringBuilder();
        Integer start = null, prev = null;
        for (int c : cpus) {
            if (prev != null && c == prev + 1) {
                prev = c;
                continue;
            }
            if (start != null) sb.append(sb.isEmpty() ? "" : ",").append(start.equals(prev) ? start : start + "-" + prev);
            start = prev = c;
        }
        sb.append(sb.isEmpty() ? "" : ",").append(start.equals(prev) ? start : start + "-" + prev);
        return sb.toString();
    }

    /**
     * Where the harness runs, of {@code allowed} (a kernel CPU list): without the server's CPU, and without the
     * generator's too when that leaves any; null when only the server's is allowed.
     */
    static String placement(String allowed, int serverCpu, int generatorCpu) {
        TreeSet<Integer> cpus = parse(allowed);
        cpus.remove(serverCpu);
        TreeSet<Integer> neither = new TreeSet<>(cpus);
        neither.remove(generatorCpu);
        return format(neither.isEmpty() ? cpus : neither);
    }

    /** The CPUs thread or process {@code status} (a /proc status file) may run on, or null if unreadable. */
    static String allowed(Path status) { return ProcTree.value(status, "Cpus_allowed_list:"); }

    /** The status files of every thread of {@code pid} now. */
    static List<Path> threadStatuses(long pid) throws IOException {
        try (Stream<Path> tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            return tasks.map(t -> t.resolve("status")).toList();
        }
    }

    /**
     * Moves every thread of {@code pid} to {@code cpus} ({@code taskset -a -p -c}); threads made later inherit it
     * from the thread that makes them. Checked thread by thread afterwards, once more for a thread made while
     * taskset ran, since taskset -a also succeeds for a pid that does not exist.
     *
     * @return null, or why it could not
     */
    static String pin(long pid, String cpus) {
        String failed = null;
        for (int attempt = 0; attempt < 2; attempt++) {
            failed = taskset(pid, cpus);
            if (failed != null) return failed;
            failed = notOn(pid, cpus);
            if (failed == null) return null;
        }
        return failed;
    }

    private static String taskset(long pid, String cpus) {
        try {
            Process p = new ProcessBuilder("taskset", "-a", "-p", "-c", cpus, Long.toString(pid))
                    .redirectErrorStream(true).start();
            // A line or two a thread: far below what the pipe holds, so the wait cannot block on it.
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "taskset did not finish";
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            return p.exitValue() == 0 ? null : "taskset failed: " + out;
        } catch (IOException e) {
            return "taskset: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    /** Null when every thread of {@code pid} may run on exactly {@code cpus}; else which is not, or that none exist. */
    private static String notOn(long pid, String cpus) {
        List<Path> threads;
        try {
            threads = threadStatuses(pid);
        } catch (IOException e) {
            return "no process " + pid;
        }
        TreeSet<Integer> want = parse(cpus);
        for (Path status : threads) {
            String now = allowed(status);
            if (now != null && !parse(now).equals(want)) return "thread " + status.getParent().getFileName() + " still on CPU " + now;
        }
        return null;
    }

    /**
     * Pins this JVM off {@link ServerProcess#SERVER_CPU} (and off {@link WrkRunner#GENERATOR_CPU} where a third CPU
     * allows), if another CPU is allowed.
     *
     * @return where the harness now runs, or why it shares the server's core
     */
    static String keepOffServerCore() {
        long self = ProcessHandle.current().pid();
        String allowed = allowed(Path.of("/proc/self/status"));
        if (allowed == null) return "the harness not pinned (its CPU list unreadable)";
        String cpus;
        try {
            cpus = placement(allowed, ServerProcess.SERVER_CPU, WrkRunner.GENERATOR_CPU);
        } catch (NumberFormatException e) {
            return "the harness not pinned (CPU list " + allowed + ")";
        }
        if (cpus == null) return "the harness shares the server's CPU (only CPU " + allowed + " allowed)";
        String failed = pin(self, cpus);
        return failed == null ? "the harness on CPU " + cpus : "the harness not pinned (" + failed + ")";
    }
}
