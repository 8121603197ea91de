package flash.hardening;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A Flash server in its own JVM ({@code flash serve DIR --port 0 ...}): for measurements the test JVM must not
 * pollute (RSS, descriptors), for the mp architecture, and for running as another user. The port is parsed from
 * the server's "flash listening on http://127.0.0.1:PORT/" line; stderr goes to a file the test can inspect.
 */
final class ServerProcess implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("flash listening on http://[^:]+:(\\d+)/");
    private static String sharedClasspath;

    private final Process process;
    private final Path stderr;
    private final int port;

    private ServerProcess(Process process, Path stderr, int port) {
        this.process = process;
        this.stderr = stderr;
        this.port = port;
    }

    /** Starts {@code flash serve root --port 0 --arch arch args...} as this user. */
    static ServerProcess start(Path root, String arch, String... args) throws IOException {
        return startAs(root, arch, null, args);
    }

    /**
     * Starts the server; with {@code user} non-null it runs under that user and group via setpriv (the classes are
     * copied to a world-readable place first, since the build's classpath may sit under a private home).
     */
    static ServerProcess startAs(Path root, String arch, String user, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        String classpath = System.getProperty("java.class.path");
        if (user != null) {
            cmd.addAll(List.of("setpriv", "--reuid=" + user, "--regid=" + group(user), "--clear-groups", "--"));
            classpath = worldReadableClasspath();
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        cmd.addAll(List.of(java, "--enable-native-access=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
                "-XX:+UseSerialGC", "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp", classpath, "flash.cli.FlashMain", "serve",
                root.toString(), "--port", "0", "--arch", arch));
        cmd.addAll(Arrays.asList(args));
        Path err = Files.createTempFile("flash-server-", ".stderr");
        err.toFile().deleteOnExit();
        Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        CompletableFuture<String> first = CompletableFuture.supplyAsync(() -> {
            try {
                return out.readLine();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        String line;
        try {
            line = first.get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            line = null;
        }
        Matcher m = line == null ? null : LISTENING.matcher(line);
        if (m == null || !m.find()) {
            p.destroyForcibly();
            throw new IOException("server did not start: " + line + "\n" + Files.readString(err));
        }
        Thread.ofPlatform().daemon(true).start(() -> {
            try {
                while (out.readLine() != null) { /* keep the pipe from filling */ }
            } catch (IOException ignored) {
                // the server is gone
            }
        });
        return new ServerProcess(p, err, Integer.parseInt(m.group(1)));
    }

    int port() { return port; }

    String pid() { return Long.toString(process.pid()); }

    /** This process and its children (mp workers). */
    List<String> pids() {
        List<String> all = new ArrayList<>();
        all.add(pid());
        process.descendants().forEach(h -> all.add(Long.toString(h.pid())));
        return all;
    }

    long fds() { return pids().stream().mapToLong(Procfs::fds).sum(); }

    long rssKib() { return pids().stream().mapToLong(Procfs::rssKib).sum(); }

    boolean alive() { return process.isAlive(); }

    String stderr() throws IOException { return Files.readString(stderr); }

    /** Runs a jcmd command against the server JVM (the parent for mp) and returns its output. */
    String jcmd(String... command) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(), pid()));
        cmd.addAll(Arrays.asList(command));
        Process j = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(j.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        j.waitFor(30, TimeUnit.SECONDS);
        return out;
    }

    @Override
    public void close() throws InterruptedException {
        List<ProcessHandle> children = process.descendants().toList();
        process.destroy(); // SIGTERM: the server drains and exits
        if (!process.waitFor(15, TimeUnit.SECONDS)) process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        for (ProcessHandle c : children) c.destroyForcibly();
    }

    private static String group(String user) throws IOException {
        try {
            Process p = new ProcessBuilder("id", "-gn", user).start();
            String g = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            p.waitFor(5, TimeUnit.SECONDS);
            return g;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    /** The main classpath copied once per JVM to a world-readable temporary directory. */
    private static synchronized String worldReadableClasspath() throws IOException {
        if (sharedClasspath == null) {
            Path dir = Files.createTempDirectory("flash-cp-");
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            List<String> entries = new ArrayList<>();
            int i = 0;
            for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
                Path src = Path.of(e);
                if (e.contains("test-classes") || !Files.exists(src)) continue;
                Path dst = dir.resolve(i++ + "-" + src.getFileName());
                copyTree(src, dst);
                entries.add(dst.toString());
            }
            Runtime.getRuntime().addShutdownHook(new Thread(() -> flash.testing.Fixtures.deleteTree(dir)));
            sharedClasspath = String.join(File.pathSeparator, entries);
        }
        return sharedClasspath;
    }

    private static void copyTree(Path src, Path dst) throws IOException {
        try (Stream<Path> s = Files.walk(src)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                Path t = dst.resolve(src.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                    Files.setPosixFilePermissions(t, PosixFilePermissions.fromString("rwxr-xr-x"));
                } else {
                    Files.copy(p, t, StandardCopyOption.REPLACE_EXISTING);
                    Files.setPosixFilePermissions(t, PosixFilePermissions.fromString("rw-r--r--"));
                }
            }
        }
    }

}
