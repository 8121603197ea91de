package flash.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code flash} command as a real child process, run from the test classpath (target/classes and the
 * dependencies), so it works in Maven's test phase before the jar exists.
 */
public final class FlashProcess implements AutoCloseable {
    public static final Pattern LISTENING =
            Pattern.compile("flash listening on http://127\\.0\\.0\\.1:(\\d+)/ \\(arch=([a-z]+), root=(.+)\\)");

    private final Process process;
    private final Path stdout;
    private final Path stderr;
    private int linesRead;

    private FlashProcess(Process p, Path stdout, Path stderr) {
        this.process = p;
        this.stdout = stdout;
        this.stderr = stderr;
    }

    /**
     * Output goes to files, not pipes: reading a child's pipe while it exits can fail with "Stream closed"
     * (the JDK swaps the stream under the reader), which would make these tests flaky.
     */
    public static FlashProcess start(String... args) throws IOException {
        return startWrapped(List.of(), java.util.Map.of(), args);
    }

    /**
     * The command run by {@code wrapper} (a program that execs its arguments, such as systemd-socket-activate),
     * with {@code env} added to the environment.
     */
    public static FlashProcess startWrapped(List<String> wrapper, java.util.Map<String, String> env, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(wrapper);
        cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
                "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), "flash.cli.FlashMain"));
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile("flash-out-", ".txt"), err = Files.createTempFile("flash-err-", ".txt");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().putAll(env);
        Process p = pb.start();
        return new FlashProcess(p, out, err);
    }

    public Process process() { return process; }

    /** The next stdout line (waiting for it, bounded), or null if the process ended without printing one. */
    public String readLine() throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            boolean alive = process.isAlive();
            List<String> complete = completeLines(stdout);
            if (complete.size() > linesRead) return complete.get(linesRead++);
            if (!alive || System.nanoTime() > deadline) return null;
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
    }

    /** Reads the announcement and returns the port. */
    public int awaitListening() throws IOException {
        String line = readLine();
        Matcher m = line == null ? null : LISTENING.matcher(line);
        if (m == null || !m.matches()) {
            throw new AssertionError("expected the listening line, got " + line + "; stderr: " + Files.readString(stderr));
        }
        return Integer.parseInt(m.group(1));
    }

    /** After exit: the stdout lines not read yet. */
    public List<String> remainingStdout() throws IOException, InterruptedException {
        exitCode();
        List<String> all = completeLines(stdout);
        return all.subList(Math.min(linesRead, all.size()), all.size());
    }

    /** What the process has written to stderr so far (it may still be running). */
    public String stderrSoFar() throws IOException { return Files.readString(stderr); }

    /** After exit: everything on stderr. */
    public List<String> stderrLines() throws IOException, InterruptedException {
        exitCode();
        return completeLines(stderr);
    }

    private static List<String> completeLines(Path f) throws IOException {
        String s = Files.readString(f);
        int end = s.lastIndexOf('\n');
        return end < 0 ? List.of() : List.of(s.substring(0, end).split("\n", -1));
    }

    /** Waits for exit (bounded), killing the process if it does not end. */
    public int exitCode() throws InterruptedException {
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("flash did not exit");
        }
        return process.exitValue();
    }

    /** SIGTERM, then the exit status. */
    public int terminate() throws InterruptedException {
        process.destroy();
        return exitCode();
    }

    @Override
    public void close() throws IOException {
        if (process.isAlive()) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
        Files.deleteIfExists(stdout);
        Files.deleteIfExists(stderr);
    }
}
