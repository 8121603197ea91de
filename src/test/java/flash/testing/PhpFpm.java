package flash.testing;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real php-fpm (Debian's php8.2-fpm) for FastCGI tests, in the foreground as the platform notes describe:
 * {@code php-fpm8.2 -F -O -R -y CONF}, a minimal config, a Unix socket and a document root in its own temp
 * directory (readable by www-data, which the workers run as when the tests run as root), upload limits raised.
 * Tests are skipped, not failed, when php-fpm is not installed. {@link #stop()} and {@link #restart()} let a
 * test take the backend away and bring it back.
 */
public final class PhpFpm implements AutoCloseable {
    public static final Path BINARY = Path.of("/usr/sbin/php-fpm8.2");

    private final Path dir;
    private final int children;
    private final String extraPool;
    private Process process;

    private PhpFpm(Path dir, int children, String extraPool) {
        this.dir = dir;
        this.children = children;
        this.extraPool = extraPool;
    }

    public static boolean available() { return Files.isExecutable(BINARY); }

    /** php-fpm with {@code children} static workers; {@code extraPool}: more pool lines (php_admin_value[...] = ...). */
    public static PhpFpm start(int children, String extraPool) {
        Assumptions.assumeTrue(available(), "php-fpm is not installed at " + BINARY);
        Path dir = null;
        try {
            dir = Files.createTempDirectory(Path.of("/tmp"), "flash-fpm-").toRealPath(); // short: sun_path holds 108 bytes
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            Path root = Files.createDirectories(dir.resolve("root"));
            Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
            PhpFpm f = new PhpFpm(dir, children, extraPool);
            f.launch();
            return f;
        } catch (IOException e) {
            if (dir != null) Fixtures.deleteTree(dir);
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            if (dir != null) Fixtures.deleteTree(dir);
            throw e;
        }
    }

    private void launch() throws IOException {
        boolean root = Integer.valueOf(0).equals(Files.getAttribute(dir, "unix:uid"));
        Files.deleteIfExists(socket());
        Files.deleteIfExists(killSocket());
        Files.writeString(dir.resolve("fpm.conf"), String.join("\n", List.of(
                "[global]",
                "error_log = " + dir.resolve("error.log"),
                "daemonize = no",
                "pid = " + dir.resolve("fpm.pid"),
                "[t]",
                root ? "user = www-data" : "",
                root ? "group = www-data" : "",
                "listen = " + socket(),
                "listen.mode = 0666",
                "listen.backlog = 511",
                "pm = static",
                "pm.max_children = " + children,
                "catch_workers_output = yes",
                "decorate_workers_output = no",
                "php_admin_value[upload_max_filesize] = 64M",
                "php_admin_value[post_max_size] = 64M",
                "php_admin_value[output_buffering] = 0",
                "php_admin_value[implicit_flush] = 0",
                "php_admin_value[max_execution_time] = 0",
                "php_admin_value[memory_limit] = 256M",
                "php_admin_value[upload_tmp_dir] = /tmp",
                "php_admin_flag[log_errors] = on",
                "php_admin_flag[display_errors] = off",
                "access.log = " + dir.resolve("access.log"),
                "access.format = \"%m %r%Q%q %s\"",
                extraPool,
                // A second pool whose scripts (.kphp) php-fpm kills after 1 s: request_terminate_timeout.
                "[k]",
                root ? "user = www-data" : "",
                root ? "group = www-data" : "",
                "listen = " + killSocket(),
                "listen.mode = 0666",
                "pm = static",
                "pm.max_children = 1",
                "request_terminate_timeout = 1s",
                "security.limit_extensions = .kphp",
                "php_admin_value[output_buffering] = 0",
                "")));
        process = new ProcessBuilder(BINARY.toString(), "-F", "-O", "-R", "-y", dir.resolve("fpm.conf").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("stdout.txt").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!Files.exists(socket()) || !Files.exists(killSocket())) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                kill();
                throw new IllegalStateException("php-fpm did not start:\n" + read(dir.resolve("stdout.txt"))
                        + read(dir.resolve("error.log")));
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    /** The pool's socket: pass {@code unix:} + this to --fastcgi. */
    public Path socket() { return dir.resolve("fpm.sock"); }

    public String address() { return "unix:" + socket(); }

    /** The pool whose requests php-fpm terminates after 1 s (request_terminate_timeout); it runs .kphp files. */
    public Path killSocket() { return dir.resolve("kill.sock"); }

    /** The request lines php-fpm's access log holds so far ("GET /x.php 200"): what reached the backend. */
    public String accessLog() { return read(dir.resolve("access.log")); }

    /** The document root the scripts go in (world-readable). */
    public Path root() { return dir.resolve("root"); }

    /** Writes a script (or any file) under the root, readable by the workers. */
    public Path write(String relative, String content) {
        try {
            Path f = root().resolve(relative);
            Files.createDirectories(f.getParent());
            for (Path p = f.getParent(); p.startsWith(root()) && !p.equals(root()); p = p.getParent()) {
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
            Files.writeString(f, content);
            Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String log() { return read(dir.resolve("error.log")) + read(dir.resolve("stdout.txt")); }

    /** Stops php-fpm (the socket stays absent until {@link #restart}). */
    public void stop() {
        kill();
        try {
            Files.deleteIfExists(socket());
            Files.deleteIfExists(killSocket());
        } catch (IOException ignored) {
            // gone already
        }
    }

    public void restart() {
        try {
            launch();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        kill();
        Fixtures.deleteTree(dir);
    }

    private void kill() {
        Process p = process;
        if (p == null) return;
        p.destroy(); // SIGTERM: php-fpm's master stops its workers
        try {
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    private static String read(Path f) {
        try {
            return Files.exists(f) ? Files.readString(f) : "";
        } catch (IOException e) {
            return "";
        }
    }
}
