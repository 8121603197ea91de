package flash.hardening;

import flash.config.Architecture;
import flash.testing.RawClient;
import flash.testing.TestServer;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Timeouts of the blocking architectures (mt, vt, each mp worker) are enforced by a timer, while the connection's
 * own thread sits in a blocking write of a body mapped from the chunk cache. Two regressions:
 *
 * <ul>
 * <li>The timer must never free what that thread is writing from. When the timer released a response's chunks itself
 *     and the cache had evicted them meanwhile, the last release closed the chunk's arena while the thread was inside
 *     writev with it: {@code IllegalStateException: Session is acquired by 1 clients} killed the watchdog thread, and
 *     from then on no header, idle or write timeout fired, that connection's socket was never closed, its mappings
 *     leaked, and {@code flash_open_connections} stayed one too high.</li>
 * <li>{@code --write-timeout} means "no progress for that long". One blocking write carrying a whole mapped body left
 *     the deadline where the response started, so a client reading steadily but slowly was cut mid-body.</li>
 * </ul>
 */
class WatchdogReleaseTest {
    /** Mapped bodies: over 64 KiB and at most 3/32 of --cache-mb (9 MiB of 96), so 8 MiB files go through the cache. */
    private static final int CACHE_MB = 96;
    private static final int FILE_BYTES = 8 << 20;
    private static final int WRITE_TIMEOUT_S = 2;

    private static final int SLOW_FILES = 8;      // read by the stalled readers: 64 MiB of chunks
    private static final int SLOW_READERS = 30;
    private static final int CHURN_FILES = 8;     // fetched whole meanwhile: 64 MiB more, evicting the readers' chunks
    private static final int CHURN_FETCHES = 10;
    /** Fetched once all clients are gone: more new chunks than the whole --cache-mb budget, so LRU evicts all older ones. */
    private static final int FLUSH_FILES = CACHE_MB / 8 + 1;

    private static final long WAIT_MS = 15_000;   // bounded waits for an event that must happen (not how fast)
    private static final Pattern OPEN = Pattern.compile("(?m)^flash_open_connections (\\d+)$");

    @TempDir Path root;

    /** The architectures whose timeouts a watchdog thread enforces, among those under test (-Dflash.test.archs). */
    static List<String> watchdogArchs() {
        // MP is left out of the eviction scenario: a worker serves one connection at a time from its own cache, so no
        // other traffic can evict the chunks it is sending; and 40 concurrent clients would need 40 worker JVMs.
        return TestServer.allArchs().stream().filter(a -> a == Architecture.MT || a == Architecture.VT)
                .map(Architecture::cliName).toList();
    }

