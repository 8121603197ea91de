package flash.integration;

import flash.config.Architecture;
import flash.testing.AllArchs;
import flash.testing.Fixtures;
import flash.testing.RawClient;
import flash.testing.SharedServers;

import static org.assertj.core.api.Assertions.assertThat;

/** Persistent connections: HTTP/1.1 keep-alive by default, Connection: close, HTTP/1.0, pipelining, split requests. */
class KeepAliveTest {

    @AllArchs
    void manyRequestsShareOneHttp11Connection(Architecture arch) throws Exception {
        try (RawClient c = new RawClient(SharedServers.get(arch).port())) {
            for (int i = 0; i < 50; i++) {
                String path = i % 2 == 0 ? "/hello.txt" : "/small.bin";
                c.send("GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n");
                RawClient.Response r = c.read();
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.header("Connection")).isNull();
                assertThat(r.body()).isEqualTo(i % 2 == 0 ? Fixtures.ascii(Fixtures.HELLO) : Fixtures.SMALL);
            }
        }
    }

    @AllArchs
    void connectionCloseIsHonoured(Architecture arch) throws Exception {
        try (RawClient c = new RawClient(SharedServers.get(arch).port())) {
            c.send("GET /hello.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
            RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("Connection")).isEqualTo("close");
            assertThat(r.bodyText()).isEqualTo(Fixtures.HELLO);
            assertThat(c.closedByServer()).isTrue();
        }
    }

    @AllArchs
    void http10ClosesByDefault(Architecture arch) throws Exception {
        try (RawClient c = new RawClient(SharedServers.get(arch).port())) {
            c.send("GET /hello.txt HTTP/1.0\r\n\r\n");
            RawClient.Response r = c.read();
            assertThat(r.statusLine()).startsWith("HTTP/1.");
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyText()).isEqualTo(Fixtures.HELLO);
            assertThat(c.closedByServer()).isTrue();
        }
    }

    @AllArchs
    void http10KeepAliveIsEchoedAndKept(Architecture arch) throws Exception {
        try (RawClient c = new RawClient(SharedServers.get(arch).port())) {
            for (int i = 0; i < 3; i++) {
                c.send("GET /hello.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
                RawClient.Response r = c.read();
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.header("Connection")).isEqualToIgnoringCase("keep-alive");
                assertThat(r.bodyText()).isEqualTo(Fixtures.HELLO);
            }
        }
    }

    @AllArchs
    void pipelinedRequestsInOneWriteAreAnsweredInOrder(Architecture arch) throws Exception {
        try (RawClient c = new RawClient(SharedServers.get(arch).port())) {
            c.send("GET /large.bin HTTP/1.1\r\nHost: t\r\n\r\n"
                    + "GET /missing HTTP/1.1\r\nHost: t\r\n\r\n"
                    + "HEAD /small.bin HTTP/1.1\r\nHost: t\r\n\r\n"
                    + "GET /small.bin HTTP/1.1\r\nHost: t\r\n\r\n"
                    + "GET /hello.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
            RawClient.Response large = c.read();
            assertThat(large.status()).isEqualTo(200);
            assertThat(large.body()).isEqualTo(Fixtures.LARGE);
            assertThat(c.read().status()).isEqualTo(404);
            RawClient.Response head = c.read(true);
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.header("Content-Length")).isEqualTo(Integer.toString(Fixtures.SMALL.length));
            assertThat(c.read().body()).isEqualTo(Fixtures.SMALL);
            assertThat(c.read().bodyText()).isEqualTo(Fixtures.HELLO);
            assertThat(c.closedByServer()).isTrue();
        }
    }

    @AllArchs
    void requestSplitAcrossManySmallWritesWorks(Architecture arch) throws Exception {
        byte[] req = Fixtures.ascii("GET /hello.txt HTTP/1.1\r\nHost: t\r\nUser-Agent: split-test\r\nAccept: */*\r\n\r\n");
        try (RawClient c = new RawClient(SharedServers.get(arch).port())) {
            for (int i = 0; i < req.length; i += 3) {
                c.send(java.util.Arrays.copyOfRange(req, i, Math.min(req.length, i + 3)));
                Thread.sleep(2); // a pause, so each piece arrives as its own segment
            }
            RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyText()).isEqualTo(Fixtures.HELLO);
        }
    }
}
