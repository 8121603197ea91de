package flash.integration;

import flash.config.Architecture;
import flash.http.HttpLimits;
import flash.testing.AllArchs;
import flash.testing.Fixtures;
import flash.testing.RawClient;
import flash.testing.TestServer;

import static org.assertj.core.api.Assertions.assertThat;

/** --max-keepalive-requests: the Nth request on a connection is answered with Connection: close, then closed. */
class KeepAliveLimitTest {

    @AllArchs
    void theLastAllowedRequestClosesTheConnection(Architecture arch) throws Exception {
        try (TestServer server = TestServer.start(Fixtures.root(), arch,
                cfg -> cfg.withLimits(HttpLimits.DEFAULTS.withMaxKeepAliveRequests(3)));
             RawClient c = new RawClient(server.port())) {
            for (int i = 1; i <= 3; i++) {
                c.send("GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n");
                RawClient.Response r = c.read();
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.bodyText()).isEqualTo(Fixtures.HELLO);
                assertThat(r.header("Connection")).isEqualTo(i < 3 ? null : "close");
            }
            assertThat(c.closedByServer()).isTrue();
        }
    }
}
