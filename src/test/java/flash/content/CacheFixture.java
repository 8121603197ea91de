package flash.content;

import flash.http.RequestTarget;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/** What the path cache's tests do to a site: write files, translate and cache paths as a site does, look them up. */
final class CacheFixture {
    private CacheFixture() {}

    static RequestTarget.Normalized target(String path) {
        return (RequestTarget.Normalized) RequestTarget.normalize(path);
    }

    /** Descriptors of this process open on {@code f}. */
    static long openOn(Path f) throws Exception {
        long n = 0;
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : (Iterable<Path>) s::iterator) {
                try {
                    if (Files.readSymbolicLink(fd).equals(f)) n++;
                } catch (java.io.IOException gone) {
                    // the listing's own descriptor, closed by now
                }
            }
        }
        return n;
    }

    /**
     * A second name for {@code file}, in a directory of {@code dir} nobody watches: inotify reports a write to the
     * directory of the name written through, so a write through this one reaches the file unreported. A test then
     * sees what a read or a send checks by itself, with no watch racing it.
     */
    static Path unwatchedSecondName(Path dir, Path file) throws Exception {
        Path other = Files.createDirectories(dir.resolve("elsewhere")).resolve(file.getFileName().toString());
        Files.createLink(other, file);
        return other;
    }

    /** Writes {@code size} random bytes (from {@code seed}) to {@code f}, and returns them. */
    static byte[] write(Path f, int size, long seed) throws Exception {
        byte[] data = new byte[size];
        new Random(seed).nextBytes(data);
        Files.write(f, data);
        return data;
    }

    /**
     * Writes {@code files} files {@code /f0}, {@code /f1}... under {@code root}, file i of {@code size.applyAsInt(i)}
     * random bytes from seed i, and returns their contents by index.
     */
    static byte[][] writeFiles(Path root, int files, java.util.function.IntUnaryOperator size) throws Exception {
        byte[][] data = new byte[files][];
        for (int i = 0; i < files; i++) data[i] = write(root.resolve("f" + i), size.applyAsInt(i), i);
        return data;
    }

    /** Translates {@code path} and caches it as a site does; the translation's own reference is released. */
    static void translate(PathTranslator translator, PathCache cache, String path) {
        Translation t = translator.translate(target(path));
        cache.put(target(path), t);
        if (t instanceof Translation.Found f) f.entry().release();
    }

    /**
     * What StaticSite.translate does: watches what the translation of {@code path} reads (unless {@code watch} is
     * null), translates, and caches it; returns the registration (null: unwatched). The translation's own reference
     * is released.
     */
    static FileWatch.Registration translate(PathTranslator translator, PathCache cache, FileWatch watch, String path) {
        RequestTarget.Normalized t = target(path);
        FileWatch.Registration reg = watch == null ? null : watch.register();
        if (reg != null) translator.watchDependencies(t, reg);
        Translation result = translator.translate(t);
        cache.put(t, result, reg);
        if (result instanceof Translation.Found f) f.entry().release();
        return reg;
    }

    /** The remaining bytes of {@code b} (consumed). */
    static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    /** The lookup's bytes, or null on a miss; releases what it got. */
    static byte[] served(PathCache cache, String path) {
        return bytesOf(cache.lookup(target(path)));
    }

    /** The bytes of a found translation, or null for none; releases it. */
    static byte[] bytesOf(Translation t) {
        if (t == null) return null;
        FileEntry e = ((Translation.Found) t).entry();
        try {
            return bytes(e.body());
        } finally {
            e.release();
        }
    }
}
