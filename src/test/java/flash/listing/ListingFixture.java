package flash.listing;

import flash.testing.Fixtures;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A document root for the listing tests: two directories, files of known sizes and dates, a name that is HTML, a
 * name with a colon, a dotfile, a dead symlink, a symlink out of the root and one inside it. Deleted at JVM exit.
 */
final class ListingFixture {
    static final long BIG = 3L * 1024 * 1024;
    /** Each listed entry's modification time (a symlink shows its target's). */
    static final Map<String, Instant> MTIMES = Map.of(
            "alpha", Instant.parse("2023-05-06T07:08:09Z"),
            "Zeta dir", Instant.parse("2019-02-03T04:05:06Z"),
            "small.txt", Instant.parse("2021-01-01T00:00:00Z"),
            "mid.dat", Instant.parse("2022-01-01T12:30:00Z"),
            "big.bin", Instant.parse("2020-01-01T00:00:00Z"),
            "<img src=x onerror=alert(1)>.txt", Instant.parse("2020-06-01T00:00:00Z"),
            "a:b.txt", Instant.parse("2024-11-30T23:59:59Z"));
    /** Expected sizes of the files (directories list 0). */
    static final Map<String, Long> SIZES = Map.of(
            "small.txt", 10L, "mid.dat", 2000L, "big.bin", BIG, "<img src=x onerror=alert(1)>.txt", 1L, "a:b.txt", 2L,
            "link-in.txt", 10L);

    /** Directories first, then files, each by name ignoring case. */
    static final List<String> BY_NAME = List.of("alpha", "Zeta dir",
            "<img src=x onerror=alert(1)>.txt", "a:b.txt", "big.bin", "link-in.txt", "mid.dat", "small.txt");
    /** Directories first (equal sizes: by name, reversed with the rest), then the largest file first. */
    static final List<String> BY_SIZE_DESC = List.of("Zeta dir", "alpha",
            "big.bin", "mid.dat", "small.txt", "link-in.txt", "a:b.txt", "<img src=x onerror=alert(1)>.txt");
    /** Directories first, then the oldest file first (link-in.txt has small.txt's date: the name breaks the tie). */
    static final List<String> BY_DATE_ASC = List.of("Zeta dir", "alpha",
            "big.bin", "<img src=x onerror=alert(1)>.txt", "link-in.txt", "small.txt", "mid.dat", "a:b.txt");

    private static final Path ROOT = create();

    private ListingFixture() {}

    static Path root() { return ROOT; }

    private static Path create() {
        try {
            Path base = Files.createTempDirectory("flash-listing-").toRealPath();
            Path r = Files.createDirectories(base.resolve("root"));
            Path outside = Files.createDirectories(base.resolve("outside"));
            Files.writeString(outside.resolve("secret.txt"), "secret");
            Files.createDirectories(r.resolve("alpha"));
            Files.writeString(r.resolve("alpha/inner.txt"), "inner");
            Files.createDirectories(r.resolve("Zeta dir"));
            Files.write(r.resolve("small.txt"), new byte[10]);
            Files.write(r.resolve("mid.dat"), new byte[2000]);
            Files.write(r.resolve("big.bin"), new byte[(int) BIG]);
            Files.write(r.resolve("<img src=x onerror=alert(1)>.txt"), new byte[1]);
            Files.write(r.resolve("a:b.txt"), new byte[2]);
            Files.writeString(r.resolve(".hidden"), "dot");
            Files.createSymbolicLink(r.resolve("dead"), Path.of("nowhere"));
            Files.createSymbolicLink(r.resolve("escape.txt"), outside.resolve("secret.txt"));
            Files.createSymbolicLink(r.resolve("link-in.txt"), Path.of("small.txt"));
            for (var e : MTIMES.entrySet()) Files.setLastModifiedTime(r.resolve(e.getKey()), FileTime.from(e.getValue()));
            Files.setLastModifiedTime(r.resolve("alpha/inner.txt"), FileTime.from(MTIMES.get("alpha")));
            Files.setLastModifiedTime(r.resolve("alpha"), FileTime.from(MTIMES.get("alpha")));
            if (!Files.isSymbolicLink(r.resolve("dead")) || Files.exists(r.resolve("dead"), new LinkOption[0])) {
                throw new IllegalStateException("the dead symlink fixture is not dead");
            }
            Runtime.getRuntime().addShutdownHook(new Thread(() -> Fixtures.deleteTree(base)));
            return r;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
