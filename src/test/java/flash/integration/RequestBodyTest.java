package flash.integration;

import flash.config.Architecture;
import flash.http.HttpLimits;
import flash.testing.AllArchs;
import flash.testing.ArchServers;
import flash.testing.Fixtures;
import flash.testing.RawClient;
import flash.testing.TestServer;
import org.junit.jupiter.api.AfterAll;

import static org.assertj.core.api.Assertions.assertThat;

/** Request bodies are read and discarded (never parsed as requests); one past the limit gets 413 and a close. */
class RequestBodyTest {
    /** Looks like a request: if the server parsed the body as one, an extra 200 for /small.bin would appear. */
    private static final String SMUGGLED = "GET /small.bin HTTP/1.1\r\nHost: t\r\n\r\n";

    private static final ArchServers SERVERS = new ArchServers(arch ->
            TestServer.start(Fixtures.root(), arch, c -> c.withLimits(new HttpLimits(8192, 16384, 100, 1000))));

    @AfterAll
    static void stop() { SERVERS.close(); }

    @AllArchs
    void bodiesAreDiscardedAndTheNextPipelinedRequestIsAnswered(Architecture arch) throws Exception {
        String body = SMUGGLED + "x".repeat(500 - SMUGGLED.length());
        String chunked = "Transfer-Encoding: chunked\r\n\r\n"
                + Integer.toHexString(SMUGGLED.length()) + "\r\n" + SMUGGLED + "\r\n"
                + "5;ext=1\r\nhello\r\n0\r\nTrailer-Field: x\r\n\r\n";
        try (RawClient c = new RawClient(SERVERS.get(arch).port())) {
            c.send("GET /hello.txt HTTP/1.1\r\nHost: t\r\nContent-Length: " + body.length() + "\r\n\r\n" + body
                    + "GET /dir/ HTTP/1.1\r\nHost: t\r\n" + chunked
                    + "GET /hello.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
            RawClient.Response first = c.read();
            assertThat(first.status()).isEqualTo(200);
            assertThat(first.bodyText()).isEqualTo(Fixtures.HELLO);
            RawClient.Response second = c.read();
            assertThat(second.status()).isEqualTo(200);
            assertThat(second.bodyText()).isEqualTo(Fixtures.INDEX);
            RawClient.Response third = c.read();
            assertThat(third.status()).isEqualTo(200);
            assertThat(third.bodyText()).isEqualTo(Fixtures.HELLO);
            assertThat(c.closedByServer()).as("no response for the smuggled request").isTrue();
        }
    }

    @AllArchs
    void contentLengthPastTheLimitGets413AndClose(Architecture arch) throws Exception {
        try (RawClient c = new RawClient(SERVERS.get(arch).port())) {
            c.send("GET /hello.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n" + "y".repeat(5000));
            RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(413);
            assertThat(r.header("Connection")).isEqualTo("close");
            assertThat(c.closedByServer()).isTrue();
        }
    }

    /**
     * A chunked body is discarded after its request is answered, so its size is known only then: past the
     * limit the connection just ends. An error response then would be taken as the answer to the next request.
     */
    @AllArchs
    void chunkedBodyPastTheLimitEndsTheConnectionWithoutAStrayResponse(Architecture arch) throws Exception {
        try (RawClient c = new RawClient(SERVERS.get(arch).port())) {
            c.send("GET /hello.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "800\r\n" + "z".repeat(0x800) + "\r\n0\r\n\r\n"
                    + "GET /small.bin HTTP/1.1\r\nHost: t\r\n\r\n");
            RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyText()).isEqualTo(Fixtures.HELLO);
            assertThat(c.closedByServer()).as("closed, with no response for the next request").isTrue();
        }
    }
}
