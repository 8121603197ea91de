package flash.amped;

import static org.assertj.core.api.Assertions.assertThat;

import flash.config.Architecture;
import flash.testing.RawClient;
import flash.testing.TestServer;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files change under a caching server. Within the revalidation bound (1 s by default) every request sees the new
 * state; polled, never timed. A change in the middle of a transfer ends that connection cleanly.
 */
class FreshnessTest {
    /** Generous bound for "within the revalidation interval" on a loaded 2-core machine. */
    static final long BOUND_MS = 5000;

    @TempDir Path root;

    static Stream<Architecture> archs() {
        return TestServer.archs().stream().filter(a -> a == Architecture.AMPED || a == Architecture.SPED);
    }

    @ParameterizedTest
    @MethodSource("archs")
    void changedReplacedSwappedDeletedOrTruncatedFilesAreSeenWithinTheBound(Architecture arch) throws Exception {
        // 3 KiB: held in memory; 200 KiB: mapped chunks; 1 MiB: sendfile (a 4 MiB cache maps files up to 384 KiB).
        // Revalidation after 200 ms instead of 1 s only makes the test quicker; the mechanism is the same.
        int[] sizes = {3000, 200 * 1024, 1 << 20};
        try (TestServer s = TestServer.start(root, arch, c -> c.withCacheBytes(4 << 20)
                .withRevalidateAfter(java.time.Duration.ofMillis(200)))) {
            int p = s.port();
            for (int size : sizes) {
                String n = "f" + size;
                byte[] v1 = Http.write(root.resolve(n), size, 1);
                assertThat(Http.serves(p, "/" + n, v1)).isTrue();

                byte[] v2 = Http.write(root.resolve(n), size, 2); // same size, in place
                assertThat(Http.eventually(BOUND_MS, () -> Http.serves(p, "/" + n, v2))).as("in place %s", n).isTrue();

                byte[] v3 = Http.write(root.resolve(n + ".tmp"), size / 2, 3);
                Files.move(root.resolve(n + ".tmp"), root.resolve(n), StandardCopyOption.ATOMIC_MOVE);
                assertThat(Http.eventually(BOUND_MS, () -> Http.serves(p, "/" + n, v3))).as("renamed %s", n).isTrue();

                try (FileChannel w = FileChannel.open(root.resolve(n), StandardOpenOption.WRITE)) {
                    w.truncate(size / 4);
                }
                byte[] v4 = Arrays.copyOf(v3, size / 4);
                assertThat(Http.eventually(BOUND_MS, () -> Http.serves(p, "/" + n, v4))).as("truncated %s", n).isTrue();

                Files.delete(root.resolve(n));
                assertThat(Http.eventually(BOUND_MS, () -> Http.get(p, "/" + n).status() == 404)).as("deleted %s", n).isTrue();
            }
            // a symlink swapped to another target (inside the root)
            byte[] a = Http.write(root.resolve("a.bin"), 100 * 1024, 7);
            byte[] b = Http.write(root.resolve("b.bin"), 100 * 1024, 8);
            Files.createSymbolicLink(root.resolve("link"), root.resolve("a.bin"));
            assertThat(Http.serves(p, "/link", a)).isTrue();
            Files.createSymbolicLink(root.resolve("link.new"), root.resolve("b.bin"));
            Files.move(root.resolve("link.new"), root.resolve("link"), StandardCopyOption.ATOMIC_MOVE);
            assertThat(Http.eventually(BOUND_MS, () -> Http.serves(p, "/link", b))).as("symlink swap").isTrue();
        }
    }

    /** The mapped body (16 MiB) and the sendfile body (--no-file-cache) each truncated while the server is sending. */
    @ParameterizedTest
    @MethodSource("archs")
    void truncatedMidTransferClosesThatConnectionOnly(Architecture arch) throws Exception {
        for (boolean fileCache : new boolean[] {true, false}) {
            Path f = root.resolve("huge.bin");
            int size = 16 << 20;
            Http.write(f, size, 9);
            byte[] other = Http.write(root.resolve("other.txt"), 500, 10);
            try (TestServer s = TestServer.start(root, arch, c -> c.withFileCache(fileCache));
                 Socket slow = new Socket()) {
                slow.setReceiveBufferSize(4096); // keeps most of the body in the server's hands
                slow.connect(new InetSocketAddress("127.0.0.1", s.port()), 5000);
                slow.setSoTimeout(15_000);
                slow.getOutputStream().write("GET /huge.bin HTTP/1.1\r\nHost: t\r\n\r\n".getBytes());
                InputStream in = slow.getInputStream();
                byte[] first = in.readNBytes(64 * 1024); // the head and the start of the body have left
                assertThat(new String(first, 0, 15)).startsWith("HTTP/1.1 200");
                try (FileChannel w = FileChannel.open(f, StandardOpenOption.WRITE)) {
                    w.truncate(0);
                }
                ByteArrayOutputStream rest = new ByteArrayOutputStream();
                try {
                    in.transferTo(rest); // until the server closes
                } catch (java.net.SocketException reset) {
                    // a reset is a clean close too
                }
                long received = first.length + rest.size();
                assertThat(received).as("file cache %s", fileCache).isLessThan(size);
                // the tail is body bytes only: no second response was glued onto the short body
                assertThat(new String(rest.toByteArray(), java.nio.charset.StandardCharsets.ISO_8859_1)).doesNotContain("HTTP/1.1 ");
                // everyone else is still served
                RawClient.Response ok = Http.get(s.port(), "/other.txt");
                assertThat(ok.status()).isEqualTo(200);
                assertThat(ok.body()).isEqualTo(other);
            }
        }
    }
}
