package flash.hardening;

import flash.config.Architecture;
import flash.testing.RawClient;
import flash.testing.TestServer;
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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * At the connection limit, a storm of new connections is refused with a clean 503 and close, the connections
 * already open keep being served without a hitch, and once they go, new connections are served again.
 */
class ConnectionLimitTest {
    private static final int LIMIT = 24;
    private static final int REFUSED = 400;
    private static final byte[] BODY = Content.make("limit", 1500);

    @TempDir Path root;

    @ParameterizedTest
    @MethodSource("flash.hardening.Archs#inProcess")
    void stormAtTheLimitIsRefusedCleanlyAndServiceResumes(Architecture arch) throws Exception {
        Files.write(root.resolve("f.txt"), BODY);
        try (TestServer server = TestServer.start(root, arch, c -> c.withMaxConnections(LIMIT).withThreads(LIMIT + 8));
             LogCapture log = new LogCapture();
             ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
             // Platform threads for the held connections: each loops on requests that are answered at once, so as
             // virtual threads they could occupy every carrier (never parking) and starve the refused clients.
             ExecutorService holdersPool = Executors.newFixedThreadPool(LIMIT)) {
            List<RawClient> holders = new ArrayList<>();
            for (int i = 0; i < LIMIT; i++) {
                RawClient c = new RawClient(server.port());
                assertThat(get(c).status()).isEqualTo(200); // counted and served
                holders.add(c);
            }
            AtomicBoolean stop = new AtomicBoolean();
            List<Future<Integer>> busy = new ArrayList<>();
            for (RawClient c : holders) busy.add(holdersPool.submit(() -> {
                int n = 0;
                while (!stop.get()) {
                    RawClient.Response r = get(c);
                    assertThat(r.status()).isEqualTo(200);
                    assertThat(r.body()).isEqualTo(BODY);
                    n++;
                }
                return n;
            }));

            List<Future<String>> refused = new ArrayList<>();
            for (int i = 0; i < REFUSED; i++) refused.add(pool.submit(() -> refusedClient(server.port())));
            List<String> outcomes = new ArrayList<>();
            try {
                for (Future<String> f : refused) outcomes.add(f.get(2, TimeUnit.MINUTES));
            } finally {
                stop.set(true);
            }
            for (Future<Integer> f : busy) assertThat(f.get(1, TimeUnit.MINUTES)).as("requests by a connection held open").isPositive();

            assertThat(outcomes).allMatch(o -> o.equals("503+closed"));
            for (RawClient c : holders) c.close();
            Procfs.awaitAtMost(() -> server.server().openConnections(), 0, 15_000);
            try (RawClient c = new RawClient(server.port())) {
                assertThat(get(c).status()).as("served again after the held connections closed").isEqualTo(200);
            }
            assertThat(log.problems()).isEmpty();
        }
    }

    private static RawClient.Response get(RawClient c) throws IOException {
        return c.send("GET /f.txt HTTP/1.1\r\nHost: x\r\n\r\n").read();
    }

    /** A normal client arriving at a full server: sends its request at once, reads what comes back. */
    private static String refusedClient(int port) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
            s.setSoTimeout(10_000);
            s.getOutputStream().write("GET /f.txt HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            String all;
            try {
                all = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            } catch (IOException e) {
                return "error: " + e;
            }
            return all.startsWith("HTTP/1.1 503 ") ? "503+closed" : "unexpected: " + all.lines().findFirst().orElse("(nothing)");
        }
    }
}
