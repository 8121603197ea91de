package flash.net;

import flash.config.Architecture;
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
import java.util.function.LongSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An idle connection holds no read buffer and no response sender (issue #11, footprint): an event loop lends them for
 * a read and a response and takes them back once nothing is left unparsed. Checked through the loops' gauges
 * ({@code flash_read_buffers_held}, {@code flash_senders_held}) with connections that were served once and stay open,
 * connections that never sent a byte, and, to show the gauges count, one connection holding half a request head.
 * The thread-per-connection architectures (mt, vt, mp) keep one small buffer per thread by design: not tested here.
 */
class IdleBuffersTest {
    private static final int SERVED = 60;
    private static final int SILENT = 60;
    private static final byte[] BODY = "idle buffers\n".repeat(80).getBytes(StandardCharsets.US_ASCII);
    private static final long WAIT_MS = 10_000; // bounded wait for the loops to take back what they lent (not a timing)

    @TempDir Path root;

    static List<Architecture> eventDriven() {
        return TestServer.archs().stream().filter(a -> a == Architecture.AMPED || a == Architecture.SPED).toList();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("eventDriven")
    void idleConnectionsHoldNoReadBufferAndNoSender(Architecture arch) throws Exception {
        Files.write(root.resolve("f.txt"), BODY);
        List<Socket> open = new ArrayList<>();
        try (TestServer ts = TestServer.start(root, arch)) {
            List<LoopStats> loops = ts.server().dispatcher().stats();
            LongSupplier buffers = () -> loops.stream().mapToLong(s -> s.readBuffersHeld.get()).sum();
            LongSupplier senders = () -> loops.stream().mapToLong(s -> s.sendersHeld.get()).sum();
            try {
                for (int i = 0; i < SERVED; i++) {
                    Socket s = connect(ts.port());
                    s.getOutputStream().write(request());
                    open.add(s);
                }
                for (Socket s : open) assertThat(readStatus(s.getInputStream())).isEqualTo(200);
                for (int i = 0; i < SILENT; i++) open.add(connect(ts.port()));
                awaitOpen(ts, SERVED + SILENT);

                assertThat(await(buffers, 0)).as("read buffers held by %d idle connections", SERVED + SILENT).isZero();
                assertThat(await(senders, 0)).as("senders held by %d idle connections", SERVED + SILENT).isZero();

                // Half a head: that connection keeps its buffer (the gauge counts), until the rest arrives.
                Socket partial = connect(ts.port());
                open.add(partial);
                partial.getOutputStream().write("GET /f.txt HTTP/1.1\r\nHo".getBytes(StandardCharsets.US_ASCII));
                partial.getOutputStream().flush();
                assertThat(await(buffers, 1)).as("read buffers held with one half-received head").isEqualTo(1);
                partial.getOutputStream().write("st: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                assertThat(readStatus(partial.getInputStream())).isEqualTo(200);
                assertThat(await(buffers, 0)).as("read buffers held once that request was answered").isZero();
                assertThat(await(senders, 0)).as("senders held once that request was answered").isZero();

                // The idle connections still work, and give back what they took again.
                for (Socket s : List.of(open.get(0), open.get(SERVED))) {
                    s.getOutputStream().write(request());
                    assertThat(readStatus(s.getInputStream())).isEqualTo(200);
                }
                assertThat(await(buffers, 0)).isZero();
                assertThat(await(senders, 0)).isZero();
                assertThat(ts.server().metrics().render())
                        .contains("flash_read_buffers_held{loop=\"flash-loop-0\"} 0")
                        .contains("flash_senders_held{loop=\"flash-loop-1\"} 0");
            } finally {
                for (Socket s : open) s.close();
            }
        }
    }

    private static Socket connect(int port) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
        s.setSoTimeout(20_000);
        return s;
    }

    private static byte[] request() { return "GET /f.txt HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII); }

    /** Polls until the gauge reads {@code want} or the bounded wait ends; returns the last reading. */
    private static long await(LongSupplier gauge, long want) throws InterruptedException {
        long end = System.nanoTime() + WAIT_MS * 1_000_000;
        long v;
        while ((v = gauge.getAsLong()) != want && System.nanoTime() < end) Thread.sleep(10);
        return v;
    }

    private static void awaitOpen(TestServer ts, int n) throws InterruptedException {
        long end = System.nanoTime() + WAIT_MS * 1_000_000;
        while (ts.server().openConnections() < n && System.nanoTime() < end) Thread.sleep(10);
        assertThat(ts.server().openConnections()).as("connections the server holds").isGreaterThanOrEqualTo(n);
        long loops = ts.server().dispatcher().openConnections();
        while (loops < n && System.nanoTime() < end) {
            Thread.sleep(10);
            loops = ts.server().dispatcher().openConnections();
        }
        assertThat(loops).as("connections adopted by the loops").isGreaterThanOrEqualTo(n);
    }

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
}
