package flash.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.Stream;

/**
 * One document root per test JVM with the files the integration tests serve; their modification time is fixed
 * in the past so date conditionals are deterministic. Deleted when the JVM exits.
 */
public final class Fixtures {
    public static final Instant MTIME = Instant.parse("2021-03-04T05:06:07Z");
    /** Below the in-memory threshold: sent from memory with its head in one write. */
    public static final byte[] SMALL = random(10_000, 1);
    /** Above it, and over two sendfile chunks: sent from the file. */
    public static final byte[] LARGE = random(2_500_000, 2);
    public static final String HELLO = "hello, world\n";
    public static final String INDEX = "<!DOCTYPE html><title>dir</title>\n";

    private static final Path ROOT = create();

    private Fixtures() {}

    public static Path root() { return ROOT; }

    private static Path create() {
        try {
            Path r = Files.createTempDirectory("flash-integ-").toRealPath();
            Files.write(r.resolve("small.bin"), SMALL);
            Files.write(r.resolve("large.bin"), LARGE);
            Files.writeString(r.resolve("hello.txt"), HELLO);
            Files.writeString(r.resolve("page.html"), "<p>page</p>\n");
            Files.writeString(r.resolve("style.css"), "p { color: red }\n");
            Files.writeString(r.resolve("app.js"), "console.log(1);\n");
            Files.writeString(r.resolve("data.json"), "{\"a\":1}\n");
            Files.write(r.resolve("image.png"), random(300, 3));
            Files.createDirectories(r.resolve("dir"));
            Files.writeString(r.resolve("dir/index.html"), INDEX);
            Files.createDirectories(r.resolve("empty"));
            Files.createDirectories(r.resolve("list/sub"));
            Files.writeString(r.resolve("list/<script>&\"x\".txt"), "x");
            Files.writeString(r.resolve("list/plain.txt"), "p");
            try (Stream<Path> all = Files.walk(r)) {
                for (Path p : all.toList()) Files.setLastModifiedTime(p, FileTime.from(MTIME));
            }
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(r)));
            return r;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Removes {@code dir} and what it holds, as far as it can: one path that cannot go does not keep the others. */
    public static void deleteTree(Path dir) {
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // best effort: a temp directory (a test may have locked a directory in it)
                }
            }
        } catch (IOException | UncheckedIOException ignored) {
            // best effort: gone already, or cannot be listed
        }
    }

    public static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    public static byte[] ascii(String s) { return s.getBytes(StandardCharsets.ISO_8859_1); }
}
