package flash.tls;

import flash.config.Architecture;
import flash.dispatch.ServerMetrics;
import flash.sys.Native;
import flash.testing.Fixtures;
import flash.testing.RawClient;
import flash.testing.TestServer;
import flash.testing.ColdFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * File data under TLS is read by the server to be encrypted: under AMPED a cold file must go to a helper before the
 * loop reads it, and a file truncated mid-transfer (from a file region or from a mapping) closes that connection only.
 * With the default engine (OpenSSL, which must never be handed a mapping that could fault); {@link TlsFileJdkEngineTest}
 * runs the same on the JDK's.
 */
class TlsFileTest {
    static final TestCerts CERTS = TestCerts.get();
    @TempDir Path root;

    flash.config.TlsEngine engine() { return TlsTest.defaultEngine(); }

    private TestServer start(Architecture arch, boolean fileCache) {
        return TestServer.start(root, arch, c -> c.withTls(CERTS.pairs()).withTlsEngine(engine()).withFileCache(fileCache)
                .withRevalidateAfter(Duration.ofMinutes(5)));
    }

    @Test
    void ampedReadsAColdFileRegionOnlyAfterAHelperPagedItIn() throws Exception {
        assumeTrue(TestServer.archs().contains(Architecture.AMPED), "amped not under test");
        assumeTrue(Native.available() && Native.fdAccess(), "native layer unavailable");
        Path f = root.resolve("cold.bin");
        byte[] data = Fixtures.random(3 << 20, 21);
        Files.write(f, data);
        try (TestServer s = start(Architecture.AMPED, false)) {
            ServerMetrics m = s.server().metrics();
            boolean missed = false;
            for (int attempt = 0; attempt < 5 && !missed; attempt++) {
                long before = m.residencyMisses();
                ColdFile.dropPages(f);
                try (RawClient c = new RawClient(TlsTest.tlsSocket(s.port(), "localhost"))) {
                    RawClient.Response r = c.send("GET /cold.bin HTTP/1.1\r\nHost: localhost\r\n\r\n").read();
                    assertThat(r.status()).isEqualTo(200);
                    assertThat(r.body()).isEqualTo(data);
                }
                missed = m.residencyMisses() > before;
            }
            assertThat(missed).as("a residency miss sent the cold region to a helper").isTrue();
        }
    }

    @Test
    void ampedWarmsAColdMappedFileBeforeEncryptingIt() throws Exception {
        assumeTrue(TestServer.archs().contains(Architecture.AMPED), "amped not under test");
        assumeTrue(Native.available() && Native.fdAccess(), "native layer unavailable");
        Path f = root.resolve("mapped.bin");
        byte[] data = Fixtures.random(512 * 1024, 22);
        Files.write(f, data);
        ColdFile.dropPages(f);
        try (TestServer s = start(Architecture.AMPED, true);
             RawClient c = new RawClient(TlsTest.tlsSocket(s.port(), "localhost"))) {
            RawClient.Response r = c.send("GET /mapped.bin HTTP/1.1\r\nHost: localhost\r\n\r\n").read();
            assertThat(r.body()).isEqualTo(data);
            assertThat(s.server().metrics().residencyMisses()).isPositive();
        }
    }

