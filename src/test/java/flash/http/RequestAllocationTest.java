package flash.http;

import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue #11 (tail latency and footprint): the young generation fills, and is collected, at the rate the loop
 * allocates, so parsing a request and normalising its path allocate only what the request needs. Counted, not timed:
 * this thread's allocated heap bytes per parse (docs/performance.md section 26). Before the shortcut for clean paths,
 * the single-array header list and the shared method and field names, a load generator's request cost 911 bytes here
 * and a browser's 2,236; after them, 348 and 1,184; with the values a thread parsed lately shared (section 50), see
 * the tests' figures.
 */
class RequestAllocationTest {
    static final int ROUNDS = 20_000;

    private static long allocated() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    /** Heap bytes this thread allocates per parse and normalisation of {@code head}, after a warm-up. */
    private static long bytesPerRequest(String head) { return bytesPerRequest(head, null); }

    /**
     * As {@link #bytesPerRequest(String)}; each parse first writes its own number over the first occurrence of
     * {@code counter} in the head (a value no two requests share), when given.
     */
    private static long bytesPerRequest(String head, String counter) {
        byte[] bytes = head.getBytes(StandardCharsets.ISO_8859_1);
        int at = counter == null ? -1 : head.indexOf(counter);
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        RequestParser parser = new RequestParser(HttpLimits.DEFAULTS);
        long sink = 0;
        for (int round = 0; round < 2; round++) {
            long before = allocated();
            for (int i = 0; i < ROUNDS; i++) {
                if (at >= 0) {
                    int n = round * ROUNDS + i;
                    for (int d = at + counter.length() - 1; d >= at; d--, n /= 10) bytes[d] = (byte) ('0' + n % 10);
                }
                buf.position(0);
                Request r = (Request) parser.parse(buf);
                var t = (RequestTarget.Normalized) RequestTarget.normalize(r.rawPath());
                sink += t.path().length() + r.headers().size();
            }
            long per = (allocated() - before) / ROUNDS;
            if (round == 1) {
                assertThat(sink).isPositive();
                return per;
            }
        }
        throw new AssertionError();
    }

    @Test
    void aLoadGeneratorsRequestAllocatesItsTargetAndLittleElse() {
        long per = bytesPerRequest("GET /images/logo.png HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n");
        // Request, Headers and its array, the target String, the normalised path; the Host value is this thread's
        // recent one (RecentFieldValues): 320 bytes here, 376 before it was.
        assertThat(per).as("bytes per request").isLessThanOrEqualTo(345);
    }

    @Test
    void aBrowsersRequestDoesNotAllocateItsFieldNamesNorValuesItSentBefore() {
        long per = bytesPerRequest("""
                GET /static/css/site.css HTTP/1.1\r
                Host: www.example.com\r
                User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36\r
                Accept: text/css,*/*;q=0.1\r
                Accept-Language: en-US,en;q=0.9\r
                Accept-Encoding: gzip, deflate, br\r
                Referer: https://www.example.com/\r
                Connection: keep-alive\r
                Sec-Fetch-Dest: style\r
                Sec-Fetch-Mode: no-cors\r
                Sec-Fetch-Site: same-origin\r
                If-None-Match: "5f2a-1c3b"\r
                \r
                """);
        // The grown field array, Request, target, path; the eleven field values (about 900 bytes with the User-Agent)
        // are this thread's recent ones (RecentFieldValues): 576 bytes here, 1,208 before they were.
        assertThat(per).as("bytes per request").isLessThanOrEqualTo(650);
    }

    @Test
    void aValueNoRequestSharesCostsItsStringAndNoCopy() {
        // A request id: new every time, so never found again, and it must cost no more than without the cache: 440
        // bytes here, 469 without it (Host's value new too). That it is not copied on the way is RecentFieldValuesTest's.
        long per = bytesPerRequest("GET /a HTTP/1.1\r\nHost: h\r\nX-Request-Id: 00000000000000000000000000000000\r\n\r\n",
                "00000000000000000000000000000000");
        assertThat(per).as("bytes per request").isLessThanOrEqualTo(460);
    }

    /** Shared names are only for exact spellings: a field keeps the case it came in, and every field stays in order. */
    @Test
    void fieldNamesKeepTheirCaseAndOrder() {
        StringBuilder head = new StringBuilder("GET / HTTP/1.1\r\nhost: a\r\nHOST-X: b\r\nAccept: c\r\nACCEPT-ENCODING: d\r\n");
        for (int i = 0; i < 20; i++) head.append("X-").append(i).append(": ").append(i).append("\r\n");
        Request r = (Request) new RequestParser(HttpLimits.DEFAULTS)
                .parse(ByteBuffer.wrap((head + "\r\n").getBytes(StandardCharsets.ISO_8859_1)));
        Headers h = r.headers();
        assertThat(h.size()).isEqualTo(24);
        assertThat(h.name(0)).isEqualTo("host");
        assertThat(h.name(1)).isEqualTo("HOST-X");
        assertThat(h.name(2)).isSameAs("Accept");
        assertThat(h.name(3)).isEqualTo("ACCEPT-ENCODING");
        assertThat(h.get("accept-encoding")).isEqualTo("d");
        assertThat(h.name(23)).isEqualTo("X-19");
        assertThat(h.value(23)).isEqualTo("19");
        assertThat(r.methodToken()).isSameAs("GET");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> h.name(24)).isInstanceOf(IndexOutOfBoundsException.class);
    }
}
