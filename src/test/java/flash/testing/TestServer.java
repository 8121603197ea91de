package flash.testing;

import flash.config.Architecture;
import flash.config.ServerConfig;
import flash.dispatch.Prefork;
import flash.dispatch.Server;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.UnaryOperator;

/**
 * A real Flash server on an ephemeral loopback port for one test. In-process for AMPED, SPED, MT and VT; for
 * MP, {@link Prefork} runs on a thread of this JVM and spawns real worker JVMs from the test classpath.
 */
public final class TestServer implements AutoCloseable {
    /** MP workers per test server: enough to show the kernel spreading connections, few enough to start fast. */
    public static final int MP_PROCESSES = 3;

    private final Server server;          // in-process architectures
    private final Thread prefork;         // MP: the supervising Prefork.run
    private final CountDownLatch stop;    // MP: its SIGTERM stand-in
    private final int port;
    private final java.util.concurrent.atomic.AtomicReference<Runnable> reopen = new java.util.concurrent.atomic.AtomicReference<>();
    private final java.util.concurrent.atomic.AtomicReference<Runnable> hurry = new java.util.concurrent.atomic.AtomicReference<>();
    private volatile Thread shutdown; // in-process: the thread running Server.shutdown after beginDrain

    private TestServer(Server server) {
        this.server = server;
        this.prefork = null;
        this.stop = null;
        this.port = server.port();
    }

    private TestServer(Thread prefork, CountDownLatch stop, int port) {
        this.server = null;
        this.prefork = prefork;
        this.stop = stop;
        this.port = port;
    }

    public static TestServer start(Path root, Architecture arch) { return start(root, arch, UnaryOperator.identity()); }

    public static TestServer start(Path root, Architecture arch, UnaryOperator<ServerConfig> tweak) {
        ServerConfig cfg = tweak.apply(ServerConfig.defaults(root).withPort(0).withArch(arch).withLoops(2).withHelpers(4)
                .withThreads(16).withProcesses(MP_PROCESSES).withDrainTimeout(Duration.ofSeconds(2)));
        if (arch == Architecture.MP) return startPrefork(cfg);
        try {
            return new TestServer(Server.start(cfg));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static TestServer startPrefork(ServerConfig cfg) {
        CountDownLatch stop = new CountDownLatch(1);
        CompletableFuture<Integer> port = new CompletableFuture<>();
        java.util.concurrent.atomic.AtomicReference<Runnable> reopen = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicReference<Runnable> hurry = new java.util.concurrent.atomic.AtomicReference<>();
        Thread t = Thread.ofPlatform().name("test-prefork").daemon(true).start(() -> {
            try {
                Prefork.run(cfg, null, (c, p) -> port.complete(p), stop, reopen::set, List.of(), null, hurry::set);
            } catch (Throwable e) {
                port.completeExceptionally(e);
            }
        });
        try {
            TestServer ts = new TestServer(t, stop, port.get(60, TimeUnit.SECONDS));
            ts.reopen.set(reopen.get());
            ts.hurry.set(hurry.get());
            return ts;
        } catch (ExecutionException e) {
            throw new IllegalStateException("mp server failed to start", e.getCause());
        } catch (InterruptedException | TimeoutException e) {
            stop.countDown();
            throw new IllegalStateException("mp server did not start", e);
        }
    }


    /** The architectures under test, MP included: -Dflash.test.archs=amped,mp (default: all five). */
    public static List<Architecture> allArchs() {
        String s = System.getProperty("flash.test.archs", "amped,sped,mt,vt,mp");
        return Arrays.stream(s.split(",")).map(String::trim).filter(x -> !x.isEmpty())
                .map(x -> Architecture.valueOf(x.toUpperCase())).toList();
    }

    /** The in-process architectures under test (tests that need {@link #server()} for every run). */
    public static List<Architecture> archs() {
        return allArchs().stream().filter(a -> a != Architecture.MP).toList();
    }

    public int port() { return port; }

    public boolean inProcess() { return server != null; }

    /** The in-process server; an MP run of a test that needs it is skipped (the server lives in worker JVMs). */
    public Server server() {
        Assumptions.assumeTrue(server != null, "server internals are in the mp worker processes");
        return server;
    }

    /** What SIGHUP does: the access log is reopened (for MP, each worker is signalled). */
    public void reopenLogs() {
        if (server != null) server.reopenLogs();
        else reopen.get().run();
    }

    /**
     * What SIGTERM does, without waiting: the drain delay (the health path answers 503, everything else is served),
     * then the drain. For MP, every worker gets the signal.
     */
    public void beginDrain() {
        if (server != null) shutdown = Thread.ofPlatform().name("test-shutdown").start(server::shutdown);
        else stop.countDown();
    }

    /** What a second SIGTERM does: a drain delay under way ends at once, and the drain follows. */
    public void endDrainDelay() {
        if (server != null) server.endDrainDelay();
        else hurry.get().run();
    }

    /** After {@link #beginDrain}: waits (bounded) until the drain delay has run its course and the drain is over. */
    public void awaitDrained() throws InterruptedException {
        Thread t = server != null ? shutdown : prefork;
        if (t != null) t.join(60_000);
    }

    public URI uri(String path) { return URI.create("http://127.0.0.1:" + port() + path); }

    /** Stops the server; for MP, as on SIGTERM: every worker drains and exits, then Prefork returns. */
    @Override
    public void close() {
        if (server != null) {
            server.close();
            Thread t = shutdown;
            if (t != null) {
                try {
                    t.join(30_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return;
        }
        stop.countDown();
        try {
            prefork.join(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
