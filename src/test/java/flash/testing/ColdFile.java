package flash.testing;

import flash.content.ResidencyHint;
import flash.sys.Native;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Makes a file wholly cold for a test that needs every page gone, not most: {@link Native#evictFromPageCache} drops
 * what it can, but a file written just before can keep a few pages (in another CPU's LRU batch, or still under
 * writeback), which made such tests flaky. Repeats until cachestat counts no page, and fails loudly if pages stay.
 */
public final class ColdFile {
    private ColdFile() {}

    public static void evict(Path file) throws IOException, InterruptedException {
        for (int attempt = 0; attempt < 200; attempt++) {
            dropPages(file);
            long cached = residentPages(file);
            if (cached <= 0) return; // none left, or no cachestat on this kernel to tell
            Thread.sleep(10);
        }
        throw new IOException(file + ": pages stay in the page cache after 200 evictions (is it mapped?)");
    }

    /**
     * {@link Native#evictFromPageCache}, and every residency hint withdrawn ({@link ResidencyHint#notResident}): this
     * process evicted the pages itself, so it knows, where an eviction from outside is seen only at the next failed
     * test. A test that evicts a file the server has just sent, and expects the server to find it cold, needs this.
     */
    public static void dropPages(Path file) throws IOException {
        Native.evictFromPageCache(file);
        ResidencyHint.notResident();
    }

    /** As {@link #evict}, for a file that may have been deleted (nothing to do then). */
    public static void evictIfPresent(Path file) throws IOException, InterruptedException {
        if (java.nio.file.Files.exists(file)) evict(file);
    }

    /**
     * Whether every page of {@code file} is in the page cache, by cachestat; a test that needs the answer assumes
     * {@link #canTell} first.
     */
    public static boolean wholeInMemory(Path file) throws IOException {
        long pages = (java.nio.file.Files.size(file) + 4095) / 4096;
        return residentPages(file) >= pages;
    }

    /** Whether this kernel answers {@link #wholeInMemory} (cachestat, Linux 6.5+). */
    public static boolean canTell(Path file) throws IOException {
        return residentPages(file) >= 0;
    }

    private static long residentPages(Path file) throws IOException {
        int fd = Native.openReadOnly(file);
        if (fd < 0) throw new IOException("open " + file + ": errno " + -fd);
        try {
            return Native.cachestat(fd, 0, 0);
        } finally {
            Native.close(fd);
        }
    }
}
