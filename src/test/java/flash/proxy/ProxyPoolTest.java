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

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Keep-alive connections to upstreams: pooled per event loop under amped and sped (TestServer runs 2 loops), one
 * pool for mt's and vt's threads, one per mp worker. Which backend connection served a request is read from the
 * backend's echo ({@code connection}, numbered in accept order), so the counts do not depend on earlier tests.
 */
class ProxyPoolTest {
    private static final int LOOPS = 2; // TestServer.start's withLoops(2)
    private static final Backend BACKEND = Backend.start();
    /** Closes a keep-alive connection after 200 ms idle: whatever the proxy pooled goes stale. */
    private static final Backend STALE = Backend.start(o -> o.idleTimeout(Duration.ofMillis(200)));
    private static final ArchServers POOLED = new ArchServers(arch -> TestServer.start(Fixtures.root(), arch,
            c -> c.withProxies(List.of(
                    ProxyRoute.parse("/echo=" + BACKEND.url()),
                    ProxyRoute.parse("/stale/=" + STALE.url() + "/")))));
    /** For --upstream-keepalive 1: its own backend, so its open connections are this server's alone. */
    private static final Backend LIMITED_BACKEND = Backend.start();
    private static final ArchServers LIMITED = new ArchServers(arch -> TestServer.start(Fixtures.root(), arch,
            c -> c.withProxies(List.of(ProxyRoute.parse("/slow=" + LIMITED_BACKEND.url()))).withUpstreamKeepalive(1)));
    private static final ArchServers UNPOOLED = new ArchServers(arch -> TestServer.start(Fixtures.root(), arch,
            c -> c.withProxies(List.of(ProxyRoute.parse("/echo=" + BACKEND.url()))).withUpstreamKeepalive(0)));

    @AfterAll
    static void stop() {
        POOLED.close();
        UNPOOLED.close();
        LIMITED.close();
        BACKEND.close();
        LIMITED_BACKEND.close();
        STALE.close();
    }

    private static final String GET = "GET /echo HTTP/1.1\r\nHost: t\r\n\r\n";

    /** One request, answered 200 by the backend: the backend connection that carried it. */
    private static int echo(RawClient c, String request) throws Exception {
        c.send(request);
        RawClient.Response r = c.read();
        assertThat(r.status()).as(r.statusLine() + " " + r.bodyText()).isEqualTo(200);
        return Backend.Echo.parse(r.body()).connection();
    }

    @AllArchs
    void sequentialRequestsOnOneClientConnectionShareOneUpstreamConnection(Architecture arch) throws Exception {
        int before = BACKEND.connectionsAccepted();
        Set<Integer> used = new TreeSet<>();
        try (RawClient c = new RawClient(POOLED.get(arch).port())) {
            for (int i = 0; i < 50; i++) used.add(echo(c, GET));
        }
        // One client connection lives on one loop or thread, and each request is released before the next is read.
        assertThat(used).as("backend connections used by 50 requests").hasSize(1);
        assertThat(BACKEND.connectionsAccepted() - before).isLessThanOrEqualTo(1);
    }

    @AllArchs
    void pipelinedRequestsGoOutOneAfterAnotherOnOneUpstreamConnection(Architecture arch) throws Exception {
        Set<Integer> used = new TreeSet<>();
        try (RawClient c = new RawClient(POOLED.get(arch).port())) {
            c.send(GET.repeat(10)); // one write: each request waits in the read buffer until the previous is answered
            for (int i = 0; i < 10; i++) {
                RawClient.Response r = c.read();
                assertThat(r.status()).as("response %d", i).isEqualTo(200);
                used.add(Backend.Echo.parse(r.body()).connection());
            }
        }
        assertThat(used).hasSize(1);
    }