    /**
     * 30 readers stall on mapped 8 MiB bodies while other fetches evict their chunks; then timeouts must still fire,
     * and once every client is gone the server must hold no connection, socket or mapping for them, and have
     * printed no uncaught exception. (amped and sped have no watchdog: their loops expire their own connections.)
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("watchdogArchs")
    void slowReadersOfEvictedMappedBodiesDoNotKillTheWatchdog(String arch) throws Exception {
        List<String> files = new ArrayList<>(List.of("warm"));
        for (int i = 0; i < SLOW_FILES; i++) files.add("slow-" + i);
        for (int i = 0; i < CHURN_FILES; i++) files.add("churn-" + i);
        for (int i = 0; i < FLUSH_FILES; i++) files.add("flush-" + i);
        for (String f : files) write(f);

        try (ServerProcess server = ServerProcess.start(root, arch, "--cache-mb", Integer.toString(CACHE_MB),
                "--write-timeout", Integer.toString(WRITE_TIMEOUT_S), "--header-timeout", "1", "--idle-timeout", "30",
                "--threads", "64", "--status-path", "/status", "--drain-timeout", "2")) {
            int port = server.port();
            // Warm up (classes, pools, the virtual-thread pollers), then the quiet baseline.
            assertThat(Content.verify(fetch(port, "/warm.bin"))).isEqualTo("warm");
            assertThat(awaitOpenConnections(port, 0)).isZero();
            long baseSockets = Procfs.awaitAtMost(() -> sockets(server.pid()), 0, 300);
            long baseFds = server.fds();

            // 30 readers with a 1 KiB receive window take their response's head and a little of the body, then stall.
            List<Socket> readers = new ArrayList<>();
            try {
                for (int i = 0; i < SLOW_READERS; i++) readers.add(stallingReader(port, "/slow-" + (i % SLOW_FILES) + ".bin"));
                // While their deadlines run, other clients fetch other mapped files whole: the readers' chunks are the
                // least recently used, so the cache evicts them and each reader's response holds the last reference.
                try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
                    List<Future<byte[]>> churn = new ArrayList<>();
                    for (int i = 0; i < CHURN_FETCHES; i++) {
                        String name = "churn-" + (i % CHURN_FILES) + ".bin";
                        churn.add(pool.submit(() -> fetch(port, "/" + name)));
                    }
                    for (int i = 0; i < CHURN_FETCHES; i++) {
                        byte[] got;
                        try {
                            got = churn.get(i).get();
                        } catch (java.util.concurrent.ExecutionException e) {
                            // Rare (once in several full suites, "connection closed before a response"): say what the
                            // server said, which names a response it cut and why (flash.response).
                            Thread.sleep(500);
                            throw new AssertionError("churn fetch " + i + " failed; the server's stderr:\n" + server.stderr(), e);
                        }
                        assertThat(Content.verify(got)).as("churn fetch %d (%d bytes)", i, got.length)
                                .isEqualTo("churn-" + (i % CHURN_FILES));
                    }
                }

                SoftAssertions soft = new SoftAssertions();
                // (a) Timeouts are still enforced: the stalled readers (still connected, not reading) are dropped by
                // the write timeout, and a newcomer that sends half a head gets 408 and a close (header timeout 1 s).
                soft.assertThat(awaitOpenConnections(port, 0))
                        .as("connections the server still holds for the %d stalled readers, %d ms after the churn"
                                + " (write timeout %d s)", SLOW_READERS, WAIT_MS, WRITE_TIMEOUT_S)
                        .isZero();
                soft.assertThat(halfHead(port)).as("a half-sent head, after the stalled readers")
                        .isEqualTo("408+closed");

                for (Socket r : readers) r.close();
                readers.clear();

                // (b) With every client gone, the server holds nothing for them: no open connection, no socket...
                soft.assertThat(awaitOpenConnections(port, 0)).as("flash_open_connections once every client left")
                        .isZero();
                soft.assertThat(Procfs.awaitAtMost(() -> sockets(server.pid()), baseSockets, WAIT_MS))
                        .as("sockets in /proc/%s/fd (quiet baseline %d)", server.pid(), baseSockets)
                        .isLessThanOrEqualTo(baseSockets);
                // (the path cache may keep a descriptor per file fetched since the baseline)
                soft.assertThat(Procfs.awaitAtMost(server::fds, baseFds + files.size(), WAIT_MS))
                        .as("descriptors (baseline %d, %d files)", baseFds, files.size())
                        .isLessThanOrEqualTo(baseFds + files.size());
                // ...and no mapping but what the chunk cache holds. Fetch more new chunks than the whole budget: LRU
                // evicts every older chunk before any of these, so no mapping of the earlier files may remain.
                for (int i = 0; i < FLUSH_FILES; i++) {
                    soft.assertThat(Content.verify(fetch(port, "/flush-" + i + ".bin"))).as("flush fetch %d", i)
                            .isEqualTo("flush-" + i);
                }
                Map<String, Long> mapped = mappedBytes(server.pid());
                Map<String, Long> stale = new TreeMap<>(mapped);
                stale.keySet().removeIf(f -> f.startsWith("flush-"));
                soft.assertThat(stale).as("mapped bytes of the readers' and churn files once the cache moved on"
                        + " (/proc/%s/maps)", server.pid()).isEmpty();
                soft.assertThat(mapped.values().stream().mapToLong(Long::longValue).sum())
                        .as("mapped bytes of served files, all told: %s", mapped)
                        .isLessThanOrEqualTo((long) CACHE_MB << 20);

                // (c) Nothing escaped a thread (an uncaught exception, e.g. "Session is acquired by 1 clients" from
                // closing an arena under a write, ends a thread with "Exception in thread ..." on stderr).
                soft.assertThat(server.stderr().lines().filter(l -> l.contains("Exception") || l.contains("Session is")
                                || l.contains("SEVERE") || l.contains("WARNING")).toList())
                        .as("problems on the server's stderr").isEmpty();
                soft.assertThat(server.alive()).as("server alive").isTrue();
                soft.assertAll();
            } finally {
                for (Socket r : readers) r.close();
            }
        }
    }

    /** Every architecture under test, mp included. */
    static List<Architecture> allArchs() { return TestServer.allArchs(); }

