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
            flushDeferredSocketBuffers();
            Thread.sleep(10);
        }
        throw new IOException(file + ": pages stay in the page cache after 200 evictions (is it mapped?)");
    }

    /**
     * A file just sent by sendfile can keep its pages for seconds: the socket buffers that carried them hold
     * references until they are freed, and one freed on another CPU than the one that made it is handed back to that
     * CPU, which frees it only when it next processes received packets. With the server's loop on one CPU and the
     * client on the other, an idle test can wait long for that (measured: a 40 KiB file still wholly cached 2.5 s
     * after a sendfile to a reader on the other CPU and DONTNEED, and evictable after one loopback byte). One byte
     * over loopback sent from each CPU makes each receive once.
     */
    private static void flushDeferredSocketBuffers() throws IOException, InterruptedException {
        try (var listener = java.nio.channels.ServerSocketChannel.open()
                .bind(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0));
             var client = java.nio.channels.SocketChannel.open(listener.getLocalAddress());
             var server = listener.accept()) {
            for (int cpu = 0; cpu < Math.max(64, 2 * Runtime.getRuntime().availableProcessors()); cpu++) {
                int target = cpu;
                Thread t = Thread.ofPlatform().start(() -> {
                    if (!pinTo(target)) return; // not a CPU this process may use
                    try {
                        client.write(java.nio.ByteBuffer.wrap(new byte[] {1}));
                        server.read(java.nio.ByteBuffer.allocate(1));
                    } catch (IOException e) {
                        // best effort: evict's loop checks what stays, and says so if pages do
                    }
                });
                t.join();
            }
        }
    }

    private static final java.lang.invoke.MethodHandle SCHED_SETAFFINITY = java.lang.foreign.Linker.nativeLinker()
            .defaultLookup().find("sched_setaffinity")
            .map(a -> java.lang.foreign.Linker.nativeLinker().downcallHandle(a, java.lang.foreign.FunctionDescriptor.of(
                    java.lang.foreign.ValueLayout.JAVA_INT, java.lang.foreign.ValueLayout.JAVA_INT,
                    java.lang.foreign.ValueLayout.JAVA_LONG, java.lang.foreign.ValueLayout.ADDRESS)))
            .orElse(null);

    /** Pins the calling thread to {@code cpu}; false if this process may not run there (or no libc to ask). */
    static boolean pinTo(int cpu) {
        if (SCHED_SETAFFINITY == null) return false;
        try (var arena = java.lang.foreign.Arena.ofConfined()) {
            var mask = arena.allocate(128); // cpu_set_t: 1,024 CPUs
            mask.set(java.lang.foreign.ValueLayout.JAVA_BYTE, cpu / 8, (byte) (1 << (cpu % 8)));
            return (int) SCHED_SETAFFINITY.invokeExact(0, 128L, mask) == 0;
        } catch (Throwable e) {
            return false;
        }
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