    @AllArchs
    void sequentialRequestsOverSeveralClientConnectionsShareAFewUpstreamConnections(Architecture arch) throws Exception {
        // MP_PROCESSES clients, all kept open: an mp worker serves one connection at a time, so no more than that.
        int clients = TestServer.MP_PROCESSES;
        int before = BACKEND.connectionsAccepted();
        Set<Integer> used = new TreeSet<>();
        List<RawClient> cs = new ArrayList<>();
        try {
            for (int i = 0; i < clients; i++) cs.add(new RawClient(POOLED.get(arch).port()));
            for (int i = 0; i < 50; i++) used.add(echo(cs.get(i % clients), GET)); // round robin over the clients
        } finally {
            for (RawClient c : cs) c.close();
        }
        // amped/sped: one per loop (a loop returns a connection to its pool before it reads another request);
        // mp: one per worker; mt/vt: one shared pool, so usually one, but a thread preempted between sending a
        // response's last byte and returning its connection lets the next client's thread open another: at most
        // one per client connection.
        int bound = switch (arch) {
            case AMPED, SPED -> LOOPS;
            case MT, VT -> clients;
            case MP -> TestServer.MP_PROCESSES;
        };
        assertThat(used).as("backend connections used by 50 requests over %d client connections", clients)
                .hasSizeLessThanOrEqualTo(bound);
        assertThat(BACKEND.connectionsAccepted() - before).isLessThanOrEqualTo(bound);
    }

