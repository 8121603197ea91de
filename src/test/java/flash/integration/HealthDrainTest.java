package flash.integration;

import flash.config.Architecture;
import flash.testing.AllArchs;
import flash.testing.Fixtures;
import flash.testing.RawClient;
import flash.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Behind a load balancer: --health-path says 200 while serving and 503 from the moment a drain begins; during
 * --drain-delay everything else is served as before (new connections too), and the listener closes only after it;
 * and a request that arrives on a keep-alive connection as the drain starts is answered, not cut.
 */
class HealthDrainTest {
    private static final String BODY = "hello, balancer\n";
    private static Path root;

    @BeforeAll
    static void createRoot() throws IOException {
        root = Files.createTempDirectory("flash-health-");
        Files.writeString(root.resolve("a.txt"), BODY);
    }

    @AfterAll
    static void deleteRoot() { Fixtures.deleteTree(root); }

    private static String get(String path) { return "GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n"; }

    private static String getClose(String path) { return "GET " + path + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"; }

    /** One request on a fresh connection (closed after it, so it never holds an mp worker). */
    private static RawClient.Response once(int port, String request, boolean head) throws IOException {
        try (RawClient c = new RawClient(port)) {
            c.timeout(30_000);
            return c.send(request).read(head);
        }
    }

    @AllArchs
    void healthAnswers200WhileServingNeverCachedAndToHead(Architecture arch) throws Exception {
        try (TestServer s = TestServer.start(root, arch, c -> c.withHealthPath("/healthz"))) {
            RawClient.Response r = once(s.port(), getClose("/healthz"), false);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyText()).isEqualTo("ok\n");
            assertThat(r.header("Cache-Control")).isEqualTo("no-store");

            RawClient.Response h = once(s.port(), "HEAD /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", true);
            assertThat(h.status()).isEqualTo(200);
            assertThat(h.header("Content-Length")).isEqualTo("3");
            assertThat(h.header("Cache-Control")).isEqualTo("no-store");

            RawClient.Response post = once(s.port(), "POST /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", false);
            assertThat(post.status()).isEqualTo(405);
            assertThat(once(s.port(), getClose("/a.txt"), false).bodyText()).as("other paths are untouched").isEqualTo(BODY);
        }
    }

    @AllArchs
    void duringTheDrainDelayHealthSays503WhileRequestsAreServedThenTheListenerCloses(Architecture arch) throws Exception {
        // A delay far longer than the test: it ends when the test says so (as a second SIGTERM does), never by timing.
        try (TestServer s = TestServer.start(root, arch, c -> c.withHealthPath("/healthz").withDrainDelay(Duration.ofMinutes(10)));
             RawClient keptAlive = new RawClient(s.port())) {
            keptAlive.timeout(30_000);
            assertThat(keptAlive.send(get("/a.txt")).read().status()).isEqualTo(200);

            s.beginDrain();
            // Every mp worker got the SIGTERM: wait until fresh connections all see 503, whichever worker takes them.
            java.util.List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
            assertThat(awaitConsecutive(() -> {
                int status = once(s.port(), getClose("/healthz"), false).status();
                seen.add(Integer.toString(status));
                return status == 503;
            }, seen, 3 * TestServer.MP_PROCESSES)).as("health says 503 once the drain begins; seen: %s", seen).isTrue();
            RawClient.Response r = once(s.port(), getClose("/healthz"), false);
            assertThat(r.bodyText()).isEqualTo("draining\n");
            assertThat(r.header("Cache-Control")).isEqualTo("no-store");

            RawClient.Response fresh = once(s.port(), getClose("/a.txt"), false);
            assertThat(fresh.status()).as("a new connection is still accepted and served").isEqualTo(200);
            assertThat(fresh.bodyText()).isEqualTo(BODY);
            RawClient.Response again = keptAlive.send(get("/a.txt")).read();
            assertThat(again.status()).isEqualTo(200);
            assertThat(again.header("Connection")).as("keep-alive as usual during the delay").isNull();
            assertThat(refuses(s.port())).isFalse();

            s.endDrainDelay();
            assertThat(flash.testing.Http.await(() -> refuses(s.port()), 20_000)).as("the listener closes after the delay").isTrue();
        }
    }

    @AllArchs
    void aRequestArrivingOnAKeepAliveConnectionAsTheDrainStartsIsAnswered(Architecture arch) throws Exception {
        // No delay: the drain begins at once. Timeouts far longer than the test, so only the drain can end things.
        try (TestServer s = TestServer.start(root, arch, c -> c.withDrainTimeout(Duration.ofSeconds(60))
                .withTimeouts(Duration.ofSeconds(60), Duration.ofSeconds(60), Duration.ofSeconds(60)));
             RawClient c = new RawClient(s.port())) {
            c.timeout(30_000);
            assertThat(c.send(get("/a.txt")).read().status()).isEqualTo(200);
            String next = get("/a.txt");
            c.send(next.substring(0, 7)); // the request is on its way as the drain begins ...
            // Idle keep-alive connections: the server closes them once the drain has reached them (after a quiet
            // time). Consecutive connections go to every event loop (round-robin), so once all are closed, the drain
            // has reached the connection under test too. (Under mp they show only their own workers' drains; the
            // closed listener shows that every worker has begun its own.)
            java.util.List<RawClient> idle = new java.util.ArrayList<>();
            for (int i = 0; i < 4; i++) idle.add(new RawClient(s.port()));
            try {
                for (RawClient p : idle) p.timeout(30_000);
                if (arch != Architecture.MP) {
                    for (RawClient p : idle) assertThat(p.send(get("/a.txt")).read().status()).isEqualTo(200);
                }

                s.beginDrain();
                assertThat(flash.testing.Http.await(() -> refuses(s.port()), 20_000)).as("the drain has begun").isTrue();
                for (RawClient p : idle) assertThat(p.closedByServer()).as("an idle connection closes in the drain").isTrue();
            } finally {
                for (RawClient p : idle) p.close();
            }

            c.send(next.substring(7)); // ... and arrives during it
            RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyText()).isEqualTo(BODY);
            InputStream in = c.input();
            assertThat(in.read()).as("then an orderly close (a reset would throw)").isEqualTo(-1);
        }
    }

    private interface Probe { boolean test() throws IOException; }

    /** Polls until {@code probe} holds {@code n} times in a row (a failed connection counts as not holding). */
    private static boolean awaitConsecutive(Probe probe, java.util.List<String> seen, int n) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        int streak = 0;
        while (streak < n) {
            if (System.nanoTime() - deadline > 0) return false;
            boolean ok;
            try {
                ok = probe.test();
            } catch (IOException e) {
                seen.add(e.toString());
                ok = false;
            }
            if (ok) {
                streak++;
            } else {
                streak = 0;
                Thread.sleep(20);
            }
        }
        return true;
    }

    static boolean refuses(int port) {
        try (Socket probe = new Socket()) {
            probe.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            return false;
        } catch (IOException e) {
            return true;
        }
    }
}
