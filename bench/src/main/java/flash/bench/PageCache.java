package flash.bench;

import flash.sys.Native;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Drops files' pages from the page cache so the next read goes to disk: posix_fadvise(POSIX_FADV_DONTNEED)
 * through {@link Native}, or `dd iflag=nocache count=0` (which makes the same call) without the native layer.
 */
final class PageCache {
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
}
