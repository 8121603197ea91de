package flash.integration;

import flash.config.Architecture;
import flash.config.ServerConfig;
import flash.testing.AllArchs;
import flash.testing.Fixtures;
import flash.testing.RawClient;
import flash.testing.TestServer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * mt serves a connection per thread, so keep-alive clients idle between requests hold the pool. A new connection
 * that finds every thread taken has the connection idle longest closed for it (as nginx does when it runs out of
 * connections, once it has been idle for a quarter of a second) instead of waiting in the backlog for an idle
 * timeout; a connection in the middle of a request is never the one closed. The other architectures have no such
 * bound (mp's workers leave a waiting connection in the backlog they share, for the first worker freed).
 */
class IdleShedTest {
    private static final String GET = "GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n";
    /** Far longer than the test: no connection here ends by its idle timeout. */
    private static final UnaryOperator<ServerConfig> POOL_OF_TWO = c -> c.withThreads(2).withStatusPath("/status")
            .withTimeouts(Duration.ofSeconds(120), Duration.ofSeconds(120), Duration.ofSeconds(120));

    /** Connections that take every place: mt's two threads, or mp's workers (one connection each). */
    private static int places(Architecture arch) { return arch == Architecture.MP ? TestServer.MP_PROCESSES : 2; }

    @AllArchs
    void aConnectionFindingEveryThreadHeldByIdleClientsIsServedAndTheLongestIdleIsClosed(Architecture arch) throws Exception {
        try (TestServer s = TestServer.start(Fixtures.root(), arch, POOL_OF_TWO)) {
            List<RawClient> idle = new ArrayList<>();
            try {
                for (int i = 0; i < places(arch); i++) {
                    RawClient c = new RawClient(s.port());
                    c.timeout(30_000);
                    assertThat(c.send(GET).read().status()).isEqualTo(200);
                    idle.add(c); // now idle between requests, holding its thread (mt) or worker (mp)
                }
                try (RawClient waiting = new RawClient(s.port())) {
                    waiting.send(GET);
                    if (arch == Architecture.MP) {
                        // Nothing is shed in a worker: the connection waits for the first worker a client frees.
                        assertThat(silentFor(waiting, 1500)).as("answered while every worker was held").isTrue();
                        idle.getFirst().close();
                    }
                    waiting.timeout(30_000);
                    RawClient.Response r = waiting.read();
                    assertThat(r.status()).isEqualTo(200);
                    assertThat(r.header("connection")).as("the waiting client keeps its connection").isNotEqualTo("close");
                }
                if (arch != Architecture.MT) return;
                // The first client was idle longest: it is the one closed, between its requests, with no response cut.
                idle.getFirst().timeout(30_000);
                assertThat(idle.getFirst().closedByServer()).as("the client idle longest was closed").isTrue();
                idle.get(1).timeout(30_000);
                assertThat(idle.get(1).send(GET).read().status()).as("the other idle client still served").isEqualTo(200);
                // Its counter (the status page's flash_idle_sheds_total), read in process: a request for the page
                // could itself find both threads taken and shed the other client.
                assertThat(s.server().dispatcher().stats().getFirst().idleSheds.sum()).isEqualTo(1);
            } finally {
                for (RawClient c : idle) c.close();
            }
        }
    }

    @AllArchs
    void aConnectionInTheMiddleOfARequestIsNeverShed(Architecture arch) throws Exception {
        try (TestServer s = TestServer.start(Fixtures.root(), arch, c -> POOL_OF_TWO.apply(c).withThreads(1));
             RawClient reading = new RawClient(s.port())) {
            reading.timeout(30_000);
            assertThat(reading.send(GET).read().status()).isEqualTo(200); // answered once: it could be shed when idle
            reading.send("GET /hello.txt HTTP/1.1\r\n"); // half a head: the connection is reading a request
            Thread.sleep(500); // longer than a connection must be idle to be shed: only its phase keeps it
            try (RawClient waiting = new RawClient(s.port())) {
                waiting.send(GET);
                if (arch == Architecture.MT) {
                    // The only thread is in a request: nothing to shed, so the new connection waits (a bound on a
                    // wait that must not end, not on a duration).
                    assertThat(silentFor(waiting, 1500)).as("answered while the one thread was in a request").isTrue();
                }
                reading.send("Host: x\r\n\r\n");
                assertThat(reading.read().status()).as("the request being read is answered whole").isEqualTo(200);
                // Under mt the connection is idle now, and the waiting one has it shed.
                waiting.timeout(30_000);
                assertThat(waiting.read().status()).isEqualTo(200);
                if (arch == Architecture.MT) assertThat(reading.closedByServer()).as("shed once idle").isTrue();
                else assertThat(reading.send(GET).read().status()).isEqualTo(200);
            }
        }
    }

    @AllArchs
    void aConnectionStillWaitingForAThreadWhenTheServerStopsIsClosed(Architecture arch) throws Exception {
        TestServer s = TestServer.start(Fixtures.root(), arch, c -> POOL_OF_TWO.apply(c).withThreads(1));
        try (RawClient reading = new RawClient(s.port()); RawClient waiting = new RawClient(s.port())) {
            reading.send("GET /hello.txt HTTP/1.1\r\n"); // never finished: under mt the one thread stays taken
            waiting.send(GET);
            waiting.timeout(30_000);
            if (arch != Architecture.MT) {
                assertThat(waiting.read().status()).isEqualTo(200);
                return;
            }
            assertThat(silentFor(waiting, 1000)).as("answered while the one thread was in a request").isTrue();
            s.close(); // the acceptor holds the waiting connection: closed, as one left in the backlog is
            waiting.timeout(30_000);
            assertThat(waiting.closedByServer()).as("closed when the server stopped, not left open").isTrue();
        } finally {
            s.close();
        }
    }

    /** Nothing arrives (no response, no close) within {@code ms}: a bound on a wait that must not end. */
    private static boolean silentFor(RawClient c, int ms) throws java.io.IOException {
        c.timeout(ms);
        try {
            c.input().read(); // a byte of a response, or the end: either way something came
            return false;
        } catch (java.net.SocketTimeoutException e) {
            return true;
        }
    }
}
