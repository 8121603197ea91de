package flash.bench;

import flash.sys.Native;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Drops files' pages from the page cache so the next read goes to disk: posix_fadvise(POSIX_FADV_DONTNEED)
 * through {@link Native}, or `dd iflag=nocache count=0` (which makes the same call) without the native layer.
 * Neither drops a page some process has mapped (Flash's mapped-file cache, for instance): {@link Residency} counts
 * what is left.
 */
final class PageCache {
    static final Path DROP_CACHES = Path.of("/proc/sys/vm/drop_caches");

    private PageCache() {
    }

    static void evict(List<Path> files) throws IOException, InterruptedException {
        for (Path f : files) {
            evict(f);
        }
    }

    static void evict(Path file) throws IOException, InterruptedException {
        if (Native.available()) {
            Native.evictFromPageCache(file);
            return;
        }
        Process p = new ProcessBuilder("dd", "if=" + file, "iflag=nocache", "count=0", "status=none")
                .redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("could not evict " + file + " from the page cache");
        }
    }

    /**
     * `echo 1 > /proc/sys/vm/drop_caches`: the whole machine's clean page cache, not just our files (so only with
     * --drop-caches). Returns null when done, else why not (not root, or a container's read-only /proc).
     */
    static String dropAll() {
        return dropAll(DROP_CACHES);
    }

    static String dropAll(Path knob) {
        try {
            Files.writeString(knob, "1\n");
            return null;
        } catch (IOException | SecurityException e) {
            return "cannot write " + knob + " (" + e.getClass().getSimpleName() + ": " + e.getMessage()
                    + "; needs root outside a read-only /proc)";
        }
    }

    /** Reads every file once so the page cache holds the whole set (the warm case). */
    static void load(List<Path> files) throws IOException {
        byte[] buf = new byte[64 * 1024];
        for (Path f : files) {
            try (var in = Files.newInputStream(f)) {
                while (in.read(buf) >= 0) {
                    // reading is the point
                }
            }
        }
    }
}
