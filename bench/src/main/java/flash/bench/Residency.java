package flash.bench;

import flash.sys.Native;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * How much of a set of files is in the page cache: cachestat(2) (Linux 6.5+, the kernel's own count) through
 * {@link Native}, else util-linux fincore (mincore on a mapping of each file). This is what proves an eviction
 * worked, and how much of a data set a cold run read back from the disk.
 */
final class Residency {
    static final int FINCORE_BATCH = 200;

    /** Resident pages out of the set's pages, and how they were counted. */
    record Count(long residentPages, long totalPages, String method) {
        double share() {
            return totalPages == 0 ? 0 : Math.min(1.0, (double) residentPages / totalPages);
        }

        double residentMib() {
            return residentPages * (double) Native.pageSize() / 1048576.0;
        }

        String describe() {
            return String.format(Locale.ROOT, "%.1f MiB (%.1f%%)", residentMib(), share() * 100);
        }
    }

    private Residency() {
    }

    /** Pages the files span (what a fully cached set would show). */
    static long pages(long bytes) {
        long page = Native.pageSize();
        return (bytes + page - 1) / page;
    }

    /** Counts the set's resident pages; null when neither cachestat nor fincore can (a NOTE says so). */
    static Count of(List<Path> files) throws IOException, InterruptedException {
        long total = 0;
        for (Path f : files) {
            total += pages(Files.size(f));
        }
        Long resident = viaCachestat(files);
        if (resident != null) {
            return new Count(resident, total, "cachestat");
        }
        resident = viaFincore(files);
        return resident == null ? null : new Count(resident, total, "fincore");
    }

    private static Long viaCachestat(List<Path> files) {
        if (!Native.available()) {
            return null;
        }
        long sum = 0;
        for (Path f : files) {
            int fd = Native.openReadOnly(f);
            if (fd < 0) {
                return null;
            }
            try {
                long pages = Native.cachestat(fd, 0, 0);
                if (pages < 0) {
                    return null; // ENOSYS before Linux 6.5: fincore instead
                }
                sum += pages;
            } finally {
                Native.close(fd);
            }
        }
        return sum;
    }

    /** `fincore --raw --noheadings --output PAGES FILE...`, a batch of files per call. */
    static Long viaFincore(List<Path> files) throws IOException, InterruptedException {
        if (!Tools.installed("fincore")) {
            return null;
        }
        long sum = 0;
        for (int i = 0; i < files.size(); i += FINCORE_BATCH) {
            List<String> cmd = new ArrayList<>(List.of("fincore", "--raw", "--noheadings", "--output", "PAGES"));
            for (Path f : files.subList(i, Math.min(files.size(), i + FINCORE_BATCH))) {
                cmd.add(f.toString());
            }
            Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                return null;
            }
            Long batch = sumPages(out);
            if (batch == null) {
                return null;
            }
            sum += batch;
        }
        return sum;
    }

    /** Sums fincore's one-number-per-line output; null if a line is not a number. */
    static Long sumPages(String fincoreOutput) {
        long sum = 0;
        for (String line : fincoreOutput.split("\n")) {
            String t = line.strip();
            if (t.isEmpty()) {
                continue;
            }
            try {
                sum += Long.parseLong(t);
            } catch (NumberFormatException e) {
                return null;
            }
        }
        return sum;
    }
}
