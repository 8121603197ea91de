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
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Slow clients must cost the server a timeout, not its service: slowloris heads get 408 and are closed, readers
 * that stall on a large body are dropped after the write timeout, and a normal client is served throughout.
 */
class SlowClientTest {
    private static final int SLOWLORIS = 30;
    private static final int SLOW_READERS = 8;
    private static final int BIG = 24 << 20;
    private static final byte[] SMALL = Content.make("small", 3000);

    @TempDir Path root;

    private TestServer start(Architecture arch) throws IOException {
        Files.write(root.resolve("small.txt"), SMALL);
        // Larger than loopback socket buffers on both sides, so a stalled reader really stalls the sender.
        byte[] big = new byte[BIG];
        Files.write(root.resolve("big.bin"), big);
        // MT needs a thread per concurrent connection; give it enough that slow clients cannot starve the pool.
        return TestServer.start(root, arch, c -> c.withThreads(64)
                .withTimeouts(Duration.ofMillis(1000), Duration.ofSeconds(30), Duration.ofMillis(1000)));
    }

    @ParameterizedTest
    @MethodSource("flash.hardening.Archs#inProcess")
    void slowlorisHeadsGet408AndCloseWhileOthersAreServed(Architecture arch) throws Exception {
        try (TestServer server = start(arch); LogCapture log = new LogCapture();
             ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            String head = "GET /small.txt HTTP/1.1\r\nHost: x\r\nUser-Agent: slowloris\r\nX-Padding: "
                    + "a".repeat(200) + "\r\n\r\n";
            List<Future<String>> slow = new ArrayList<>();
            for (int i = 0; i < SLOWLORIS; i++) slow.add(pool.submit(() -> slowloris(server.port(), head)));

            AtomicBoolean done = new AtomicBoolean();
            Future<Integer> normal = pool.submit(() -> normalClient(server.port(), done));
            List<String> outcomes = new ArrayList<>();
            for (Future<String> f : slow) outcomes.add(f.get());
            done.set(true);

            assertThat(outcomes).allMatch(o -> o.equals("408+closed"), "every slowloris connection got 408 and EOF");
            assertThat(normal.get()).as("normal requests served meanwhile").isPositive();
            assertThat(log.problems()).isEmpty();
        }
    }

    /** Sends the head one byte per 200 ms until the server answers; returns what happened. */
    private static String slowloris(int port, String head) throws IOException, InterruptedException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            s.setSoTimeout(15_000);
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            byte[] bytes = head.getBytes(StandardCharsets.US_ASCII);
            for (int i = 0; i < bytes.length && in.available() == 0; i++) {
                try {
                    out.write(bytes[i]);
                    out.flush();
                } catch (IOException e) {
                    break; // the server closed on us; what it said first is still to be read
                }
                Thread.sleep(200);
            }
            RawClient.Response r;
            try {
                r = readResponse(in);
            } catch (IOException e) {
                return "no response: " + e;
            }
            int eof;
            try {
                eof = in.read();
            } catch (IOException e) {
                eof = -1; // a reset after the 408 is a close too
            }
            return r.status() + (eof < 0 ? "+closed" : "+open");
        }
    }

    private static RawClient.Response readResponse(InputStream in) throws IOException {
        String status = line(in);
        if (status == null) throw new IOException("EOF before a response");
        int contentLength = 0;
        for (String l; !(l = line(in)).isEmpty(); ) {
            if (l.toLowerCase().startsWith("content-length:")) contentLength = Integer.parseInt(l.substring(15).trim());
        }
        byte[] body = in.readNBytes(contentLength);
        return new RawClient.Response(Integer.parseInt(status.split(" ")[1]), status, java.util.Map.of(), body);
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0 && c != '\n') if (c != '\r') b.append((char) c);
        return c < 0 && b.isEmpty() ? null : b.toString();
    }

    /** Keep-alive requests in a loop until told to stop; every one must be a whole, correct 200. */
    private static int normalClient(int port, AtomicBoolean done) throws IOException, InterruptedException {
        int served = 0;
        try (RawClient c = new RawClient(port)) {
            do {
                RawClient.Response r = c.send("GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n").read();
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.body()).isEqualTo(SMALL);
                served++;
                Thread.sleep(20);
            } while (!done.get());
        }
        return served;
    }

    @ParameterizedTest
    @MethodSource("flash.hardening.Archs#inProcess")
    void stalledReadersAreDroppedAfterTheWriteTimeoutWhileOthersAreServed(Architecture arch) throws Exception {
        try (TestServer server = start(arch); LogCapture log = new LogCapture();
             ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            AtomicBoolean done = new AtomicBoolean();
            Future<Integer> normal = pool.submit(() -> normalClient(server.port(), done));
            AtomicBoolean dropped = new AtomicBoolean();
            List<Future<Long>> readers = new ArrayList<>();
            for (int i = 0; i < SLOW_READERS; i++) readers.add(pool.submit(() -> slowReader(server.port(), dropped)));

            // The server's own view: all stalled readers counted, then all of them gone (only the normal client left).
            long all = awaitOpen(server, n -> n == SLOW_READERS + 1);
            long left = awaitOpen(server, n -> n <= 1);
            dropped.set(true);
            List<Long> received = new ArrayList<>();
            for (Future<Long> f : readers) received.add(f.get());
            done.set(true);

            assertThat(all).isEqualTo(SLOW_READERS + 1);
            assertThat(left).as("connections left once the write timeout passed").isEqualTo(1);
            // Once dropped, a reader drains what the kernel still held and meets EOF well short of the file.
            assertThat(received).as("bytes each stalled reader got before EOF")
                    .allMatch(n -> n >= 0 && n < BIG);
            assertThat(normal.get()).isPositive();
            assertThat(log.problems()).isEmpty();
        }
    }

    private static long awaitOpen(TestServer server, java.util.function.LongPredicate until) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        long n = server.server().openConnections();
        while (!until.test(n) && System.nanoTime() < deadline) {
            Thread.sleep(20);
            n = server.server().openConnections();
        }
        return n;
    }

    /**
     * Asks for a large file and reads 16 bytes every 250 ms through a tiny receive window until told the server has
     * dropped it, then reads fast to EOF. Returns the body bytes received, or -1 if the stream did not end.
     */
    private static long slowReader(int port, AtomicBoolean dropped) throws IOException, InterruptedException {
        try (Socket s = new Socket()) {
            s.setReceiveBufferSize(4096);
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            s.setSoTimeout(15_000);
            s.getOutputStream().write("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            byte[] few = new byte[16];
            long total = 0;
            for (int i = 0; i < 200 && !dropped.get(); i++) {
                int n = in.read(few);
                if (n < 0) return total;
                total += n;
                Thread.sleep(250);
            }
            byte[] buf = new byte[64 * 1024];
            try {
                for (int n; (n = in.read(buf)) >= 0; ) total += n;
            } catch (IOException e) {
                // a reset ends the stream too
            }
            return total;
        }
    }
}
