package flash.bench;

import flash.content.PathCache;
import flash.content.PathTranslator;
import flash.content.Translation;
import flash.http.RequestTarget;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Heap bytes per path-cache entry, measured the way a heap histogram would: the live heap after a full collection,
 * before and after filling a real {@link PathCache} with real translations ({@link PathTranslator} over files in a
 * temporary directory, paths like a site's: three directories deep). Small files' bodies are native memory, not
 * heap: counted apart (their size, plus malloc's 16 bytes).
 * {@code java -cp target/flash.jar:bench/target/flash-bench.jar flash.bench.CachePolicySim --entry-size}
 */
final class EntrySize {
    private EntrySize() {}

    static void main() throws IOException {
        int n = 20_000;
        Path dir = Files.createTempDirectory("flash-entry-size");
        try {
            RequestTarget.Normalized[] targets = new RequestTarget.Normalized[n];
            for (int i = 0; i < n; i++) {
                Path d = dir.resolve("images").resolve("gallery" + (i % 50));
                Files.createDirectories(d);
                Files.write(d.resolve("photo-" + i + ".html"), new byte[] {'x'});
                targets[i] = (RequestTarget.Normalized) RequestTarget.normalize("/images/gallery" + (i % 50) + "/photo-" + i + ".html");
            }
            PathTranslator translator = new PathTranslator(dir, false, false, false, 64 * 1024);
            PathTranslator bigTranslator = new PathTranslator(dir, false, false, false, 0); // every file "large"
            measure("negative entry (404)", n, targets, t -> Translation.NOT_FOUND);
            measure("redirect", n, targets, t -> new Translation.Redirect(t.path() + "/"));
            measure("file held in memory (1-byte body)", n, targets, t -> translator.translate(t));
            // an open descriptor each: 5,000 of them, under the usual descriptor limits
            measure("file sent from disk (open descriptor)", 5_000, targets, t -> bigTranslator.translate(t));
        } finally {
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static void measure(String what, int n, RequestTarget.Normalized[] targets,
                                java.util.function.Function<RequestTarget.Normalized, Translation> make) {
        long before = liveHeap();
        PathCache cache = new PathCache(n, 1L << 40, Long.MAX_VALUE);
        for (int i = 0; i < n; i++) {
            // Keys as a server has them: each request parses its own target, and the cache keeps its path string.
            var target = (RequestTarget.Normalized) RequestTarget.normalize(new String(targets[i].path()));
            Translation t = make.apply(target);
            cache.put(target, t);
            if (t instanceof Translation.Found f) f.entry().release();
        }
        cache.cleanUp();
        long after = liveHeap();
        System.out.printf(Locale.ROOT, "%-36s %,d entries: %,d heap bytes per entry%n", what, cache.size(),
                (after - before) / n);
        cache.clear();
    }

    /** The heap in use after collections, once the cleaner has run what the previous ones left it (stable twice). */
    private static long liveHeap() {
        long last = -1;
        for (int same = 0, i = 0; same < 2 && i < 50; i++) {
            System.gc();
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            long now = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
            same = now == last ? same + 1 : 0;
            last = now;
        }
        return last;
    }
}
