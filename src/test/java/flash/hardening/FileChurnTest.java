package flash.hardening;

import flash.config.Architecture;
import flash.testing.Http;
import flash.testing.RawClient;
import flash.testing.TestServer;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Files change while they are served. Replaced by rename, deleted, or swapped by a symlink flip: every 200 is one
 * version whole (self-checking contents), 404 only where a delete happened, and the stream never desynchronises.
 * Truncated or rewritten in place mid-transfer: the server survives, and a body it can no longer send whole ends
 * with a close, never with bytes of something else.
 */
class FileChurnTest {
    private static final int SMALL = 3000;          // served from memory
    private static final int LARGE = 300 * 1024;    // served from the file (sendfile)
    private static final int CHURN_ROUNDS = 150;

    @TempDir Path root;

    @ParameterizedTest
    @MethodSource("flash.hardening.Archs#inProcess")
    void everyResponseIsOneWholeVersionWhileFilesAreRenamedDeletedAndFlipped(Architecture arch) throws Exception {
        Path site = Files.createDirectories(root.resolve("site"));
        Files.write(site.resolve("small.txt"), Content.make("small-0", SMALL));
        Files.write(site.resolve("large.bin"), Content.make("large-0", LARGE));
        Files.write(site.resolve("gone.txt"), Content.make("gone-0", SMALL));
        for (String v : List.of("v1", "v2")) {
            Path rel = Files.createDirectories(root.resolve("releases").resolve(v));
            Files.write(rel.resolve("page.txt"), Content.make("page-" + v, SMALL));
            Files.write(rel.resolve("asset.bin"), Content.make("asset-" + v, LARGE));
        }
        Files.createSymbolicLink(root.resolve("current"), Path.of("releases/v1"));

        try (TestServer server = TestServer.start(root, arch, c -> c.withRevalidateAfter(java.time.Duration.ofMillis(20)));
             LogCapture log = new LogCapture();
             ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            AtomicBoolean stop = new AtomicBoolean();
            Map<String, AtomicInteger> seen = new ConcurrentHashMap<>();
            List<Future<?>> clients = new ArrayList<>();
            String[] paths = {"/site/small.txt", "/site/large.bin", "/site/gone.txt", "/current/page.txt", "/current/asset.bin"};
            for (int t = 0; t < 4; t++) {
                int first = t;
                clients.add(pool.submit(() -> {
                    try (RawClient c = new RawClient(server.port())) {
                        for (int i = first; !stop.get(); i++) {
                            String path = paths[i % paths.length];
                            RawClient.Response r = c.send("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n").read();
                            assertThat(r.statusLine()).as("in sync: a status line where a response starts").startsWith("HTTP/1.1 ");
                            if (r.status() == 404 && path.equals("/site/gone.txt")) {
                                seen.computeIfAbsent("404", k -> new AtomicInteger()).incrementAndGet();
                                continue;
                            }
                            assertThat(r.status()).as(path).isEqualTo(200);
                            String label = Content.verify(r.body());
                            assertThat(label).as("%s: a whole version (%d bytes)", path, r.body().length).isNotNull();
                            assertThat(path).contains(label.substring(0, label.indexOf('-')));
                            seen.computeIfAbsent(label, k -> new AtomicInteger()).incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            try {
                for (int round = 1; round <= CHURN_ROUNDS; round++) churn(site, round);
            } finally {
                stop.set(true);
            }
            for (Future<?> f : clients) f.get();
            assertThat(seen.keySet()).as("more than one version of the renamed files was served")
                    .anyMatch(l -> l.startsWith("small-") && !l.equals("small-0"));
            assertThat(log.problems()).isEmpty();
        }
    }

    /** One round: atomic deploys by rename, a delete and re-create, a symlink flip (rename of a new link). */
    private void churn(Path site, int round) throws IOException, InterruptedException {
        replace(site.resolve("small.txt"), Content.make("small-" + round, SMALL + round));
        replace(site.resolve("large.bin"), Content.make("large-" + round, LARGE + round));
        Path gone = site.resolve("gone.txt");
        if (round % 2 == 0) Files.deleteIfExists(gone);
        else replace(gone, Content.make("gone-" + round, SMALL));
        Path link = root.resolve("current.next");
        Files.deleteIfExists(link);
        Files.createSymbolicLink(link, Path.of(round % 2 == 0 ? "releases/v2" : "releases/v1"));
        Files.move(link, root.resolve("current"), StandardCopyOption.ATOMIC_MOVE);
        Thread.sleep(5);
    }

    private static void replace(Path target, byte[] content) throws IOException {
        Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp");
        Files.write(tmp, content);
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * Each in-process architecture with a file of 32 MiB, above the mapped bound (24 MiB by default: sent by sendfile
     * everywhere), and one of 16 MiB (mapped on the blocking architectures' sockets, where the kernel answers the write
     * from a mapping past the file's new end with EFAULT).
     */
    static Stream<Arguments> archsAndSizes() {
        return Archs.inProcess().stream().flatMap(a -> Stream.of(Arguments.of(a, 32), Arguments.of(a, 16)));
    }

    /**
     * The connection ends short of its Content-Length, the next request on a new connection gets the file as it is now,
     * and the error log has one line for the cut response, naming it and the truncation (nothing is lost silently).
     */
    @ParameterizedTest(name = "{0}, {1} MiB")
    @MethodSource("archsAndSizes")
    void aFileTruncatedMidTransferEndsWithACloseNotADesync(Architecture arch, int mib) throws Exception {
        int size = mib << 20;
        Path big = root.resolve("big.bin");
        Files.write(big, new byte[size]);
        try (TestServer server = TestServer.start(root, arch); LogCapture log = new LogCapture();
             Socket s = new Socket()) {
            s.setReceiveBufferSize(64 * 1024);
            s.connect(new InetSocketAddress("127.0.0.1", server.port()), 5000);
            s.setSoTimeout(15_000);
            s.getOutputStream().write(ascii("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\nGET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n"));
            InputStream in = s.getInputStream();
            long contentLength = contentLength(in);
            assertThat(contentLength).isEqualTo(size);
            assertThat(in.readNBytes(1 << 20)).hasSize(1 << 20);
            try (RandomAccessFile f = new RandomAccessFile(big.toFile(), "rw")) {
                f.setLength(2 << 20); // far below what was promised
            }
            long rest = 0;
            byte[] buf = new byte[64 * 1024];
            try {
                for (int n; (n = in.read(buf)) >= 0; ) rest += n;
            } catch (IOException e) {
                // a reset is a close too
            }
            assertThat((1 << 20) + rest).as("bytes of the body before EOF").isLessThan(contentLength);

            try (RawClient c = new RawClient(server.port())) {
                RawClient.Response r = c.send("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n").read();
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.body()).hasSize(2 << 20);
            }
            // the cut is logged by the thread that owns the connection, maybe just after the client saw the close
            Http.await(() -> !log.problems().isEmpty(), 5000);
            assertThat(log.problems()).singleElement(org.assertj.core.api.InstanceOfAssertFactories.STRING)
                    .startsWith("WARNING flash.response: response cut by a failure on the server's side, after ")
                    .contains("GET /big.bin from 127.0.0.1: flash.pipeline.Outgoing$TruncatedFileException: file truncated");
        }
    }

    @ParameterizedTest
    @MethodSource("flash.hardening.Archs#inProcess")
    void aFileRewrittenInPlaceMidTransferKeepsTheStreamFramed(Architecture arch) throws Exception {
        int size = 16 << 20;
        Path big = root.resolve("big.bin");
        Files.write(big, new byte[size]);
        try (TestServer server = TestServer.start(root, arch); LogCapture log = new LogCapture();
             RawClient c = new RawClient(server.port())) {
            c.send("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
            InputStream in = c.socket().getInputStream();
            assertThat(contentLength(in)).isEqualTo(size);
            assertThat(in.readNBytes(1 << 20)).hasSize(1 << 20);
            byte[] other = new byte[size];
            java.util.Arrays.fill(other, (byte) 'z');
            try (RandomAccessFile f = new RandomAccessFile(big.toFile(), "rw")) {
                f.write(other); // same length, other bytes, same inode
            }
            // The rest of the body arrives in full (its bytes are a mix, which in-place writes cannot avoid)...
            assertThat(in.readNBytes(size - (1 << 20))).hasSize(size - (1 << 20));
            // ...and the next response starts exactly where the promised length ended.
            RawClient.Response r = c.send("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n").read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.body()).hasSize(size);
            assertThat(log.problems()).isEmpty();
        }
    }

    private static long contentLength(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int ch = in.read();
            if (ch < 0) throw new IOException("EOF in head: " + head);
            head.append((char) ch);
        }
        assertThat(head.toString()).startsWith("HTTP/1.1 200 ");
        return head.toString().lines().filter(l -> l.toLowerCase().startsWith("content-length:"))
                .mapToLong(l -> Long.parseLong(l.substring(15).trim())).findFirst().orElseThrow();
    }

    private static byte[] ascii(String s) { return s.getBytes(StandardCharsets.US_ASCII); }
}
