package flash.cgi;

import flash.sys.Native;
import flash.sys.Spawn;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;

/**
 * One running CGI program: its three pipes, its stderr pump, and how it is ended.
 *
 * <p><b>Spawn.</b> {@link Spawn#spawn}: glibc's posix_spawn through FFM, one exec, the program leading a session
 * and process group of its own (POSIX_SPAWN_SETSID), so whatever it forks stays in that group. ProcessBuilder
 * needed three execs for the same (the JDK's jspawnhelper, util-linux's setsid, the program). Ending it is
 * {@code kill(-pgid, SIGTERM)}, then SIGKILL after {@link #GRACE_MILLIS} unless the group is gone
 * ({@link Native#killProcessGroup}). argv is the program alone: never the query (CVE-2012-1823).
 *
 * <p><b>Pipes.</b> Java cannot select on these pipes, so blocking reads and writes on them run on {@link #PUMPS},
 * daemon platform threads of their own (not AMPED's disk helpers: a script may hold a pipe read for a minute, and
 * disk work must not queue behind it). stderr is pumped to the end by one of them, line by line, into the server's
 * log with the script's name: a script that writes a lot to stderr never blocks on it. That pump then reaps the
 * program (waitpid), so no zombie stays behind; the exchange closes stdin and stdout once no operation is in flight
 * on them, and the stderr pump closes stderr at its end, so no descriptor stays open.
 */
final class CgiProcess {
    private static final Logger LOG = Logger.getLogger(CgiProcess.class.getName());
    static final long GRACE_MILLIS = 2000;
    private static final int MAX_LOG_LINE = 4096;
    private static final int SIGTERM = 15, SIGKILL = 9;

    private static final AtomicInteger THREADS = new AtomicInteger();
    /** Blocking pipe reads and writes, and the stderr pumps. */
    static final ExecutorService PUMPS = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "flash-cgi-pump-" + THREADS.incrementAndGet());
        t.setDaemon(true);
        return t;
    });
    /** Timeouts and the SIGKILL after the grace period: a timer only interrupts (it kills; the owner answers). */
    static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "flash-cgi-timer");
        t.setDaemon(true);
        return t;
    });

    private final Spawn.Child child;
    private final Spawn.PipeIn stdout, stderr;
    private final Spawn.PipeOut stdin;
    private final String name;
    private final AtomicBoolean killed = new AtomicBoolean();
    /** Completed when the program was reaped. */
    private final CompletableFuture<Void> exited = new CompletableFuture<>();
    /** When stderr last brought something: a script busy logging is making progress, for the timeout. */
    private volatile long stderrNanos = System.nanoTime();

    private CgiProcess(Spawn.Child child, String name) {
        this.child = child;
        this.name = name;
        this.stdout = new Spawn.PipeIn(child.stdout());
        this.stderr = new Spawn.PipeIn(child.stderr());
        this.stdin = new Spawn.PipeOut(child.stdin());
    }

    /** Whether CGI can run here: posix_spawn linked (Linux x86-64, native access enabled), or why not. */
    static String unavailableReason() {
        return Spawn.available() ? null : "CGI needs posix_spawn through the native layer (Linux x86-64, "
                + "--enable-native-access=ALL-UNNAMED): " + Spawn.linkFailure();
    }

    /** Starts {@code program} in {@code workDir} with exactly {@code env}. Blocking: call it through a seam. */
    static CgiProcess start(Path program, Path workDir, Map<String, String> env, String name) throws IOException {
        flash.sys.DiskGuard.check("CGI spawn");
        List<String> envp = new ArrayList<>(env.size());
        env.forEach((k, v) -> envp.add(k + "=" + v));
        CgiProcess p = new CgiProcess(Spawn.spawn(program.toString(), workDir.toString(), envp), name);
        PUMPS.execute(p::pumpStderrAndReap);
        return p;
    }

    long lastStderrNanos() { return stderrNanos; }

    InputStream stdout() { return stdout; }

    OutputStream stdin() { return stdin; }

    /** Ends the program and everything it forked: SIGTERM to the group now, SIGKILL after the grace period. */
    void kill() {
        if (!killed.compareAndSet(false, true)) return;
        signal(SIGTERM);
        TIMER.schedule(() -> signal(SIGKILL), GRACE_MILLIS, TimeUnit.MILLISECONDS);
    }

    /**
     * The response is complete (stdout ended): a program still running after {@code timeoutMillis} (a cleanup
     * that hangs, a child that kept the group alive) is killed then.
     */
    void reapWithin(long timeoutMillis) {
        if (exited.isDone()) return;
        var f = TIMER.schedule(this::kill, timeoutMillis, TimeUnit.MILLISECONDS);
        exited.thenRun(() -> f.cancel(false));
    }

    private void signal(int sig) {
        int r = Native.killProcessGroup(child.pid(), sig);
        if (r != 0 && r != -3 /* ESRCH: the group is gone */) LOG.warning(() -> "cgi " + name + ": kill: errno " + -r);
    }

    static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // a broken pipe on close: nothing to do
        }
    }

    /** Every line of stderr goes to the log, named; long lines are cut into pieces. Then reaps the program. */
    private void pumpStderrAndReap() {
        pumpStderr();
        // stderr ended: the program closed it or exited. Wait for the exit (a timeout kills it meanwhile).
        Spawn.waitpid(child.pid());
        exited.complete(null);
    }

    private void pumpStderr() {
        InputStream err = stderr;
        byte[] buf = new byte[8192];
        byte[] line = new byte[MAX_LOG_LINE];
        int len = 0;
        try (err) {
            int n;
            while ((n = err.read(buf)) > 0) {
                stderrNanos = System.nanoTime();
                for (int i = 0; i < n; i++) {
                    byte b = buf[i];
                    if (b == '\n' || len == line.length) {
                        log(line, len);
                        len = 0;
                        if (b == '\n') continue;
                    }
                    line[len++] = b;
                }
            }
        } catch (IOException e) {
            // the pipe broke (closed under us): nothing more to log
        }
        if (len > 0) log(line, len);
    }

    private void log(byte[] line, int len) {
        if (len > 0 && line[len - 1] == '\r') len--;
        String text = new String(line, 0, len, StandardCharsets.UTF_8);
        LOG.warning(() -> "cgi " + name + ": " + text);
    }
}
