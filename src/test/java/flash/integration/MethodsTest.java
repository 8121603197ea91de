package flash.integration;

import flash.config.Architecture;
import flash.testing.AllArchs;
import flash.testing.Fixtures;
import flash.testing.Http;
import flash.testing.RawClient;
import flash.testing.SharedServers;
import flash.testing.TestServer;

import java.net.http.HttpResponse;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** GET serves exact bytes, HEAD the same head without a body, refused (405), unknown (501) and HTTP/2.0 (505). */
class MethodsTest {

    @AllArchs
    void getServesExactBytes(Architecture arch) throws Exception {
        TestServer s = SharedServers.get(arch);
        HttpResponse<byte[]> small = Http.get(s.uri("/small.bin"));
        HttpResponse<byte[]> large = Http.get(s.uri("/large.bin"));
        assertThat(small.statusCode()).isEqualTo(200);
        assertThat(small.body()).isEqualTo(Fixtures.SMALL);
        assertThat(large.statusCode()).isEqualTo(200);
        assertThat(large.body()).isEqualTo(Fixtures.LARGE);
    }

    @AllArchs
    void headSendsTheSameHeadAndNoBody(Architecture arch) throws Exception {
        try (RawClient c = new RawClient(SharedServers.get(arch).port())) {
            for (String path : new String[] {"/small.bin", "/large.bin", "/hello.txt"}) {
                c.send("GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n");
                RawClient.Response get = c.read();
                c.send("HEAD " + path + " HTTP/1.1\r\nHost: t\r\n\r\n");
                RawClient.Response head = c.read(true);
                assertThat(head.statusLine()).isEqualTo(get.statusLine());
                assertThat(withoutDate(head.headers())).isEqualTo(withoutDate(get.headers()));
            }
            // Had HEAD sent a body, this response would be read from the middle of it.
            c.send("GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n");
            RawClient.Response after = c.read();
            assertThat(after.status()).isEqualTo(200);
            assertThat(after.bodyText()).isEqualTo(Fixtures.HELLO);
        }
    }

    @AllArchs
    void refusedMethodsGet405WithAllow(Architecture arch) throws Exception {
        try (RawClient c = new RawClient(SharedServers.get(arch).port())) {
            for (String m : new String[] {"POST", "PUT", "DELETE", "OPTIONS"}) {
                c.send(m + " /hello.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
                RawClient.Response r = c.read();
                assertThat(r.status()).as(m).isEqualTo(405);
                assertThat(r.header("Allow")).as(m).isEqualTo("GET, HEAD");
            }
        }
    }

    @AllArchs
    void unknownMethodGets501(Architecture arch) throws Exception {
        try (RawClient c = new RawClient(SharedServers.get(arch).port())) {
            c.send("BREW /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(501);
        }
    }

    @AllArchs
    void http2RequestLineGets505(Architecture arch) throws Exception {
        try (RawClient c = new RawClient(SharedServers.get(arch).port())) {
            c.send("GET /hello.txt HTTP/2.0\r\nHost: t\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(505);
        }
    }

    private static Map<String, String> withoutDate(Map<String, String> h) {
        Map<String, String> m = new HashMap<>(h);
        m.remove("date"); // may tick over between the two responses
        return m;
    }
}
