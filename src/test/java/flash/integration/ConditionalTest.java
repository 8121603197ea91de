package flash.integration;

import flash.config.Architecture;
import flash.testing.AllArchs;
import flash.testing.Fixtures;
import flash.testing.Http;
import flash.testing.RawClient;
import flash.testing.SharedServers;
import flash.testing.TestServer;

import static org.assertj.core.api.Assertions.assertThat;

/** Conditional requests (RFC 9110 13): 304 without a body, 412, and If-None-Match taking precedence. */
class ConditionalTest {
    private static final String PAST = "Sun, 06 Nov 1994 08:49:37 GMT";

    @AllArchs
    void ifNoneMatchGives304WithoutBody(Architecture arch) throws Exception {
        TestServer s = SharedServers.get(arch);
        for (String path : new String[] {"/small.bin", "/large.bin"}) {
            String etag = etag(s, path);
            String strong = etag.startsWith("W/") ? etag.substring(2) : etag;
            for (String inm : new String[] {etag, "W/" + strong, "\"nope\", " + etag + ", \"other\"", "*"}) {
                assertNotModified(s, path, "If-None-Match: " + inm);
            }
            assertThat(status(s, path, "If-None-Match: \"nope\"")).isEqualTo(200);
        }
    }

    @AllArchs
    void ifModifiedSinceGives304WithoutBody(Architecture arch) throws Exception {
        TestServer s = SharedServers.get(arch);
        String lastModified = Http.get(s.uri("/hello.txt")).headers().firstValue("Last-Modified").orElseThrow();
        assertNotModified(s, "/hello.txt", "If-Modified-Since: " + lastModified);
        assertThat(status(s, "/hello.txt", "If-Modified-Since: " + PAST)).isEqualTo(200);
    }

    @AllArchs
    void failedPreconditionsGive412(Architecture arch) throws Exception {
        TestServer s = SharedServers.get(arch);
        String etag = etag(s, "/hello.txt");
        assertThat(status(s, "/hello.txt", "If-Match: \"nope\"")).isEqualTo(412);
        assertThat(status(s, "/hello.txt", "If-Unmodified-Since: " + PAST)).isEqualTo(412);
        if (!etag.startsWith("W/")) assertThat(status(s, "/hello.txt", "If-Match: " + etag)).isEqualTo(200);
        assertThat(status(s, "/hello.txt", "If-Match: *")).isEqualTo(200);
    }

    @AllArchs
    void ifNoneMatchTakesPrecedenceOverIfModifiedSince(Architecture arch) throws Exception {
        TestServer s = SharedServers.get(arch);
        String etag = etag(s, "/hello.txt");
        String lastModified = Http.get(s.uri("/hello.txt")).headers().firstValue("Last-Modified").orElseThrow();
        // The date alone would say 304; a non-matching ETag wins: 200.
        assertThat(status(s, "/hello.txt", "If-None-Match: \"nope\"", "If-Modified-Since: " + lastModified)).isEqualTo(200);
        // The date alone would say 200; a matching ETag wins: 304.
        assertNotModified(s, "/hello.txt", "If-None-Match: " + etag, "If-Modified-Since: " + PAST);
    }

    private static String etag(TestServer s, String path) throws Exception {
        return Http.get(s.uri(path)).headers().firstValue("ETag").orElseThrow();
    }

    private static int status(TestServer s, String path, String... headers) throws Exception {
        try (RawClient c = new RawClient(s.port())) {
            c.send("GET " + path + " HTTP/1.1\r\nHost: t\r\n" + String.join("\r\n", headers) + "\r\n\r\n");
            return c.read().status();
        }
    }

    /** 304, no body bytes at all: the next response on the connection starts right after the head. */
    private static void assertNotModified(TestServer s, String path, String... headers) throws Exception {
        try (RawClient c = new RawClient(s.port())) {
            c.send("GET " + path + " HTTP/1.1\r\nHost: t\r\n" + String.join("\r\n", headers) + "\r\n\r\n"
                    + "GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n");
            RawClient.Response r = c.read(true);
            assertThat(r.status()).as(String.join(", ", headers)).isEqualTo(304);
            assertThat(r.header("ETag")).isNotNull();
            RawClient.Response next = c.read();
            assertThat(next.statusLine()).startsWith("HTTP/1.1 200");
            assertThat(next.bodyText()).isEqualTo(Fixtures.HELLO);
        }
    }
}
