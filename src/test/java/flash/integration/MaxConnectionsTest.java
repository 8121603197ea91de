package flash.integration;

import flash.config.Architecture;
import flash.testing.AllArchs;
import flash.testing.Fixtures;
import flash.testing.Http;
import flash.testing.RawClient;
import flash.testing.TestServer;
import org.junit.jupiter.api.Assumptions;

import static org.assertj.core.api.Assertions.assertThat;

/** Past --max-connections a new connection gets 503 and is closed; open ones carry on; service resumes. */
class MaxConnectionsTest {

    @AllArchs
    void connectionPastTheLimitGets503(Architecture arch) throws Exception {
        Assumptions.assumeTrue(arch != Architecture.MP,
                "mp: the limit is per worker process, and the kernel hashes connections to workers");
        try (TestServer s = TestServer.start(Fixtures.root(), arch, c -> c.withMaxConnections(2))) {
            RawClient a = new RawClient(s.port());
            try (RawClient b = new RawClient(s.port())) {
                assertThat(get(a)).isEqualTo(200);
                assertThat(get(b)).isEqualTo(200);
                try (RawClient refused = new RawClient(s.port())) {
                    RawClient.Response r = refused.read();
                    assertThat(r.status()).isEqualTo(503);
                    assertThat(refused.closedByServer()).isTrue();
                }
                assertThat(get(a)).isEqualTo(200);
                assertThat(get(b)).isEqualTo(200);
                a.close();
                assertThat(Http.await(() -> s.server().openConnections() <= 1, 10_000)).isTrue();
                try (RawClient c = new RawClient(s.port())) {
                    assertThat(get(c)).isEqualTo(200);
                }
            } finally {
                a.close();
            }
        }
    }

    private static int get(RawClient c) throws Exception {
        c.send("GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n");
        return c.read().status();
    }
}
