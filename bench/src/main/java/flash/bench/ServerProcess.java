package flash.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A server under test run as a subprocess: pinned to CPU 0 with a raised fd limit, started on its own ephemeral
 * port, probed with one HTTP request before use, and stopped with SIGTERM (then SIGKILL for the whole tree).
 */
public abstract class ServerProcess implements AutoCloseable {
    static final int SERVER_CPU = 0;
    /** Every started server, so a shutdown hook can stop them if the harness is interrupted. */
    static final java.util.Set<ServerProcess> RUNNING = java.util.concurrent.ConcurrentHashMap.newKeySet();

    protected final String label;
    protected final Path docRoot;
    protected final Path workDir;
    protected int port;
    private Process process;
    private Path log;
    private final CountDownLatch readyLine = new CountDownLatch(1);

    protected ServerProcess(String label, Path docRoot, Path workDir) {
        this.label = label;
        this.docRoot = docRoot.toAbsolutePath();
        this.workDir = workDir;
    }

    /** The server's own command line; may write config files into workDir first. */
    protected abstract List<String> command() throws IOException;

    /** Servers that announce readiness on stdout say so here; others are probed over TCP. */
    protected boolean isReadyLine(String line) {
        return false;
    }

    protected boolean announcesReadiness() {
        return false;
    }

    public String label() {
        return label;
    }

    public abstract String arch();

    public int port() {
        return port;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process != null && process.isAlive();
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + port;
    }

    /**
     * The descriptor limit a server gets from {@link #start}: 65,536, or the hard limit where that is lower (this
     * container refuses more than 20,000, even to root). The generated configs size their descriptor-hungry settings
     * by it: nginx's open_file_cache and lighttpd's max-fds, sized for 65,536, ran out of descriptors on the
     * 20,000-file site (EMFILE in accept and open, requests stalled for seconds; docs/performance.md section 20).
     */
    static int descriptorLimit() {
        long hard = -1;
        if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.UnixOperatingSystemMXBean os) {
            hard = os.getMaxFileDescriptorCount(); // the JVM raises its soft limit to the hard one at start
        }
        return hard <= 0 ? 65536 : (int) Math.min(65536, hard);
    }

    /** Starts the server and waits until probePath answers 200. */
    public void start(String probePath, Duration timeout) throws IOException, InterruptedException {
        Files.createDirectories(workDir);
        port = Ports.ephemeral();
        List<String> cmd = new ArrayList<>(List.of("bash", "-c",
                "ulimit -n 65536 2>/dev/null || ulimit -n $(ulimit -Hn); exec taskset -c " + SERVER_CPU + " \"$@\"",
                "bash"));
        cmd.addAll(command());
        log = workDir.resolve("server.log");
        Files.writeString(log, String.join(" ", cmd) + "\n");
        process = new ProcessBuilder(cmd).directory(workDir.toFile()).redirectErrorStream(true).start();
        RUNNING.add(this);
        Thread.ofPlatform().daemon().name("log-" + label).start(this::pumpOutput);
        long deadline = System.nanoTime() + timeout.toNanos();
        if (announcesReadiness()) {
            readyLine.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
        }
        while (!Ports.accepts(port)) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                String tail = logTail();
                close();
                throw new IOException(label + " did not start on port " + port + ": " + tail);
            }
            Thread.sleep(50);
        }
        int status = probe(probePath);
        if (status != 200) {
            String tail = logTail();
            close();
            throw new IOException(label + " answered " + status + " for " + probePath + ": " + tail);
        }
    }

    private int probe(String path) throws InterruptedException {
        try (HttpClient c = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()) {
            HttpRequest req = HttpRequest.newBuilder(URI.create(baseUrl() + path)).timeout(Duration.ofSeconds(10)).build();
            return c.send(req, HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        }
    }

    private void pumpOutput() {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
             Writer w = Files.newBufferedWriter(log, StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.APPEND)) {
            String line;
            while ((line = r.readLine()) != null) {
                if (isReadyLine(line)) {
                    readyLine.countDown();
                }
                w.write(line);
                w.write('\n');
                w.flush();
            }
        } catch (IOException e) {
            // process ended
        }
    }

    String logTail() {
        try {
            List<String> lines = Files.readAllLines(log);
            List<String> tail = lines.subList(Math.max(0, lines.size() - 5), lines.size());
            return String.join(" | ", tail);
        } catch (IOException e) {
            return "(no log)";
        }
    }

    @Override
    public void close() {
        if (process == null) {
            return;
        }
        RUNNING.remove(this);
        List<Long> tree = ProcTree.withDescendants(process.pid());
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // children that outlived their parent (prefork workers, nginx worker) are ours to clean up, by pid
        for (long p : tree) {
            ProcessHandle.of(p).ifPresent(ProcessHandle::destroyForcibly);
        }
    }
}
