package flash.testing;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real nginx as an upstream: a mature server whose framing, keep-alive and sendfile behaviour the proxy must
 * cope with, next to {@link Backend}'s hand-made responses. It runs in the foreground as one process (no master,
 * no daemon) with everything (config, logs, pid, temp paths, document root) in its own temp directory, so it
 * needs no system configuration and leaves nothing behind. Tests are skipped, not failed, without nginx.
 */
public final class NginxUpstream implements AutoCloseable {
    public static final Path NGINX = Path.of("/usr/sbin/nginx");

    private final Process process;
    private final Path dir;
    private final int port;

    private NginxUpstream(Process process, Path dir, int port) {
        this.process = process;
        this.dir = dir;
        this.port = port;
    }

    public static boolean available() { return Files.isExecutable(NGINX); }

    /** nginx serving {@link #root()} (empty at first) on a free port of 127.0.0.1. */
    public static NginxUpstream start() { return start(""); }

    /**
     * As {@link #start()}, with {@code extraServerConfig} inserted in the server block, typically location blocks:
     * {@code location = /xff { return 200 "$http_x_forwarded_for"; }}.
     */
    public static NginxUpstream start(String extraServerConfig) {
        Assumptions.assumeTrue(available(), "nginx is not installed at " + NGINX);
        Path dir = null;
        try {
            dir = Files.createTempDirectory("flash-nginx-").toRealPath();
            // Readable by all, in case nginx ever runs a worker as another user than the test JVM's.
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.createDirectories(dir.resolve("root"));
            boolean root = Integer.valueOf(0).equals(Files.getAttribute(dir, "unix:uid"));
            // The free port is found by binding and releasing it, so another process may take it first: retry.
            for (int attempt = 1; ; attempt++) {
                int port = freePort();
                Files.writeString(dir.resolve("nginx.conf"), config(dir, port, root, extraServerConfig));
                Files.deleteIfExists(dir.resolve("error.log"));
                Process p = new ProcessBuilder(NGINX.toString(), "-p", dir + "/", "-c", dir.resolve("nginx.conf").toString(),
                        "-e", dir.resolve("error.log").toString())
                        .redirectOutput(dir.resolve("stdout.txt").toFile()).redirectError(dir.resolve("stderr.txt").toFile())
                        .start();
                if (awaitPort(p, port)) return new NginxUpstream(p, dir, port);
                kill(p);
                String log = read(dir.resolve("error.log")) + read(dir.resolve("stderr.txt"));
                if (attempt < 3 && log.contains("Address already in use")) continue;
                throw new IllegalStateException("nginx did not start:\n" + log);
            }
        } catch (IOException e) {
            if (dir != null) Fixtures.deleteTree(dir);
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            if (dir != null) Fixtures.deleteTree(dir);
            throw e;
        }
    }

    private static String config(Path dir, int port, boolean root, String extra) {
        return String.join("\n", List.of(
                // As root, nginx chowns its temp paths to its configured user (default "nobody"); with
                // master_process off it never switches to that user, so name the one it really runs as.
                root ? "user root;" : "",
                "daemon off;",
                "master_process off;",
                "worker_processes 1;",
                "error_log " + q(dir.resolve("error.log")) + " info;",
                "pid " + q(dir.resolve("nginx.pid")) + ";",
                "events { worker_connections 512; }",
                "http {",
                "    access_log " + q(dir.resolve("access.log")) + ";",
                "    client_body_temp_path " + q(dir.resolve("client_body_temp")) + ";",
                "    proxy_temp_path " + q(dir.resolve("proxy_temp")) + ";",
                "    fastcgi_temp_path " + q(dir.resolve("fastcgi_temp")) + ";",
                "    uwsgi_temp_path " + q(dir.resolve("uwsgi_temp")) + ";",
                "    scgi_temp_path " + q(dir.resolve("scgi_temp")) + ";",
                "    types { text/html html; text/plain txt; text/css css; application/javascript js;",
                "            application/json json; image/png png; }",
                "    default_type application/octet-stream;",
                "    sendfile on;",
                "    tcp_nopush on;",
                "    keepalive_timeout 60s;",
                "    keepalive_requests 100000;",
                "    server {",
                "        listen 127.0.0.1:" + port + ";",
                "        server_name localhost;",
                "        root " + q(dir.resolve("root")) + ";",
                "        location / { }",
                extra,
                "    }",
                "}",
                ""));
    }

    private static String q(Path p) { return "\"" + p.toString().replace("\\", "\\\\").replace("\"", "\\\"") + "\""; }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Waits (bounded) until the port accepts a connection; false if nginx exited or never listened. */
    private static boolean awaitPort(Process p, int port) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) return false;
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return true;
            } catch (IOException notYet) {
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
        }
        return false;
    }

    public int port() { return port; }

    /** The document root: files written here are served at once. */
    public Path root() { return dir.resolve("root"); }

    public String url() { return "http://127.0.0.1:" + port; }

    public URI uri(String path) { return URI.create(url() + path); }

    public Path errorLog() { return dir.resolve("error.log"); }

    public Path accessLog() { return dir.resolve("access.log"); }

    /** Stops nginx (SIGTERM, then SIGKILL if it lingers), waits for it, and deletes its directory. */
    @Override
    public void close() {
        kill(process);
        Fixtures.deleteTree(dir);
    }

    private static void kill(Process p) {
        p.destroy();
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
