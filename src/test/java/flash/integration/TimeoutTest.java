package flash.integration;

import flash.config.Architecture;
import flash.net.LoopStats;
import flash.testing.AllArchs;
import flash.testing.ArchServers;
import flash.testing.Fixtures;
import flash.testing.Http;
import flash.testing.RawClient;
import flash.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.io.RandomAccessFile;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** Header (slowloris), idle keep-alive and write (client stops reading) timeouts. */
class TimeoutTest {
    private static final Duration SHORT = Duration.ofMillis(600);
    /** Far more than socket buffers can hold, so a client that stops reading stalls the server. Sparse: free. */
    private static final long BIG = 256L << 20;
    private static Path root;

    @BeforeAll
    static void createRoot() throws Exception {
        root = Files.createTempDirectory("flash-timeouts-");
        Files.writeString(root.resolve("hello.txt"), Fixtures.HELLO);
        try (RandomAccessFile f = new RandomAccessFile(root.resolve("big.bin").toFile(), "rw")) {
            f.setLength(BIG);
        }
    }

    private static final ArchServers SERVERS =
            new ArchServers(arch -> TestServer.start(root, arch, c -> c.withTimeouts(SHORT, SHORT, SHORT)));

    @AfterAll
    static void stop() {
        SERVERS.close();
        Fixtures.deleteTree(root);
    }

    @AllArchs
    void partialHeadGets408ThenClose(Architecture arch) throws Exception {
        try (RawClient c = new RawClient(SERVERS.get(arch).port())) {
            c.send("GET /hello.txt HTTP/1.1\r\nHost: t\r\n"); // the blank line never comes
            RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(408);
            assertThat(c.closedByServer()).isTrue();
        }
        assertCounted(arch, s -> s.timeouts.sum());
    }

    @AllArchs
    void idleKeepAliveConnectionIsClosed(Architecture arch) throws Exception {
        try (RawClient c = new RawClient(SERVERS.get(arch).port())) {
            c.send("GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(200);
            assertThat(c.closedByServer()).isTrue(); // RawClient waits up to 15 s; the idle timeout is 0.6 s
        }
        assertCounted(arch, s -> s.idleCloses.sum());
    }

    /** The status page's counter (in-process servers; an MP worker's counters are out of reach) is above 0. */
    private static void assertCounted(Architecture arch, java.util.function.ToLongFunction<LoopStats> counter) {
        TestServer s = SERVERS.get(arch);
        if (s.inProcess()) {
            assertThat(s.server().dispatcher().stats().stream().mapToLong(counter).sum()).isPositive();
        }
    }

    @AllArchs
    void clientThatStopsReadingIsDroppedWhileOthersAreServed(Architecture arch) throws Exception {
        TestServer s = SERVERS.get(arch);
        try (Socket stalled = new Socket()) {
            stalled.setReceiveBufferSize(4096);
            stalled.connect(new InetSocketAddress("127.0.0.1", s.port()));
            stalled.getOutputStream().write("GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n".getBytes(StandardCharsets.US_ASCII));

            // Served meanwhile (under MP this client may share the stalled worker and wait for its drop).
            try (RawClient other = new RawClient(s.port())) {
                other.send("GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n");
                assertThat(other.read().bodyText()).isEqualTo(Fixtures.HELLO);
            }

            if (s.inProcess()) {
                assertThat(Http.await(() -> s.server().openConnections() == 0, 10_000))
                        .as("stalled connection dropped").isTrue();
            } else {
                // MP: the worker's connection count is out of reach; give its watchdog ample time to act.
                Thread.sleep(SHORT.toMillis() * 4);
            }
            stalled.setSoTimeout(15_000);
            long got = 0;
            byte[] buf = new byte[1 << 16];
            try {
                for (int n; (n = stalled.getInputStream().read(buf)) >= 0; ) got += n;
            } catch (java.io.IOException reset) {
                // a reset is a drop too
            }
            assertThat(got).as("bytes received before the drop").isLessThan(BIG);
        }
    }
}
