package flash.hardening;

import flash.config.Architecture;
import flash.testing.RawClient;
import flash.testing.TestServer;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Clients that vanish at every stage of an exchange (mid-head, mid-upload, mid-sendfile, or with a reset) must cost
 * nothing lasting: no exception reaches the top of a loop or a connection thread, and every descriptor comes back.
 * CI runs {@value #DEFAULT_CONNECTIONS} connections per architecture; -Dflash.storm.connections=100000 for the long run.
 */
class VanishingClientTest {
    static final int DEFAULT_CONNECTIONS = 2500;
    private static final int CONCURRENCY = 48;
    private static final int BIG = 8 << 20;

    @TempDir Path root;

    enum Vanish { MID_HEAD, MID_CHUNKED_BODY, MID_SENDFILE, RESET_AFTER_REQUEST, RESET_MID_SENDFILE }

    @ParameterizedTest
    @MethodSource("flash.hardening.Archs#inProcess")
    void vanishingClientsLeakNothingAndBreakNothing(Architecture arch) throws Exception {
        Files.write(root.resolve("small.txt"), Content.make("small", 2000));
        Files.write(root.resolve("big.bin"), new byte[BIG]);
        int connections = Integer.getInteger("flash.storm.connections", DEFAULT_CONNECTIONS);
        try (TestServer server = TestServer.start(root, arch, c -> c.withThreads(CONCURRENCY * 2));
             LogCapture log = new LogCapture()) {
            storm(server.port(), 200); // warm up: classes, pools, caches hold their descriptors from now on
            long baseline = awaitQuiet(server, Long.MAX_VALUE);

            storm(server.port(), connections);

            long after = awaitQuiet(server, baseline);
            assertThat(after).as("descriptors after %d vanishing clients (baseline %d)", connections, baseline)
                    .isLessThanOrEqualTo(baseline);
            assertThat(server.server().openConnections()).isZero();
            assertThat(log.problems()).isEmpty();
            try (RawClient c = new RawClient(server.port())) {
                assertThat(c.send("GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n").read().status()).isEqualTo(200);
            }
        }
    }

    /** Waits for the server to close every connection, then for the descriptor count to reach {@code target}. */
    private static long awaitQuiet(TestServer server, long target) throws InterruptedException {
        Procfs.awaitAtMost(() -> server.server().openConnections(), 0, 15_000);
        return Procfs.awaitAtMost(() -> Procfs.fds("self"), target == Long.MAX_VALUE ? 0 : target,
                target == Long.MAX_VALUE ? 300 : 15_000);
    }

    static void storm(int port, int connections) throws Exception {
        Vanish[] kinds = Vanish.values();
        Semaphore permits = new Semaphore(CONCURRENCY);
        List<Future<?>> failures = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < connections; i++) {
                Vanish kind = kinds[i % kinds.length];
                permits.acquire();
                failures.add(pool.submit(() -> {
                    try {
                        vanish(port, kind);
                    } finally {
                        permits.release();
                    }
                    return null;
                }));
            }
        }
        for (Future<?> f : failures) f.get(); // client-side errors (connect refused...) fail the test
    }

    static void vanish(int port, Vanish kind) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            switch (kind) {
                case MID_HEAD -> out.write(ascii("GET /small.txt HTTP/1.1\r\nHost: x\r\nAccept: te"));
                case MID_CHUNKED_BODY -> out.write(ascii("POST /small.txt HTTP/1.1\r\nHost: x\r\n"
                        + "Transfer-Encoding: chunked\r\n\r\n100\r\n" + "y".repeat(70)));
                case MID_SENDFILE -> {
                    out.write(ascii("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n"));
                    in.readNBytes(4096);
                }
                case RESET_AFTER_REQUEST -> {
                    out.write(ascii("GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /small.txt HTTP/1.1\r\n"));
                    s.setSoLinger(true, 0);
                }
                case RESET_MID_SENDFILE -> {
                    out.write(ascii("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n"));
                    in.readNBytes(1000);
                    s.setSoLinger(true, 0);
                }
            }
        }
    }

    private static byte[] ascii(String s) { return s.getBytes(StandardCharsets.US_ASCII); }
}
