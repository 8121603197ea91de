package flash.integration;

import flash.config.Architecture;
import flash.testing.AllArchs;
import flash.testing.Fixtures;
import flash.testing.Http;
import flash.testing.RawClient;
import flash.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** Stopping the server (SIGTERM for MP) lets a response in flight finish whole, and refuses new connections. */
class GracefulDrainTest {
    private static final long BIG = 64L << 20;
    private static Path root;

    @BeforeAll
    static void createRoot() throws Exception {
        root = Files.createTempDirectory("flash-drain-");
        try (RandomAccessFile f = new RandomAccessFile(root.resolve("big.bin").toFile(), "rw")) {
            f.setLength(BIG);
            f.seek(BIG - 4);
            f.write(new byte[] {'e', 'n', 'd', '!'});
        }
    }

    @AfterAll
    static void deleteRoot() { Fixtures.deleteTree(root); }

    @AllArchs
    void responseInFlightCompletesOnClose(Architecture arch) throws Exception {
        TestServer s = TestServer.start(root, arch, c -> c.withDrainTimeout(Duration.ofSeconds(20)));
        Thread closer = null;
        try (RawClient c = new RawClient(s.port())) {
            c.send("GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n");
            RawClient.Response head = c.read(true);
            assertThat(head.status()).isEqualTo(200);
            long got = c.discard(1 << 20); // the response is under way

            closer = Thread.ofPlatform().start(s::close);
            assertThat(Http.await(() -> refuses(s.port()), 10_000)).as("listener closed").isTrue();

            got += c.discard(BIG - got - 4);
            assertThat(got).isEqualTo(BIG - 4);
            assertThat(c.input().readNBytes(4)).containsExactly('e', 'n', 'd', '!');
            assertThat(c.closedByServer()).isTrue(); // and the connection ends after it
        } finally {
            if (closer == null) s.close();
            else closer.join(30_000);
        }
    }

    private static boolean refuses(int port) {
        try (Socket probe = new Socket()) {
            probe.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            return false;
        } catch (IOException e) {
            return true;
        }
    }
}
