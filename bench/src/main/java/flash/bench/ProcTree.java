package flash.bench;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads /proc for a process and its descendants: CPU ticks and resident memory. Summing the tree matters for
 * nginx (master + worker) and Flash's multi-process architecture, where the work happens in children.
 */
public final class ProcTree {
    /** USER_HZ; 100 on every Linux we run on (getconf CLK_TCK). */
    static final double TICKS_PER_SEC = 100.0;

    private ProcTree() {
    }

    /** pid plus all its live descendants. */
    public static List<Long> withDescendants(long pid) {
        Map<Long, List<Long>> children = new HashMap<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path p : ds) {
                long ppid = parentOf(p);
                if (ppid > 0) {
                    children.computeIfAbsent(ppid, k -> new ArrayList<>()).add(Long.parseLong(p.getFileName().toString()));
                }
            }
        } catch (IOException e) {
            // fall through with what we have
        }
        List<Long> out = new ArrayList<>();
        out.add(pid);
        for (int i = 0; i < out.size(); i++) {
            out.addAll(children.getOrDefault(out.get(i), List.of()));
        }
        return out;
    }

    private static long parentOf(Path procDir) {
        String[] f = statFields(procDir.resolve("stat"));
        return f == null ? -1 : Long.parseLong(f[1]);
    }

    /** Fields after "(comm)": index 0 is state, 1 ppid, 11 utime, 12 stime. Null if the process is gone. */
    static String[] statFields(Path stat) {
        try {
            String s = Files.readString(stat);
            return parseStat(s);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    static String[] parseStat(String s) {
        int close = s.lastIndexOf(')');
        return s.substring(close + 2).trim().split(" ");
    }

    /** utime+stime ticks summed over the tree. */
    public static long cpuTicks(long pid) {
        return cpuTicks(withDescendants(pid));
    }

    /** utime+stime ticks summed over {@code tree}, as {@link #withDescendants} found it: a process gone counts 0. */
    public static long cpuTicks(List<Long> tree) {
        long sum = 0;
        for (long p : tree) {
            String[] f = statFields(Path.of("/proc", Long.toString(p), "stat"));
            if (f != null) {
                sum += Long.parseLong(f[11]) + Long.parseLong(f[12]);
            }
        }
        return sum;
    }

    /**
     * utime+stime ticks of the JIT's compiler threads ("C1 CompilerThre", "C2 CompilerThre") summed over the tree: what
     * the JVMs still spend compiling, on the server's own core when it is pinned to one.
     */
    public static long compilerTicks(long pid) {
        long sum = 0;
        for (long p : withDescendants(pid)) {
            Path tasks = Path.of("/proc", Long.toString(p), "task");
            try (var dir = Files.newDirectoryStream(tasks)) {
                for (Path t : dir) {
                    String comm;
                    try {
                        comm = Files.readString(t.resolve("comm")).trim();
                    } catch (IOException gone) {
                        continue;
                    }
                    if (!comm.startsWith("C1 Compiler") && !comm.startsWith("C2 Compiler")) continue;
                    String[] f = statFields(t.resolve("stat"));
                    if (f != null) sum += Long.parseLong(f[11]) + Long.parseLong(f[12]);
                }
            } catch (IOException | RuntimeException e) {
                // process gone
            }
        }
        return sum;
    }

    /**
     * VmRSS in KiB summed over {@code tree}, as {@link #withDescendants} found it, perhaps a while ago ({@link
     * RssSampler} keeps one between finds): a process gone since counts 0. Shared pages count once per process, as
     * ps would.
     */
    public static long rssKb(List<Long> tree) {
        long sum = 0;
        for (long p : tree) {
            sum += vmRssKb(Path.of("/proc", Long.toString(p), "status"));
        }
        return sum;
    }

    static long vmRssKb(Path status) {
        return Math.max(0, kib(status, "VmRSS:")); // -1: the process is gone
    }

    /** The number of a "key: N kB" line of {@code file} ({@link #value}), or -1 when there is none or it is not one. */
    static long kib(Path file, String key) {
        String v = value(file, key);
        try {
            return v == null ? -1 : Long.parseLong(v.split("\\s+")[0]);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /**
     * The text after the colon of the first line of {@code file} (a /proc file of "key: value" lines) that starts
     * with {@code key}, trimmed; null when there is none or the file cannot be read (a process gone).
     */
    static String value(Path file, String key) {
        try {
            for (String line : Files.readAllLines(file)) {
                if (line.startsWith(key)) return line.substring(line.indexOf(':') + 1).trim();
            }
        } catch (IOException | RuntimeException e) {
            return null;
        }
        return null;
    }

    /** Busy and total jiffies of one CPU from /proc/stat, to tell whether someone else ran on the server's core. */
    public static long[] cpuBusyTotal(int cpu) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/stat"))) {
                if (line.startsWith("cpu" + cpu + " ")) {
                    String[] f = line.trim().split("\\s+");
                    long total = 0;
                    for (int i = 1; i < f.length && i <= 8; i++) {
                        total += Long.parseLong(f[i]);
                    }
                    long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
                    return new long[] {total - idle, total};
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux?
        }
        return new long[] {0, 0};
    }
}