    /**
     * Issue #11: plain sockets send mid-size bodies by sendfile now, but TLS cannot (it encrypts the bytes itself), so
     * there a mid-size body still comes from mapped chunks, whole and in ranges, under every in-process architecture.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("flash.testing.TestServer#archs")
    void midSizeFilesStillComeFromMappedChunksUnderTls(Architecture arch) throws Exception {
        byte[] data = Fixtures.random(300 * 1024, 23);
        Files.write(root.resolve("mid.bin"), data);
        try (TestServer s = start(arch, true);
             RawClient c = new RawClient(TlsTest.tlsSocket(s.port(), "localhost"))) {
            var cache = s.server().context().chunkCache();
            for (int i = 0; i < 2; i++) {
                RawClient.Response r = c.send("GET /mid.bin HTTP/1.1\r\nHost: localhost\r\n\r\n").read();
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.body()).isEqualTo(data);
                RawClient.Response part = c.send("GET /mid.bin HTTP/1.1\r\nHost: localhost\r\nRange: bytes=70000-200000\r\n\r\n").read();
                assertThat(part.status()).isEqualTo(206);
                assertThat(part.body()).isEqualTo(java.util.Arrays.copyOfRange(data, 70000, 200001));
            }
            assertThat(cache.hits.sum() + cache.misses.sum()).as("sent from mapped chunks").isGreaterThanOrEqualTo(4);
        }
    }

    /**
     * Records of a large body are gathered up to 64 KiB per socket write. A client with a small receive buffer that
     * reads nothing at first leaves a batch half-sent in the transport, whose rest must go out, in order, once it
     * reads: two pipelined large bodies, from mapped chunks and from a file region, arrive whole.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("flash.testing.TestServer#archs")
    void aSlowReaderGetsEveryByteOfBatchedRecords(Architecture arch) throws Exception {
        byte[] data = Fixtures.random(3 * 1024 * 1024 + 12345, 29);
        Files.write(root.resolve("big.bin"), data);
        for (boolean fileCache : new boolean[] {true, false}) {
            try (TestServer s = start(arch, fileCache)) {
                java.net.Socket plain = new java.net.Socket();
                plain.setReceiveBufferSize(4096);
                plain.connect(new java.net.InetSocketAddress("127.0.0.1", s.port()), 5000);
                SSLSocket tls = (SSLSocket) CERTS.clientContext().getSocketFactory()
                        .createSocket(plain, "localhost", s.port(), true);
                tls.setSoTimeout(15_000);
                tls.startHandshake();
                try (RawClient c = new RawClient(tls)) {
                    c.send("GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n"
                            + "GET /big.bin HTTP/1.1\r\nHost: localhost\r\nRange: bytes=1-2500000\r\n\r\n");
                    Thread.sleep(300); // the server fills the socket and keeps the rest of a batch (not a timing assertion)
                    RawClient.Response whole = c.read();
                    assertThat(whole.status()).isEqualTo(200);
                    assertThat(whole.body()).as("file cache %s", fileCache).isEqualTo(data);
                    RawClient.Response part = c.read();
                    assertThat(part.status()).isEqualTo(206);
                    assertThat(part.body()).isEqualTo(java.util.Arrays.copyOfRange(data, 1, 2500001));
                }
            }
        }
    }

    /** From a file region (no cache) and from mapped chunks (cache): the connection ends, the server goes on. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("flash.testing.TestServer#archs")
    void aFileTruncatedMidTransferClosesThatConnectionOnly(Architecture arch) throws Exception {
        for (boolean cache : new boolean[] {false, true}) {
            int size = cache ? 8 << 20 : 32 << 20;
            Path big = root.resolve("big.bin");
            Files.write(big, new byte[size]);
            try (TestServer server = start(arch, cache); Problems log = new Problems();
                 SSLSocket s = TlsTest.tlsSocket(server.port(), "localhost")) {
                s.getOutputStream().write("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                InputStream in = s.getInputStream();
                String head = readHead(in);
                assertThat(head).contains("Content-Length: " + size);
                assertThat(in.readNBytes(1 << 20)).hasSize(1 << 20);
                try (RandomAccessFile f = new RandomAccessFile(big.toFile(), "rw")) {
                    f.setLength(1 << 20); // far below what was promised
                }
                long rest = 0;
                byte[] buf = new byte[64 * 1024];
                try {
                    for (int n; (n = in.read(buf)) >= 0; ) rest += n;
                } catch (IOException e) {
                    // a reset is a close too
                }
                assertThat((1 << 20) + rest).as("bytes of the body before the close (cache " + cache + ")").isLessThan(size);
                // The same file again on a new connection, shrunk further in place: its cached translation (and mapping)
                // still promise the old length. A 500 or a clean close, never a corrupt TLS record (the engine's
                // half-built record is dropped).
                Files.write(big, Fixtures.SMALL);
                try (RawClient c = new RawClient(TlsTest.tlsSocket(server.port(), "localhost"))) {
                    RawClient.Response r = c.send("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n").read();
                    assertThat(r.status()).isIn(200, 500);
                } catch (javax.net.ssl.SSLException e) {
                    throw new AssertionError("a corrupt record reached the client", e);
                } catch (IOException e) {
                    // closed: the honest answer once the head promised bytes the file no longer has
                }
                Files.write(root.resolve("other.bin"), Fixtures.SMALL);
                try (RawClient c = new RawClient(TlsTest.tlsSocket(server.port(), "localhost"))) {
                    RawClient.Response r = c.send("GET /other.bin HTTP/1.1\r\nHost: x\r\n\r\n").read();
                    assertThat(r.status()).isEqualTo(200);
                    assertThat(r.body()).isEqualTo(Fixtures.SMALL);
                }
                assertThat(log.severe).as("no loop failure").isZero();
            }
        }
    }

    private static String readHead(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        while (!sb.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) throw new IOException("EOF in head");
            sb.append((char) b);
        }
        return sb.toString();
    }

    /** Counts SEVERE log records (an event loop's unexpected error) while open. */
    static final class Problems extends Handler implements AutoCloseable {
        private final Logger root = Logger.getLogger("");
        volatile int severe;

        Problems() { root.addHandler(this); }

        @Override public void publish(LogRecord r) { if (r.getLevel().intValue() >= Level.SEVERE.intValue()) severe++; }
        @Override public void flush() { }
        @Override public void close() { root.removeHandler(this); }
    }
}