    /**
     * A client that reads a mapped body steadily, slower than the server could send it, makes progress all the time:
     * the write timeout must never cut it, whatever the architecture and however the body is written.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("allArchs")
    void steadySlowReaderIsNotCutByWriteTimeout(Architecture arch) throws Exception {
        byte[] body = write("steady");
        int writeTimeoutS = 1; // the others' 2 s would make this test twice as long for the same three timeouts
        try (TestServer server = TestServer.start(root, arch, c -> c.withCacheBytes((long) CACHE_MB << 20)
                .withTimeouts(Duration.ofSeconds(10), Duration.ofSeconds(10), Duration.ofSeconds(writeTimeoutS)))) {
            // About 2.6 MB/s: the whole 8 MiB body takes over three write timeouts, with progress every 50 ms.
            long start = System.nanoTime();
            byte[] got = steadyRead(server.port(), "/steady.bin", 128 * 1024, 50);
            long ms = (System.nanoTime() - start) / 1_000_000;
            assertThat(got.length).as("body bytes received in %d ms at ~2.6 MB/s (Content-Length %d, write timeout %d s)",
                    ms, body.length, writeTimeoutS).isEqualTo(body.length);
            assertThat(Content.verify(got)).as("body content").isEqualTo("steady");
        }
    }

    // ------------------------------------------------------------------ clients

    /** A self-checking file of about 8 MiB. */
    private byte[] write(String label) throws IOException {
        byte[] b = Content.make(label, FILE_BYTES - 64);
        Files.write(root.resolve(label + ".bin"), b);
        return b;
    }

    private static byte[] fetch(int port, String path) throws IOException {
        try (RawClient c = new RawClient(port)) {
            RawClient.Response r = c.send("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").read();
            if (r.status() != 200) throw new IOException(path + ": " + r.statusLine());
            return r.body();
        }
    }

    /** Asks for a mapped file through a 1 KiB receive window, reads its head and a few KiB of body, and stops reading. */
    private static Socket stallingReader(int port, String path) throws IOException {
        Socket s = new Socket();
        try {
            s.setReceiveBufferSize(1024);
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            s.setSoTimeout((int) WAIT_MS);
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            String status = line(in);
            if (status == null || !status.startsWith("HTTP/1.1 200")) throw new IOException(path + ": " + status);
            while (!line(in).isEmpty()) { /* the rest of the head */ }
            in.readNBytes(4096);
            return s;
        } catch (IOException e) {
            s.close();
            throw e;
        }
    }