    @AllArchs
    void concurrentClientsUseAtMostOneUpstreamConnectionEach(Architecture arch) throws Exception {
        int clients = TestServer.MP_PROCESSES;
        int before = BACKEND.connectionsAccepted();
        Set<Integer> used = new ConcurrentSkipListSet<>();
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < clients; t++) {
                done.add(pool.submit(() -> {
                    try (RawClient c = new RawClient(POOLED.get(arch).port())) {
                        for (int i = 0; i < 30; i++) used.add(echo(c, GET));
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) f.get(60, TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
        }
        // A client connection lives on one loop or thread and has one request in flight: at most one upstream
        // connection busy per client at any moment, so the pools never need more than one per client.
        assertThat(used).as("backend connections used by %d x 30 concurrent requests", clients)
                .hasSizeLessThanOrEqualTo(clients);
        assertThat(BACKEND.connectionsAccepted() - before).isLessThanOrEqualTo(clients);
    }

    @AllArchs
    void upstreamKeepaliveZeroOpensAConnectionPerRequestAndClosesIt(Architecture arch) throws Exception {
        int before = BACKEND.connectionsAccepted();
        int openBefore = BACKEND.openConnections();
        Set<Integer> used = new TreeSet<>();
        try (RawClient c = new RawClient(UNPOOLED.get(arch).port())) {
            for (int i = 0; i < 10; i++) used.add(echo(c, GET));
        }
        assertThat(used).hasSize(10);
        assertThat(BACKEND.connectionsAccepted() - before).isEqualTo(10);
        // The backend would keep each one open for a minute: closing them is the proxy's job.
        awaitOpenAtMost(BACKEND, openBefore);
    }

    @AllArchs
    void idleConnectionsBeyondTheKeepaliveLimitAreClosed(Architecture arch) throws Exception {
        int clients = TestServer.MP_PROCESSES;
        int openBefore = LIMITED_BACKEND.openConnections(); // what the servers of the archs tested before keep
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            for (int round = 0; round < 3; round++) {
                List<Future<?>> done = new ArrayList<>();
                for (int t = 0; t < clients; t++) {
                    done.add(pool.submit(() -> {
                        try (RawClient c = new RawClient(LIMITED.get(arch).port())) {
                            // /slow holds each upstream connection a while, so the clients' requests overlap
                            for (int i = 0; i < 5; i++) {
                                c.send("GET /slow?ms=30 HTTP/1.1\r\nHost: t\r\n\r\n");
                                assertThat(c.read().status()).isEqualTo(200);
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        // --upstream-keepalive 1: one idle connection per pool (per loop, per server for mt/vt, per mp worker);
        // every other one was closed when its exchange ended (the backend would have kept them open a minute).
        int pools = switch (arch) {
            case AMPED, SPED -> LOOPS;
            case MT, VT -> 1;
            case MP -> TestServer.MP_PROCESSES;
        };
        awaitOpenAtMost(LIMITED_BACKEND, openBefore + pools);
    }

    @AllArchs
    void anUpstreamConnectionAnsweredWithConnectionCloseIsNotReused(Architecture arch) throws Exception {
        int openBefore = BACKEND.openConnections();
        Set<Integer> used = new TreeSet<>();
        try (RawClient c = new RawClient(POOLED.get(arch).port())) {
            // The backend says close and closes.
            for (int i = 0; i < 5; i++) used.add(echo(c, "GET /echo?close=1 HTTP/1.1\r\nHost: t\r\n\r\n"));
            // The backend says close but leaves the connection open: the proxy must not reuse it, and must close it.
            for (int i = 0; i < 5; i++) {
                used.add(echo(c, "GET /echo?header=Connection:close HTTP/1.1\r\nHost: t\r\n\r\n"));
            }
            // Connection is hop-by-hop: the client's own connection stays open.
            used.add(echo(c, GET));
        }
        assertThat(used).as("every close-answered request had a connection of its own").hasSize(11);
        awaitOpenAtMost(BACKEND, openBefore + 1); // the last one, pooled
    }

    @AllArchs
    void aPooledConnectionTheUpstreamClosedWhileIdleIsNotAnError(Architecture arch) throws Exception {
        Set<Integer> used = new TreeSet<>();
        try (RawClient c = new RawClient(POOLED.get(arch).port())) {
            used.add(echo(c, "GET /stale/echo HTTP/1.1\r\nHost: t\r\n\r\n"));
            for (int i = 0; i < 2; i++) {
                Thread.sleep(400); // the backend's 200 ms idle timeout closed the pooled connection meanwhile
                used.add(echo(c, "GET /stale/echo HTTP/1.1\r\nHost: t\r\n\r\n"));
                // Not retryable (a POST with a body): it must not be sent on a connection known to be closed.
                Thread.sleep(400);
                used.add(echo(c, "POST /stale/echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"));
            }
            // Around the moment the backend gives up on the idle connection, a GET may be sent on a connection that
            // is closing under it: the proxy retries it on a fresh one, and the client never sees an error.
            for (int i = 0; i < 10; i++) {
                Thread.sleep(185 + 3 * i);
                used.add(echo(c, "GET /stale/echo HTTP/1.1\r\nHost: t\r\n\r\n"));
            }
        }
        assertThat(used.size()).as("fresh connections after idle closes").isGreaterThanOrEqualTo(5);
        assertThat(STALE.protocolErrors()).isEmpty();
    }

    @AllArchs
    void aGetSentOnAPooledConnectionThatTurnsOutDeadIsRetriedOnAFreshOne(Architecture arch) throws Exception {
        for (int i = 0; i < 5; i++) {
            try (RawClient c = new RawClient(POOLED.get(arch).port())) {
                // The first response is framed for keep-alive, so its connection is pooled, but the backend closes it
                // at once. The pipelined second request is handled the moment the first is done, usually before the
                // close is noticed: it goes out on the dead connection, fails, and is retried on a fresh one.
                c.send("GET /echo?drop=1 HTTP/1.1\r\nHost: t\r\n\r\n" + GET);
                int first = Backend.Echo.parse(c.read().body()).connection();
                RawClient.Response second = c.read();
                assertThat(second.status()).as("round %d: %s", i, second.bodyText()).isEqualTo(200);
                assertThat(Backend.Echo.parse(second.body()).connection()).isNotEqualTo(first);
                // And without pipelining, at once after the response: the same race from the client's side.
                c.send("GET /echo?drop=1 HTTP/1.1\r\nHost: t\r\n\r\n");
                assertThat(c.read().status()).isEqualTo(200);
                assertThat(echo(c, GET)).isPositive();
            }
        }
        assertThat(BACKEND.protocolErrors()).isEmpty();
    }

    private static void awaitOpenAtMost(Backend b, int n) throws InterruptedException {
        assertThat(Http.await(() -> b.openConnections() <= n, 15_000))
                .as("backend connections open: %d, expected at most %d", b.openConnections(), n).isTrue();
    }
}
