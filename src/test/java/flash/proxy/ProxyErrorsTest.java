package flash.proxy;

import flash.config.Architecture;
import flash.config.ProxyRoute;
import flash.testing.AllArchs;
import flash.testing.ArchServers;
import flash.testing.Backend;
import flash.testing.Fixtures;
import flash.testing.Http;
import flash.testing.RawClient;
import flash.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The reverse proxy's failure rules, under every architecture, against real upstreams: {@link Backend}, and tiny
 * raw-socket origins for what Backend does not do (a port nobody listens on, a listener that never completes a
 * handshake, one that reads a request and hangs up, one that lies and keeps the connection open). Each test
 * fails if its rule breaks:
 * <ul>
 * <li>refused connect, reset before a response, or an invalid response head: 502 with Flash's own error page
 *     (nothing of the upstream's leaks), and the client connection stays usable;</li>
 * <li>no answer within --upstream-timeout, or no handshake within --upstream-connect-timeout: 504;</li>
 * <li>an upstream connection that broke the protocol is closed, never pooled;</li>
 * <li>once the head went to the client, a failing upstream means a short body and a close, never a
 *     complete-looking response;</li>
 * <li>an idempotent request without a body is retried on the next upstream, a request with a body never is;
 *     a request that was never sent (refused or timed-out connect) goes to the next upstream whatever its method;</li>
 * <li>round-robin reaches every upstream; an upstream whose connect failed is skipped while it is down;</li>
 * <li>a client that goes away mid-download closes its upstream connection, and a storm of them leaves no
 *     descriptor behind.</li>
 * </ul>
 */
class ProxyErrorsTest {
    private static final Duration CONNECT_TIMEOUT = Duration.ofMillis(500);
    private static final Duration IO_TIMEOUT = Duration.ofSeconds(1);

    private static final Backend BACKEND = Backend.start();
    /** The second healthy upstream of the round-robin route. */
    private static final Backend OTHER = Backend.start();
    /** Only the aborted downloads use it, so its open connections are theirs. */
    private static final Backend DOWNLOADS = Backend.start();
    /** Bound and never listening: every connect to it is refused, and no one else can take the port meanwhile. */
    private static final PortHold REFUSED = PortHold.reserve();
    private static final PortHold REFUSED_A = PortHold.reserve();
    private static final Blackhole BLACKHOLE = Blackhole.start();
    /** Reads a request head, then hangs up without a response. */
    private static final RawUpstream CLOSER = RawUpstream.start(0, target -> null);
    /** Answers /ok properly and the lies as asked, and keeps every connection open afterwards. */
    private static final RawUpstream LIAR = RawUpstream.start(0, ProxyErrorsTest::liarAnswer);
    /** Per architecture: upstream A of the health route, not listening until the test starts an acceptor there. */
    private static final Map<Architecture, PortHold> HEALTH_A = Collections.synchronizedMap(new EnumMap<>(Architecture.class));

    private static final ArchServers SERVERS = new ArchServers(arch -> TestServer.start(Fixtures.root(), arch,
            c -> c.withProxies(List.of(
                            route("/b/", BACKEND.url()),
                            route("/refused/", REFUSED.url()),
                            route("/bh/", BLACKHOLE.url()),
                            route("/liar/", LIAR.url()),
                            route("/r/", CLOSER.url(), BACKEND.url()),
                            route("/cr/", REFUSED_A.url(), BACKEND.url()),
                            route("/bhr/", BLACKHOLE.url(), BACKEND.url()),
                            route("/rr/", BACKEND.url(), OTHER.url()),
                            route("/h/", HEALTH_A.computeIfAbsent(arch, a -> PortHold.reserve()).url(), BACKEND.url()),
                            route("/dl/", DOWNLOADS.url())))
                    .withUpstreamTimeouts(CONNECT_TIMEOUT, IO_TIMEOUT)));

    private static final AtomicInteger IDS = new AtomicInteger();

    @AfterAll
    static void stop() {
        SERVERS.close();
        for (AutoCloseable c : List.of(BACKEND, OTHER, DOWNLOADS, REFUSED, REFUSED_A, BLACKHOLE, CLOSER, LIAR)) {
            try {
                c.close();
            } catch (Exception ignored) {
                // closing test fixtures
            }
        }
        HEALTH_A.values().forEach(PortHold::close);
    }

    /** {@code PREFIX=URL/,URL/...}: PREFIX is replaced by "/", so {@code /b/echo} reaches the upstream as {@code /echo}. */
    private static ProxyRoute route(String prefix, String... urls) {
        return ProxyRoute.parse(prefix + "=" + String.join(",", Arrays.stream(urls).map(u -> u + "/").toList()));
    }

    private static RawClient client(Architecture arch) throws IOException { return new RawClient(SERVERS.get(arch).port()); }

    /** A unique request marker; fixed width, so no marker is a substring of another. */
    private static String id() { return String.format("t%06d", IDS.incrementAndGet()); }

    private static String get(String target) { return "GET " + target + " HTTP/1.1\r\nHost: t\r\n\r\n"; }

    // ================================================================== 1. refused

    @AllArchs
    void aRefusedConnectIs502AndTheClientConnectionStaysUsable(Architecture arch) throws Exception {
        try (RawClient c = client(arch)) {
            c.send(get("/refused/echo"));
            RawClient.Response r = c.read();
            assertFlashError(r, 502, "Bad Gateway");
            assertThat(r.header("Connection")).as("a 502 keeps the client connection").isNull();
            c.send(get("/refused/echo")); // the upstream is marked down now: still a 502 of our own
            assertFlashError(c.read(), 502, "Bad Gateway");
            c.send(get("/b/echo"));
            RawClient.Response ok = c.read();
            assertThat(ok.status()).as("the next request on the same connection").isEqualTo(200);
            assertThat(Backend.Echo.parse(ok.body()).target()).isEqualTo("/echo");
        }
    }

    // ================================================================== 2. reset, hang, connect timeout

    @AllArchs
    void anUpstreamThatResetsBeforeAnsweringIs502(Architecture arch) throws Exception {
        String id = id();
        try (RawClient c = client(arch)) {
            c.send(get("/b/reset?id=" + id));
            assertFlashError(c.read(), 502, "Bad Gateway");
            assertThat(BACKEND.received().stream().filter(r -> r.target().contains(id))).as("the upstream got it").isNotEmpty();
            c.send(get("/b/echo"));
            assertThat(c.read().status()).as("the client connection stays usable").isEqualTo(200);
        }
    }

    @AllArchs
    void anUpstreamThatNeverAnswersIs504AfterTheUpstreamTimeout(Architecture arch) throws Exception {
        try (RawClient c = client(arch)) {
            c.timeout(15_000); // generous: --upstream-timeout is 1 s
            c.send(get("/b/hang?id=" + id()));
            assertFlashError(c.read(), 504, "Gateway Timeout");
            c.send(get("/b/echo"));
            assertThat(c.read().status()).as("the client connection stays usable").isEqualTo(200);
        }
    }

    /**
     * A listener whose accept queue is full and which never accepts: Linux drops the SYN (LISTENOVERFLOWS), so the
     * connect neither completes nor fails until --upstream-connect-timeout (0.5 s here) ends it.
     */
    @AllArchs
    void aConnectThatTimesOutIs504(Architecture arch) throws Exception {
        Assumptions.assumeTrue(BLACKHOLE.works(), "no local way to blackhole a SYN here (a full accept queue still answered)");
        try (RawClient c = client(arch)) {
            c.send(get("/bh/echo"));
            assertFlashError(c.read(), 504, "Gateway Timeout");
            c.send(get("/b/echo"));
            assertThat(c.read().status()).as("the client connection stays usable").isEqualTo(200);
        }
    }

    // ================================================================== 3. invalid framing

    /**
     * Backend's lies (then it closes): 502 with our page, nothing of the lie reaches the client, and the next request
     * on the same client connection (the same worker under mp) runs on a new upstream connection. The lie is told
     * on a pooled connection, so the proxy had a connection it might have kept.
     */
    @AllArchs
    void anInvalidResponseHeadIs502AndItsConnectionIsNotReused(Architecture arch) throws Exception {
        for (String lie : List.of("both", "cl-conflict", "garbage")) {
            try (RawClient c = client(arch)) {
                c.send(get("/b/echo?warm"));
                assertThat(c.read().status()).isEqualTo(200);
                String id = id();
                c.send(get("/b/lie/" + lie + "?id=" + id));
                RawClient.Response r = c.read();
                assertFlashError(r, 502, "Bad Gateway");
                assertThat(r.bodyText()).as(lie).doesNotContain("hello").doesNotContain("SSH");
                int lied = backendConnectionOf(BACKEND, id);
                c.send(get("/b/echo"));
                RawClient.Response next = c.read();
                assertThat(next.status()).as(lie + ": next request").isEqualTo(200);
                assertThat(Backend.Echo.parse(next.body()).connection()).as(lie + ": the next request's upstream connection")
                        .isNotEqualTo(lied);
            }
        }
    }

    /**
     * The same lies from an upstream that keeps the connection open afterwards, as a confused origin (or one
     * behind a desynchronised hop) would: the proxy must close it itself, and never reuse it.
     */
    @AllArchs
    void aLyingUpstreamConnectionIsClosedByTheProxyNotPooled(Architecture arch) throws Exception {
        for (String lie : List.of("both", "cl-conflict", "garbage")) {
            try (RawClient c = client(arch)) {
                String warm = id(), bad = id(), after = id();
                c.send(get("/liar/ok?id=" + warm));
                RawClient.Response ok = c.read();
                assertThat(ok.status()).isEqualTo(200);
                assertThat(ok.bodyText()).isEqualTo("ok");
                c.send(get("/liar/" + lie + "?id=" + bad));
                RawClient.Response r = c.read();
                assertFlashError(r, 502, "Bad Gateway");
                int lied = LIAR.connectionOf(bad);
                c.send(get("/liar/ok?id=" + after));
                assertThat(c.read().status()).as(lie + ": next request").isEqualTo(200);
                assertThat(LIAR.connectionOf(after)).as(lie + ": the next request's upstream connection").isNotEqualTo(lied);
                assertThat(Http.await(() -> !LIAR.isOpen(lied), 10_000)).as(lie + ": the proxy closed the lying connection").isTrue();
            }
        }
    }

    /** Content-Length 1000, 10 bytes, close: the head went out, so the client sees those bytes and a close. */
    @AllArchs
    void aShortUpstreamBodyReachesTheClientShortThenClosed(Architecture arch) throws Exception {
        try (RawClient c = client(arch)) {
            c.send(get("/b/lie/short"));
            RawClient.Response h = c.read(true);
            assertThat(h.status()).isEqualTo(200);
            Rest rest = Rest.read(c);
            assertTruncated(h, rest, 1000);
            assertThat("0123456789").as("what arrived is what the upstream sent").startsWith(rest.text());
        }
    }

    /**
     * A chunk size that is not hex right after the head (in the same read): the head still reaches the client, then
     * the connection closes, and the chunked body never ends with a last chunk.
     */
    @AllArchs
    void aBadChunkAfterTheHeadClosesTheClientConnection(Architecture arch) throws Exception {
        try (RawClient c = client(arch)) {
            c.send(get("/b/lie/bad-chunk"));
            RawClient.Response h = c.read(true);
            assertThat(h.status()).isEqualTo(200);
            assertTruncated(h, Rest.read(c), -1);
        }
    }

    // ================================================================== 4. reset mid-body

    @AllArchs
    void aResetMidBodyClosesTheClientConnectionShort(Architecture arch) throws Exception {
        int size = 400_000;
        try (RawClient c = client(arch)) {
            c.send(get("/b/reset-mid?size=" + size));
            RawClient.Response h = c.read(true);
            assertThat(h.status()).isEqualTo(200);
            Rest rest = Rest.read(c);
            assertTruncated(h, rest, size);
            Backend.assertPattern(rest.bytes(), 0);
        }
    }

    // ================================================================== 5. retries and round-robin

    /**
     * A GET that upstream A took and hung up on without an answer goes to B: the client gets B's 200, and A saw it
     * exactly once. A is first in turn for a route's first request (and stays first while each request costs two
     * turns), so the first GET or the next hits A; under mp each worker has its own turn.
     */
    @AllArchs
    void anIdempotentRequestIsRetriedOnTheNextUpstream(Architecture arch) throws Exception {
        boolean retried = false;
        for (int i = 0; i < 8 && !retried; i++) {
            String id = id();
            try (RawClient c = client(arch)) {
                c.send(get("/r/echo?id=" + id));
                RawClient.Response r = c.read();
                assertThat(r.status()).as("GET %s", id).isEqualTo(200);
                assertThat(Backend.Echo.parse(r.body()).target()).isEqualTo("/echo?id=" + id);
            }
            long atA = CLOSER.count(id);
            assertThat(atA).as("A saw %s at most once", id).isLessThanOrEqualTo(1);
            assertThat(BACKEND.received().stream().filter(x -> x.target().contains(id)).count()).as("B got %s once", id).isEqualTo(1);
            retried = atA == 1;
        }
        assertThat(retried).as("some GET reached A first and was retried on B").isTrue();
    }

    /** A POST with a body that A took and hung up on: 502, and B never sees it (it may have had effects at A). */
    @AllArchs
    void aRequestWithABodyIsNeverRetried(Architecture arch) throws Exception {
        boolean hitA = false;
        for (int i = 0; i < 8 && !hitA; i++) {
            String id = id();
            byte[] body = ("order=" + id).getBytes(StandardCharsets.US_ASCII);
            RawClient.Response r;
            try (RawClient c = client(arch)) {
                c.send("POST /r/echo?id=" + id + " HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\nContent-Length: "
                        + body.length + "\r\n\r\n");
                c.send(body);
                r = c.read();
            }
            hitA = CLOSER.count(id) == 1;
            long atB = BACKEND.received().stream().filter(x -> x.target().contains(id)).count();
            if (hitA) {
                assertFlashError(r, 502, "Bad Gateway");
                assertThat(atB).as("B never received POST %s", id).isZero();
            } else { // B was first in turn: an ordinary success
                assertThat(r.status()).isEqualTo(200);
                assertThat(atB).isEqualTo(1);
            }
        }
        assertThat(hitA).as("some POST reached A").isTrue();
    }

    /** A refused: nothing was sent, so every request, POST with a body first, succeeds through B. */
    @AllArchs
    void aRequestNeverSentGoesToTheNextUpstreamWhateverItsMethod(Architecture arch) throws Exception {
        for (int i = 0; i < 6; i++) {
            String id = id();
            boolean post = i % 2 == 0; // a POST is the route's first request: A is first in turn then
            try (RawClient c = client(arch)) {
                if (post) {
                    String body = "body-" + id;
                    c.send("POST /cr/echo?id=" + id + " HTTP/1.1\r\nHost: t\r\nContent-Length: " + body.length() + "\r\n\r\n" + body);
                } else {
                    c.send(get("/cr/echo?id=" + id));
                }
                RawClient.Response r = c.read();
                assertThat(r.status()).as("%s %s", post ? "POST" : "GET", id).isEqualTo(200);
                Backend.Echo e = Backend.Echo.parse(r.body());
                assertThat(e.method()).isEqualTo(post ? "POST" : "GET");
                if (post) assertThat(e.bodyText()).isEqualTo("body-" + id);
            }
        }
    }

    /**
     * A's connect times out (the blackhole): nothing was sent, so a POST with a body, the route's first request and so
     * sent to A first, still goes on to B.
     */
    @AllArchs
    void aRequestWhoseConnectTimedOutGoesToTheNextUpstreamWhateverItsMethod(Architecture arch) throws Exception {
        Assumptions.assumeTrue(BLACKHOLE.works(), "no local way to blackhole a SYN here");
        String id = id(), body = "body-" + id;
        try (RawClient c = client(arch)) {
            c.send("POST /bhr/echo?id=" + id + " HTTP/1.1\r\nHost: t\r\nContent-Length: " + body.length() + "\r\n\r\n" + body);
            RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            Backend.Echo e = Backend.Echo.parse(r.body());
            assertThat(e.method()).isEqualTo("POST");
            assertThat(e.bodyText()).isEqualTo(body);
        }
    }

    @AllArchs
    void roundRobinReachesEveryUpstream(Architecture arch) throws Exception {
        List<String> ids = new ArrayList<>();
        try (RawClient c = client(arch)) { // one connection: under mp, one worker and its own turn
            for (int i = 0; i < 20; i++) {
                String id = id();
                ids.add(id);
                c.send(get("/rr/echo?id=" + id));
                assertThat(c.read().status()).isEqualTo(200);
            }
        }
        long atB = ids.stream().filter(id -> BACKEND.received().stream().anyMatch(x -> x.target().endsWith("=" + id))).count();
        long atOther = ids.stream().filter(id -> OTHER.received().stream().anyMatch(x -> x.target().endsWith("=" + id))).count();
        assertThat(atB + atOther).isEqualTo(20);
        assertThat(atB).as("requests at the first upstream").isPositive();
        assertThat(atOther).as("requests at the second upstream").isPositive();
    }

    // ================================================================== 6. passive health

    /**
     * A refused, B healthy. One request on each of {@link TestServer#MP_PROCESSES} client connections held open
     * together (under mp that is one per worker, and each worker keeps its own health): A is tried first, refused,
     * marked down. Then an acceptor starts listening on A's port, and the next requests, well within the 10 s
     * down period, must all go straight to B: the acceptor sees no connection at all.
     * <p>
     * Recovery after the down period is not tested: it is {@code UpstreamGroup.DOWN_NANOS}, a fixed 10 s, and
     * waiting that out under five architectures would cost 50 s; a shorter one needs a new configuration field,
     * CLI flag and mp worker argument, more than a small change.
     */
    @AllArchs
    void anUpstreamWhoseConnectFailedIsSkippedWhileDown(Architecture arch) throws Exception {
        TestServer server = SERVERS.get(arch);
        PortHold a = HEALTH_A.get(arch);
        List<RawClient> clients = new ArrayList<>();
        try {
            for (int i = 0; i < TestServer.MP_PROCESSES; i++) clients.add(new RawClient(server.port()));
            for (RawClient c : clients) {
                c.send(get("/h/echo?id=" + id()));
                assertThat(c.read().status()).isEqualTo(200);
            }
            a.close();
            try (RawUpstream acceptor = RawUpstream.start(a.port(), target -> null)) {
                for (int round = 0; round < 3; round++) {
                    for (RawClient c : clients) {
                        c.send(get("/h/echo?id=" + id()));
                        assertThat(c.read().status()).isEqualTo(200);
                    }
                }
                assertThat(acceptor.accepted()).as("connections to A while it is down").isZero();
            }
        } finally {
            for (RawClient c : clients) c.close();
        }
    }

    // ================================================================== 7. clients that go away

    /** 50 MB from the upstream, the client reads a little and leaves: the upstream connection is closed, not kept. */
    @AllArchs
    void aClientGoneMidDownloadClosesItsUpstreamConnection(Architecture arch) throws Exception {
        abortedDownload(arch);
        assertThat(awaitAtMost(DOWNLOADS::openConnections, 0, 10_000)).as("upstream connections still open").isZero();
    }

    /** In-process architectures: 200 aborted proxied downloads leave the process's descriptor count at baseline. */
    @AllArchs
    void aStormOfAbortedDownloadsLeavesNoDescriptorBehind(Architecture arch) throws Exception {
        TestServer server = SERVERS.get(arch);
        server.server(); // skips mp: its descriptors are in the worker processes
        abortedDownload(arch); // warm-up: lazily made loop and pool state is not a leak
        assertThat(awaitAtMost(DOWNLOADS::openConnections, 0, 10_000)).isZero();
        assertThat(awaitAtMost(() -> server.server().openConnections(), 0, 10_000)).isZero();
        long baseline = fds();
        int storm = 200, threads = 4;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                done.add(pool.submit(() -> {
                    for (int i = 0; i < storm / threads; i++) abortedDownload(arch);
                    return null;
                }));
            }
            for (Future<?> f : done) f.get();
        } finally {
            pool.shutdownNow();
        }
        assertThat(awaitAtMost(DOWNLOADS::openConnections, 0, 20_000)).as("upstream connections still open").isZero();
        assertThat(awaitAtMost(() -> server.server().openConnections(), 0, 10_000)).as("client connections still open").isZero();
        long tolerance = 8;
        assertThat(awaitAtMost(ProxyErrorsTest::fds, baseline + tolerance, 15_000)).as("descriptors (baseline %d)", baseline)
                .isLessThanOrEqualTo(baseline + tolerance);
    }

    private static void abortedDownload(Architecture arch) throws IOException {
        try (RawClient c = client(arch)) {
            c.send(get("/dl/bytes?size=50000000"));
            RawClient.Response h = c.read(true);
            assertThat(h.status()).isEqualTo(200);
            assertThat(h.header("Content-Length")).isEqualTo("50000000");
            byte[] some = c.input().readNBytes(1000);
            Backend.assertPattern(some, 0);
        } // closed with unread bytes in flight: a reset for the proxy's next write
    }

    // ================================================================== 8. nothing leaks

    /**
     * Invalid responses carrying an upstream's identity, secrets and body: the client gets Flash's page and Flash's
     * head, and not a byte of theirs.
     */
    @AllArchs
    void anErrorResponseLeaksNothingOfTheUpstream(Architecture arch) throws Exception {
        for (String lie : List.of("secret-both", "secret-cl-conflict", "secret-bad-status")) {
            try (RawClient c = client(arch)) {
                c.send(get("/liar/" + lie + "?id=" + id()));
                RawClient.Response r = c.read();
                assertFlashError(r, 502, "Bad Gateway");
                String all = (r.statusLine() + r.headers() + r.bodyText()).toLowerCase(Locale.ROOT);
                for (String secret : List.of("s3cret", "secret-upstream", "internal.example", "stack trace", "10.9.8.7")) {
                    assertThat(all).as(lie).doesNotContain(secret);
                }
            }
        }
        try (RawClient c = client(arch)) { // a reset and a refusal: no exception text, no address
            c.send(get("/b/reset"));
            RawClient.Response r = c.read();
            assertFlashError(r, 502, "Bad Gateway");
            c.send(get("/refused/x"));
            RawClient.Response r2 = c.read();
            assertFlashError(r2, 502, "Bad Gateway");
            for (RawClient.Response x : List.of(r, r2)) {
                String all = (x.headers() + x.bodyText()).toLowerCase(Locale.ROOT);
                assertThat(all).doesNotContain("127.0.0.1").doesNotContain("exception").doesNotContain("refused")
                        .doesNotContain("reset").doesNotContain(Backend.SERVER);
            }
        }
    }

    // ================================================================== assertions

    /** Flash's own error page, exactly: status, head fields and body; nothing an upstream sent. */
    private static void assertFlashError(RawClient.Response r, int code, String reason) {
        String text = code + " " + reason;
        assertThat(r.statusLine()).isEqualTo("HTTP/1.1 " + text);
        assertThat(r.bodyText()).isEqualTo("<!DOCTYPE html>\n<html><head><title>" + text + "</title></head><body><h1>"
                + text + "</h1></body></html>\n");
        assertThat(r.header("Content-Type")).isEqualTo("text/html; charset=utf-8");
        assertThat(r.header("Server")).isEqualTo("flash");
        assertThat(r.header("Via")).as("no upstream response passed through").isNull();
        assertThat(r.headers().keySet()).as("head fields").allMatch(n -> Set.of("server", "date", "content-type",
                "content-length", "connection").contains(n));
    }

    /**
     * What followed a forwarded head: it must end in a close (or reset), short of the announced length, or, for a
     * chunked body, before its last chunk. Never a complete-looking response.
     */
    private static void assertTruncated(RawClient.Response head, Rest rest, long contentLength) {
        assertThat(rest.ending()).as("how the body ended").isNotEqualTo(Rest.Ending.TIMEOUT);
        String cl = head.header("Content-Length");
        if (cl != null) {
            if (contentLength >= 0) assertThat(cl).isEqualTo(Long.toString(contentLength));
            assertThat((long) rest.bytes().length).as("body bytes before the close").isLessThan(Long.parseLong(cl));
        } else {
            assertThat(head.header("Transfer-Encoding")).as("a body without a length is chunked to an HTTP/1.1 client").isEqualTo("chunked");
            assertThat(lastChunkSeen(rest.bytes())).as("the chunked body never ends with a last chunk").isFalse();
        }
    }

    /** Whether a chunked body parses through to its last chunk. */
    private static boolean lastChunkSeen(byte[] raw) {
        int p = 0;
        while (true) {
            int eol = indexOf(raw, p, "\r\n");
            if (eol < 0) return false;
            String size = new String(raw, p, eol - p, StandardCharsets.ISO_8859_1);
            int semi = size.indexOf(';');
            long n;
            try {
                n = Long.parseLong((semi < 0 ? size : size.substring(0, semi)).trim(), 16);
            } catch (NumberFormatException e) {
                return false;
            }
            if (n == 0) return indexOf(raw, eol + 2, "\r\n") >= 0;
            p = eol + 2 + (int) n + 2;
            if (p > raw.length) return false;
        }
    }

    private static int indexOf(byte[] b, int from, String s) {
        byte[] t = s.getBytes(StandardCharsets.ISO_8859_1);
        outer:
        for (int i = from; i <= b.length - t.length; i++) {
            for (int j = 0; j < t.length; j++) if (b[i + j] != t[j]) continue outer;
            return i;
        }
        return -1;
    }

    /** The rest of a connection's input after a head: the bytes, and whether a close, a reset or the timeout ended it. */
    private record Rest(byte[] bytes, Ending ending) {
        enum Ending { CLOSE, RESET, TIMEOUT }

        static Rest read(RawClient c) throws IOException {
            c.timeout(10_000);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[1 << 16];
            InputStream in = c.input();
            try {
                for (int n; (n = in.read(buf)) >= 0; ) out.write(buf, 0, n);
                return new Rest(out.toByteArray(), Ending.CLOSE);
            } catch (SocketTimeoutException e) {
                return new Rest(out.toByteArray(), Ending.TIMEOUT);
            } catch (IOException e) {
                return new Rest(out.toByteArray(), Ending.RESET);
            }
        }

        String text() { return new String(bytes, StandardCharsets.ISO_8859_1); }
    }

    private static int backendConnectionOf(Backend b, String id) {
        return b.received().stream().filter(r -> r.target().contains(id)).findFirst()
                .orElseThrow(() -> new AssertionError("the backend never received " + id)).connection();
    }

    // ================================================================== descriptors

    private static long fds() {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Polls until {@code value} is at most {@code target} or {@code maxMillis} passed; the last value seen. */
    private static long awaitAtMost(LongSupplier value, long target, long maxMillis) throws InterruptedException {
        long deadline = System.nanoTime() + maxMillis * 1_000_000;
        long v = value.getAsLong();
        while (v > target && System.nanoTime() - deadline < 0) {
            Thread.sleep(20);
            v = value.getAsLong();
        }
        return v;
    }

    // ================================================================== raw upstreams

    private static byte[] liarAnswer(String target) {
        String path = target.contains("?") ? target.substring(0, target.indexOf('?')) : target;
        String secret = "Server: secret-upstream/9.9\r\nX-Upstream-Secret: s3cret\r\nX-Internal-Host: internal.example:10.9.8.7\r\n";
        String r = switch (path) {
            case "/ok" -> "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
            case "/both" -> "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
            case "/cl-conflict" -> "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!";
            case "/garbage" -> "SSH-2.0-OpenSSH_9.6\r\n\r\n";
            case "/secret-both" -> "HTTP/1.1 200 OK\r\n" + secret + "Content-Length: 17\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "11\r\nstack trace: s3cret\r\n0\r\n\r\n";
            case "/secret-cl-conflict" -> "HTTP/1.1 500 s3cret internal.example\r\n" + secret
                    + "Content-Length: 12\r\nContent-Length: 13\r\n\r\nstack trace!";
            case "/secret-bad-status" -> "HTTP/1.1 2000 s3cret\r\n" + secret + "Content-Length: 11\r\n\r\nstack trace";
            default -> "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
        };
        return r.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** A port bound by a socket that never listens: connects are refused, and the port stays ours until closed. */
    private static final class PortHold implements AutoCloseable {
        private final Socket socket = new Socket();
        private final int port;

        private PortHold() throws IOException {
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            port = socket.getLocalPort();
        }

        static PortHold reserve() {
            try {
                return new PortHold();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        int port() { return port; }

        String url() { return "http://127.0.0.1:" + port; }

        @Override
        public void close() {
            try {
                socket.close();
            } catch (IOException ignored) {
                // nothing to release
            }
        }
    }

    /**
     * A listener with backlog 1 whose accept queue is filled and never drained. Linux drops further SYNs while the
     * queue is full (no RST, unlike a port nobody listens on), so a connect there hangs until its own timeout.
     * {@link #works} says whether a probe connect did time out here.
     */
    private static final class Blackhole implements AutoCloseable {
        private final ServerSocket listener;
        private final List<Socket> fillers = new ArrayList<>();
        private boolean works;

        private Blackhole() throws IOException {
            listener = new ServerSocket();
            listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1);
            for (int i = 0; i < 8 && !works; i++) {
                Socket s = new Socket();
                try {
                    s.connect(listener.getLocalSocketAddress(), 300);
                    fillers.add(s);
                } catch (SocketTimeoutException e) {
                    works = true;
                    s.close();
                }
            }
        }

        static Blackhole start() {
            try {
                return new Blackhole();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        boolean works() { return works; }

        String url() { return "http://127.0.0.1:" + listener.getLocalPort(); }

        @Override
        public void close() throws IOException {
            for (Socket s : fillers) s.close();
            listener.close();
        }
    }

    /**
     * An origin on a raw ServerSocket: counts connections, reads each request head (and a Content-Length body),
     * remembers its request line and connection, and writes what {@code answer} gives for the target, keeping the
     * connection for the next request; when {@code answer} gives null it hangs up at once, the body unread.
     */
    private static final class RawUpstream implements AutoCloseable {
        private record Seen(int connection, String requestLine) {}

        private final ServerSocket listener;
        private final Function<String, byte[]> answer;
        private final AtomicInteger accepted = new AtomicInteger();
        private final List<Seen> seen = Collections.synchronizedList(new ArrayList<>());
        private final Map<Integer, Socket> open = new ConcurrentHashMap<>();
        private volatile boolean closed;

        private RawUpstream(int port, Function<String, byte[]> answer) throws IOException {
            this.answer = answer;
            listener = new ServerSocket();
            listener.setReuseAddress(true);
            listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 64);
            Thread.ofPlatform().daemon().name("raw-upstream-" + listener.getLocalPort()).start(this::acceptLoop);
        }

        static RawUpstream start(int port, Function<String, byte[]> answer) {
            try {
                return new RawUpstream(port, answer);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        String url() { return "http://127.0.0.1:" + listener.getLocalPort(); }

        int accepted() { return accepted.get(); }

        /** Requests whose request line contains {@code needle}. */
        long count(String needle) {
            synchronized (seen) {
                return seen.stream().filter(s -> s.requestLine().contains(needle)).count();
            }
        }

        int connectionOf(String needle) {
            synchronized (seen) {
                return seen.stream().filter(s -> s.requestLine().contains(needle)).findFirst()
                        .orElseThrow(() -> new AssertionError("no request " + needle + " arrived")).connection();
            }
        }

        boolean isOpen(int connection) { return open.containsKey(connection); }

        private void acceptLoop() {
            while (!closed) {
                Socket s;
                try {
                    s = listener.accept();
                } catch (IOException e) {
                    return;
                }
                int n = accepted.incrementAndGet();
                open.put(n, s);
                Thread.ofPlatform().daemon().name("raw-upstream-conn-" + n).start(() -> serve(s, n));
            }
        }

        private void serve(Socket s, int n) {
            try (s) {
                s.setSoTimeout(60_000);
                InputStream in = new BufferedInputStream(s.getInputStream());
                OutputStream out = s.getOutputStream();
                while (true) {
                    String head = readHead(in);
                    if (head == null) return;
                    String line = head.substring(0, head.indexOf("\r\n"));
                    seen.add(new Seen(n, line));
                    String[] parts = line.split(" ");
                    byte[] a = answer.apply(parts.length > 1 ? parts[1] : "/");
                    if (a == null) return; // hang up, body unread
                    long length = contentLength(head);
                    in.skipNBytes(length);
                    out.write(a);
                    out.flush();
                }
            } catch (IOException e) {
                // the proxy closed or reset: an ordinary end
            } finally {
                open.remove(n);
            }
        }

        /** The request head up to its blank line, or null at EOF before one. */
        private static String readHead(InputStream in) throws IOException {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            int state = 0;
            for (int c; (c = in.read()) >= 0; ) {
                b.write(c);
                state = switch (state) {
                    case 0, 2 -> c == '\r' ? state + 1 : 0;
                    case 1, 3 -> c == '\n' ? state + 1 : (c == '\r' ? 1 : 0);
                    default -> 0;
                };
                if (state == 4) return b.toString(StandardCharsets.ISO_8859_1);
            }
            return null;
        }

        private static long contentLength(String head) {
            for (String l : head.split("\r\n")) {
                int c = l.indexOf(':');
                if (c > 0 && l.substring(0, c).trim().equalsIgnoreCase("Content-Length")) return Long.parseLong(l.substring(c + 1).trim());
            }
            return 0;
        }

        @Override
        public void close() {
            closed = true;
            try {
                listener.close();
            } catch (IOException ignored) {
                // closing
            }
            for (Socket s : open.values()) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // closing
                }
            }
        }
    }
}
