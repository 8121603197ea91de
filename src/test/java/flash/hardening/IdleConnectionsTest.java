package flash.hardening;

import flash.testing.RawClient;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Thousands of idle keep-alive connections: the server (its own JVM, so the test's memory does not count) stays
 * responsive to another client, and an idle connection costs little resident memory. CI holds
 * {@value #DEFAULT_CONNECTIONS}; -Dflash.idle.connections=10000 is the documented run (docs/reliability.md).
 */
class IdleConnectionsTest {
    static final int DEFAULT_CONNECTIONS = 2000;
    /**
     * AMPED/SPED idle connections hold no buffer: a socket, a key and a small connection object (about 1.8 KiB of
     * heap measured at 10,000; at 2,000 the baseline's own noise adds up to ~1.5 KiB). RSS also counts young-generation pages
     * touched while accepting. The bounds are loose on purpose; the RSS one
     * fails if an idle connection keeps its 32 KiB read buffer.
     */
    private static final long EVENT_DRIVEN_MAX_HEAP_BYTES_PER_IDLE = 8192;
    private static final long EVENT_DRIVEN_MAX_RSS_BYTES_PER_IDLE = 8192;
    private static final byte[] BODY = Content.make("idle", 1000);

    @TempDir Path root;

    @ParameterizedTest
    @MethodSource("flash.hardening.Archs#all")
    void manyIdleKeepAliveConnectionsAreCheapAndDoNotBlockOthers(String arch) throws Exception {
        assumeTrue(!arch.equals("mp"), "mp serves one connection per process: idle connections need as many processes");
        int n = Integer.getInteger("flash.idle.connections", DEFAULT_CONNECTIONS);
        assumeTrue(Procfs.fdLimit() >= n + 1000L,
                "descriptor limit " + Procfs.fdLimit() + " is too low for " + n + " connections (raise ulimit -n)");
        Files.write(root.resolve("f.txt"), BODY);
        List<Socket> idle = new ArrayList<>();
        try (ServerProcess server = ServerProcess.start(root, arch, "--threads", Integer.toString(n + 64),
                "--max-connections", Integer.toString(n + 64), "--idle-timeout", "600", "--loops", "2")) {
            warmUp(server.port(), 2000);
            server.jcmd("GC.run");
            long rss0 = server.rssKib(), fds0 = server.fds();
            long heap0 = heapUsedKib(server);

            try {
                for (int i = 0; i < n; i++) idle.add(openServedAndIdle(server.port()));
                for (Socket s : idle) assertThat(readStatus(s.getInputStream())).isEqualTo(200);
                long fds = Procfs.awaitAtMost(() -> -server.fds(), -(fds0 + n), 10_000);
                assertThat(-fds).as("server descriptors with %d idle connections", n).isGreaterThanOrEqualTo(fds0 + n);

                try (RawClient other = new RawClient(server.port())) {
                    for (int i = 0; i < 20; i++) {
                        RawClient.Response r = other.send("GET /f.txt HTTP/1.1\r\nHost: x\r\n\r\n").read();
                        assertThat(r.status()).isEqualTo(200);
                        assertThat(r.body()).isEqualTo(BODY);
                    }
                }
                server.jcmd("GC.run");
                long rss1 = server.rssKib();
                long heap1 = heapUsedKib(server);
                double perConn = (rss1 - rss0) * 1024.0 / n;
                System.out.printf(Locale.ROOT, "idle-connections arch=%s n=%d rss0=%dKiB rss1=%dKiB perIdleConn=%.0fB "
                                + "heapAfterGc0=%dKiB heapAfterGc1=%dKiB heapPerConn=%.0fB threads=%d%n", arch, n, rss0, rss1,
                        perConn, heap0, heap1, (heap1 - heap0) * 1024.0 / n, Procfs.threads(server.pid()));
                if (arch.equals("amped") || arch.equals("sped")) {
                    assertThat(perConn).as("resident bytes per idle connection").isLessThan(EVENT_DRIVEN_MAX_RSS_BYTES_PER_IDLE);
                    assertThat((heap1 - heap0) * 1024.0 / n).as("heap bytes per idle connection")
                            .isLessThan(EVENT_DRIVEN_MAX_HEAP_BYTES_PER_IDLE);
                }
                // The idle connections are still there and still usable.
                Socket first = idle.getFirst();
                first.getOutputStream().write(request());
                assertThat(readStatus(first.getInputStream())).isEqualTo(200);
            } finally {
                for (Socket s : idle) s.close();
            }
        }
    }

    private static void warmUp(int port, int requests) throws IOException {
        try (RawClient c = new RawClient(port)) {
            for (int i = 0; i < requests; i++) c.send("GET /f.txt HTTP/1.1\r\nHost: x\r\n\r\n").read();
        }
        for (int i = 0; i < 200; i++) {
            try (Socket s = openServedAndIdle(port)) {
                readStatus(s.getInputStream());
            }
        }
    }

    /** Connects and sends one request; the caller reads the response later (so thousands go out quickly). */
    private static Socket openServedAndIdle(int port) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
        s.setSoTimeout(20_000);
        s.getOutputStream().write(request());
        return s;
    }

    private static byte[] request() { return "GET /f.txt HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII); }

    /** Reads one response whose body is {@link #BODY}; returns its status. */
    private static int readStatus(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) throw new IOException("EOF in response head: " + head);
            head.append((char) c);
        }
        int status = Integer.parseInt(head.toString().split(" ")[1]);
        if (status == 200) in.readNBytes(BODY.length);
        return status;
    }

    /** Heap used after the last GC, from jcmd GC.heap_info: the "total ..K, used ..K" of each generation summed. */
    static long heapUsedKib(ServerProcess server) throws IOException, InterruptedException {
        long used = 0;
        for (String l : server.jcmd("GC.heap_info").lines().toList()) {
            var m = java.util.regex.Pattern.compile("total \\d+K, used (\\d+)K").matcher(l);
            if (m.find()) used += Long.parseLong(m.group(1));
        }
        return used;
    }
}
