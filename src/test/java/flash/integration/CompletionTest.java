package flash.integration;

import flash.config.Architecture;
import flash.dispatch.ServerMetrics;
import flash.testing.Fixtures;
import flash.testing.Http;
import flash.testing.RawClient;
import flash.testing.TestServer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every exchange ends exactly once, through the one completion point the metrics (and later the access log) hang
 * on: answered, refused by the parser (400), timed out before a head arrived (408), or aborted by a client that
 * went away mid-body. Runs in-process, where the server's counters can be read.
 */
class CompletionTest {
    @TempDir
    static Path root;

    @BeforeAll
    static void files() throws Exception {
        Files.writeString(root.resolve("hello.txt"), Fixtures.HELLO);
        try (RandomAccessFile f = new RandomAccessFile(root.resolve("large.bin").toFile(), "rw")) {
            f.setLength(64L << 20); // more than socket buffers can absorb: a client that resets aborts the body
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("flash.testing.TestServer#archs")
    void everyExchangeEndsExactlyOnce(Architecture arch) throws Exception {
        try (TestServer s = TestServer.start(root, arch, c -> c.withTimeouts(Duration.ofSeconds(1),
                Duration.ofSeconds(30), Duration.ofSeconds(30)).withSmallFileMax(1024))) {
            ServerMetrics m = s.server().metrics();
            try (RawClient c = new RawClient(s.port())) {
                for (int i = 0; i < 5; i++) {
                    c.send("GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n");
                    assertThat(c.read().status()).isEqualTo(200);
                }
                c.send("GET /missing HTTP/1.1\r\nHost: t\r\n\r\n");
                assertThat(c.read().status()).isEqualTo(404);
            }
            try (RawClient c = new RawClient(s.port())) {
                c.send("GET / HTTP/1.1\r\nHost: t\r\nBad Header: x\r\n\r\n");
                assertThat(c.read().status()).isEqualTo(400);
            }
            try (RawClient c = new RawClient(s.port())) {
                c.send("GET /hello.txt HTTP/1.1\r\nHost:");
                assertThat(c.read().status()).isEqualTo(408);
            }
            try (RawClient c = new RawClient(s.port())) {
                c.socket().setReceiveBufferSize(4096);
                c.send("GET /large.bin HTTP/1.1\r\nHost: t\r\n\r\n");
                c.read(true);
                c.socket().setSoLinger(true, 0);
            } // reset after the head: the 64 MiB body cannot all have been written
            assertThat(Http.await(() -> m.exchanges(2) == 6 && m.exchanges(4) == 3 && m.abortedExchanges() == 1
                    && s.server().openConnections() == 0, 10_000))
                    .as("2xx=%d 4xx=%d aborted=%d", m.exchanges(2), m.exchanges(4), m.abortedExchanges()).isTrue();
            assertThat(m.exchanges(1) + m.exchanges(3) + m.exchanges(5)).isZero();
            // 2xx: five hellos and the large download, whose 200 never completed (counted once, as aborted)
            assertThat(m.requests()).isEqualTo(7); // 5 + 404 + large; the 400 and 408 had no parsed request
        }
    }
}