    /** Sends half a head and waits for the server's answer: "408+closed" when the header timeout is enforced. */
    private static String halfHead(int port) throws IOException {
        try (RawClient c = new RawClient(port)) {
            c.timeout((int) WAIT_MS);
            c.send("GET /warm.bin HTTP/1.1\r\nHost: x\r\n"); // the blank line never comes
            RawClient.Response r;
            try {
                r = c.read();
            } catch (SocketTimeoutException e) {
                return "no answer within " + WAIT_MS + " ms";
            } catch (IOException e) {
                return "no answer: " + e.getMessage();
            }
            return r.status() + (c.closedByServer() ? "+closed" : "+open");
        }
    }

    /** Reads a response paced at {@code step} bytes then {@code pauseMs} of sleep; returns the body bytes received. */
    private static byte[] steadyRead(int port, String path, int step, long pauseMs) throws IOException, InterruptedException {
        try (Socket s = new Socket()) {
            s.setReceiveBufferSize(8192);
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            s.setSoTimeout((int) WAIT_MS);
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            String status = line(in);
            assertThat(status).as("status line").startsWith("HTTP/1.1 200");
            long length = -1;
            for (String l; !(l = line(in)).isEmpty(); ) {
                if (l.toLowerCase().startsWith("content-length:")) length = Long.parseLong(l.substring(15).trim());
            }
            assertThat(length).as("Content-Length").isPositive();
            ByteArrayOutputStream body = new ByteArrayOutputStream((int) length);
            byte[] buf = new byte[step];
            try {
                while (body.size() < length) {
                    int want = (int) Math.min(step, length - body.size());
                    int n = in.readNBytes(buf, 0, want);
                    body.write(buf, 0, n);
                    if (n < want) break; // EOF: cut short
                    Thread.sleep(pauseMs);
                }
            } catch (IOException e) {
                // a reset cuts the body too; the length check reports it
            }
            return body.toByteArray();
        }
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0 && c != '\n') if (c != '\r') b.append((char) c);
        return c < 0 && b.isEmpty() ? null : b.toString();
    }

    // ------------------------------------------------------------------ the server's side

    /**
     * Polls the status page until {@code flash_open_connections}, less the status request's own connection, is at
     * most {@code target}, for at most {@link #WAIT_MS}; returns the last value seen.
     */
    private static long awaitOpenConnections(int port, long target) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + WAIT_MS * 1_000_000;
        long open = openConnections(port);
        while (open > target && System.nanoTime() < deadline) {
            Thread.sleep(100);
            open = openConnections(port);
        }
        return open;
    }

    private static long openConnections(int port) throws IOException {
        String page;
        try (RawClient c = new RawClient(port)) {
            page = c.send("GET /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").read().bodyText();
        }
        Matcher m = OPEN.matcher(page);
        if (!m.find()) throw new IOException("no flash_open_connections on the status page:\n" + page);
        return Long.parseLong(m.group(1)) - 1; // this request's connection counts itself
    }

    /** Sockets among a process's descriptors. */
    private static long sockets(String pid) {
        try (Stream<Path> s = Files.list(Path.of("/proc", pid, "fd"))) {
            return s.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString().startsWith("socket:");
                } catch (IOException e) {
                    return false; // closed while we looked
                }
            }).count();
        } catch (IOException e) {
            throw new IllegalStateException("cannot list /proc/" + pid + "/fd", e);
        }
    }

    /** Bytes of each file of the document root mapped into the process (/proc/PID/maps), by file name. */
    private Map<String, Long> mappedBytes(String pid) throws IOException {
        Map<String, Long> bytes = new TreeMap<>();
        String prefix = root.toRealPath() + "/";
        for (String l : Files.readAllLines(Path.of("/proc", pid, "maps"))) {
            String[] f = l.trim().split("\\s+", 6);
            if (f.length < 6 || !f[5].startsWith(prefix)) continue;
            String[] range = f[0].split("-");
            long size = Long.parseUnsignedLong(range[1], 16) - Long.parseUnsignedLong(range[0], 16);
            bytes.merge(f[5].substring(prefix.length()), size, Long::sum);
        }
        return bytes;
    }
}
