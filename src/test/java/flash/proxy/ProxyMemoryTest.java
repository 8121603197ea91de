package flash.proxy;

import flash.config.Architecture;
import flash.config.ProxyRoute;
import flash.http.HttpLimits;
import flash.testing.ArchServers;
import flash.testing.Backend;
import flash.testing.Fixtures;
import flash.testing.RawClient;
import flash.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.List;
import java.util.Locale;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A proxied body of any size costs the server a bounded amount of memory: one 64 KiB upstream buffer and the
 * client connection's read buffer per exchange, whatever the number of bytes in flight, because each side is read
 * only when the other took the previous piece. A slow client downloads part of a 1 GiB response, and a client
 * uploads part of a 1 GiB body to an origin that reads slowly, while the test samples this JVM's heap (after a
 * full GC) plus its direct buffer memory. In-process architectures only: the server must live in this JVM.
 * Everything else in the JVM (the backend, the client) holds fixed-size buffers, so any growth is the proxy's.
 * The bytes transferred are bounded (64 MiB), not the time.
 */
class ProxyMemoryTest {
    private static final long GIB = 1L << 30;
    private static final int PIECE = 64 * 1024;
    private static final long WARM_UP = 8L << 20;      // before the baseline: JIT, pools and socket buffers settle
    private static final long TRANSFER = 64L << 20;    // bytes moved while sampling
    private static final long SAMPLE_EVERY = 8L << 20;
    /** Allowed growth over the baseline: far less than the bytes in flight, more than GC accounting noise. */
    private static final long MAX_GROWTH = 4L << 20;

    // The backend keeps no body bytes (recordBodyLimit 0): otherwise it would hold 16 MiB of the upload itself.
    private static final Backend BACKEND = Backend.start(o -> o.recordBodyLimit(0));
    private static final ArchServers SERVERS = new ArchServers(arch -> TestServer.start(Fixtures.root(), arch,
            c -> c.withProxies(List.of(
                    ProxyRoute.parse("/bytes=" + BACKEND.url()),
                    ProxyRoute.parse("/slow-read=" + BACKEND.url())))
                    .withLimits(new HttpLimits(8192, 16384, 100, 2L << 30))));

    @AfterAll
    static void stop() {
        SERVERS.close();
        BACKEND.close();
    }

    /** Heap in use after a full collection, and direct buffer memory, in bytes. */
    private record Usage(long heap, long direct) {
        long total() { return heap + direct; }

        static Usage now() {
            MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
            System.gc();
            System.gc(); // a second pass for what the first one's cleaners released
            long direct = 0;
            for (BufferPoolMXBean p : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
                if (p.getName().equals("direct")) direct = p.getMemoryUsed();
            }
            return new Usage(mem.getHeapMemoryUsage().getUsed(), direct);
        }
    }

    /** Samples taken every SAMPLE_EVERY bytes; the largest growth over the baseline, and a report line. */
    private static final class Samples {
        private final String what;
        private Usage baseline;
        private long maxHeap = Long.MIN_VALUE, maxDirect = Long.MIN_VALUE, maxTotal = Long.MIN_VALUE;
        private int count;

        Samples(String what) { this.what = what; }

        void at(long bytes) {
            if (bytes == WARM_UP) {
                baseline = Usage.now();
                return;
            }
            if (bytes < WARM_UP || bytes % SAMPLE_EVERY != 0) return;
            Usage u = Usage.now();
            count++;
            maxHeap = Math.max(maxHeap, u.heap() - baseline.heap());
            maxDirect = Math.max(maxDirect, u.direct() - baseline.direct());
            maxTotal = Math.max(maxTotal, u.total() - baseline.total());
        }

        void check() {
            String line = String.format(Locale.ROOT,
                    "%s: baseline heap %.1f MiB + direct %.1f MiB; over %d samples in %d MiB, growth at most: "
                            + "heap %+.2f MiB, direct %+.2f MiB, total %+.2f MiB",
                    what, mib(baseline.heap()), mib(baseline.direct()), count, (TRANSFER - WARM_UP) >> 20,
                    mib(maxHeap), mib(maxDirect), mib(maxTotal));
            System.out.println("[ProxyMemoryTest] " + line);
            assertThat(count).isPositive();
            assertThat(maxTotal).as(line).isLessThan(MAX_GROWTH);
        }

        private static double mib(long b) { return b / 1048576.0; }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("flash.testing.TestServer#archs")
    void aSlowClientDownloadingAHugeProxiedResponseCostsABufferNotTheBytesInFlight(Architecture arch) throws Exception {
        TestServer server = SERVERS.get(arch);
        server.server(); // in-process, so its memory is this JVM's
        Samples samples = new Samples(arch.cliName() + " download");
        try (RawClient c = new RawClient(server.port())) {
            c.send("GET /bytes?size=" + GIB + " HTTP/1.1\r\nHost: t\r\n\r\n");
            RawClient.Response head = c.read(true);
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.header("Content-Length")).isEqualTo(Long.toString(GIB));
            InputStream in = c.input();
            byte[] buf = new byte[PIECE];
            long got = 0;
            while (got < TRANSFER) {
                int n = in.readNBytes(buf, 0, (int) Math.min(PIECE, TRANSFER - got));
                assertThat(n).as("bytes at %d", got).isPositive();
                Backend.assertPattern(n == PIECE ? buf : java.util.Arrays.copyOf(buf, n), got); // every byte, in order
                got += n;
                samples.at(got);
                Thread.sleep(1); // slower than the origin: the proxy must stop reading it, not buffer for us
            }
        } // closing mid-body aborts the exchange and its upstream connection
        samples.check();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("flash.testing.TestServer#archs")
    void aHugeUploadToASlowOriginCostsABufferNotTheBytesInFlight(Architecture arch) throws Exception {
        TestServer server = SERVERS.get(arch);
        server.server();
        Samples samples = new Samples(arch.cliName() + " upload");
        byte[] piece = Backend.pattern(0, PIECE); // the body is generated, never held
        try (RawClient c = new RawClient(server.port())) {
            // The origin reads 64 KiB per millisecond at most; the client would send far faster.
            c.send("POST /slow-read?ms=1 HTTP/1.1\r\nHost: t\r\nContent-Type: application/octet-stream\r\n"
                    + "Content-Length: " + GIB + "\r\n\r\n");
            OutputStream out = c.socket().getOutputStream();
            long sent = 0;
            while (sent < TRANSFER) {
                out.write(piece);
                sent += PIECE;
                samples.at(sent);
            }
        } // closing mid-body aborts the exchange and its upstream connection
        samples.check();
    }
}
