package flash.hardening;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.LongSupplier;
import java.util.stream.Stream;

/** What the kernel says about a process: open descriptors, resident memory, descriptor limit. */
final class Procfs {
    private Procfs() { }

    /** Open descriptors of a process ("self" or a pid). */
    static long fds(String pid) {
        try (Stream<Path> s = Files.list(Path.of("/proc", pid, "fd"))) {
            return s.count();
        } catch (IOException e) {
            throw new IllegalStateException("cannot list /proc/" + pid + "/fd", e);
        }
    }

    /** Resident set size in KiB (VmRSS). */
    static long rssKib(String pid) {
        return statusField(pid, "VmRSS:");
    }

    static long threads(String pid) {
        return statusField(pid, "Threads:");
    }

    /** The soft limit on open descriptors of this JVM (the JVM raises it to the hard limit at start). */
    static long fdLimit() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (l.startsWith("Max open files")) {
                    String v = l.substring("Max open files".length()).trim().split("\\s+")[0];
                    return v.equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(v);
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        throw new IllegalStateException("no 'Max open files' in /proc/self/limits");
    }

    private static long statusField(String pid, String field) {
        try {
            for (String l : Files.readAllLines(Path.of("/proc", pid, "status"))) {
                if (l.startsWith(field)) return Long.parseLong(l.substring(field.length()).trim().split("\\s+")[0]);
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        throw new IllegalStateException("no " + field + " in /proc/" + pid + "/status");
    }

    /**
     * Polls until {@code value} drops to at most {@code target}, for at most {@code maxMillis}; returns the last
     * value seen. Closed sockets leave the descriptor table asynchronously (lingering closes, timers), hence polling.
     */
    static long awaitAtMost(LongSupplier value, long target, long maxMillis) throws InterruptedException {
        long deadline = System.nanoTime() + maxMillis * 1_000_000;
        long v = value.getAsLong();
        while (v > target && System.nanoTime() < deadline) {
            Thread.sleep(50);
            v = value.getAsLong();
        }
        return v;
    }
}
