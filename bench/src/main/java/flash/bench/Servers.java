package flash.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The servers of one experiment, all running at once on their own ports (idle ones cost nothing) so runs can be
 * interleaved A B C A B C: a slow drift in the machine then hits every server alike.
 */
public final class Servers implements AutoCloseable {
    private final List<ServerProcess> list = new ArrayList<>();

    public static Servers start(List<ServerSpec> specs, Path docRoot, Path workDir, Path jar, String probePath,
                                BenchLog log) throws IOException, InterruptedException {
        return start(specs, spec -> docRoot, workDir, jar, probePath, log);
    }

    /** Each server with its own document root (same URL paths), e.g. its own copy of a data set. */
    public static Servers start(List<ServerSpec> specs, java.util.function.Function<ServerSpec, Path> docRootFor,
                                Path workDir, Path jar, String probePath, BenchLog log)
            throws IOException, InterruptedException {
        Servers s = new Servers();
        try {
            for (ServerSpec spec : specs) {
                ServerProcess p = spec.create(docRootFor.apply(spec), workDir.resolve(dirName(spec.label())), jar);
                p.start(probePath, Duration.ofSeconds(60));
                log.info("  started " + spec.label() + " on port " + p.port() + " (pid " + p.pid() + ")");
                s.list.add(p);
            }
        } catch (IOException | InterruptedException | RuntimeException e) {
            s.close();
            throw e;
        }
        return s;
    }

    /** A label as a file name. */
    static String dirName(String label) {
        return label.replaceAll("[^A-Za-z0-9._-]", "_");
    }

    public List<ServerProcess> list() {
        return list;
    }

    @Override
    public void close() {
        for (ServerProcess p : list) {
            p.close();
        }
    }
}
