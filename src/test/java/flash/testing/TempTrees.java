package flash.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

/**
 * Temporary trees that a test JVM makes once (static fixtures shared by many tests) and removes when it exits. Without
 * this, each run of the suite left about 50 MB under the temporary directory: the class path copied for servers run
 * as another user alone is 42 MB. Symbolic links in a tree are removed, never followed.
 */
public final class TempTrees {
    private static final List<Path> TREES = new CopyOnWriteArrayList<>();

    static {
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("temp-trees").unstarted(() -> TREES.forEach(TempTrees::remove)));
    }

    private TempTrees() {}

    /** {@code dir}, to be removed with all it holds when this JVM exits. */
    public static Path removedAtExit(Path dir) {
        TREES.add(dir);
        return dir;
    }

    /** Removes {@code root} and everything under it, as far as permissions allow (a fixture may lock a directory). */
    static void remove(Path root) {
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : (Iterable<Path>) all.sorted(Comparator.reverseOrder())::iterator) {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // a directory a test made unreadable, or a file still in use: left, as before
                }
            }
        } catch (IOException | java.io.UncheckedIOException ignored) {
            // the tree is gone already, or cannot be listed
        }
    }
}
