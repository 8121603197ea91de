package flash.integration;

import flash.config.Architecture;
import flash.testing.AllArchs;
import flash.testing.Fixtures;
import flash.testing.Http;
import flash.testing.SharedServers;
import flash.testing.TestServer;

import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import java.util.Locale;

import static org.assertj.core.api.Assertions.assertThat;

/** Every file response carries Date (IMF-fixdate), Server, Content-Length, Content-Type, Last-Modified, ETag. */
class ResponseHeadersTest {
    private static final String IMF_FIXDATE = "(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \\d{2} "
            + "(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \\d{4} \\d{2}:\\d{2}:\\d{2} GMT";
    private static final DateTimeFormatter HTTP_DATE =
            DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US).withZone(ZoneOffset.UTC);

    private static final Map<String, String> TYPES = Map.of(
            "/hello.txt", "text/plain; charset=utf-8",
            "/page.html", "text/html; charset=utf-8",
            "/style.css", "text/css; charset=utf-8",
            "/app.js", "text/javascript; charset=utf-8",
            "/data.json", "application/json; charset=utf-8",
            "/image.png", "image/png",
            "/small.bin", "application/octet-stream",
            "/large.bin", "application/octet-stream");

    @AllArchs
    void everyFileResponseHasTheStandardHeaders(Architecture arch) throws Exception {
        TestServer s = SharedServers.get(arch);
        try (HttpClient c = Http.client()) {
            for (var e : TYPES.entrySet()) {
                HttpResponse<byte[]> r = Http.get(c, s.uri(e.getKey()));
                var h = r.headers();
                String what = e.getKey();
                assertThat(r.statusCode()).as(what).isEqualTo(200);
                assertThat(h.firstValue("Date")).as(what).hasValueSatisfying(d -> {
                    assertThat(d).matches(IMF_FIXDATE);
                    ZonedDateTime date = ZonedDateTime.parse(d, HTTP_DATE);
                    assertThat(date.toInstant()).isBetween(java.time.Instant.now().minusSeconds(60), java.time.Instant.now().plusSeconds(60));
                });
                assertThat(h.firstValue("Server")).as(what).hasValueSatisfying(v -> assertThat(v).isNotBlank());
                long size = Files.size(Fixtures.root().resolve(e.getKey().substring(1)));
                assertThat(h.firstValueAsLong("Content-Length")).as(what).hasValue(size);
                assertThat(r.body()).as(what).hasSize((int) size);
                assertThat(h.firstValue("Content-Type")).as(what).hasValue(e.getValue());
                assertThat(h.firstValue("Last-Modified")).as(what).hasValue(HTTP_DATE.format(Fixtures.MTIME));
                assertThat(h.firstValue("ETag")).as(what).hasValueSatisfying(t -> assertThat(t).matches("(W/)?\"[^\"]+\""));
            }
        }
    }

    @AllArchs
    void errorResponsesHaveDateServerLengthAndType(Architecture arch) throws Exception {
        HttpResponse<byte[]> r = Http.get(SharedServers.get(arch).uri("/no-such-file"));
        assertThat(r.statusCode()).isEqualTo(404);
        assertThat(r.headers().firstValue("Date")).hasValueSatisfying(d -> assertThat(d).matches(IMF_FIXDATE));
        assertThat(r.headers().firstValue("Server")).isPresent();
        assertThat(r.headers().firstValueAsLong("Content-Length")).hasValue(r.body().length);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
    }
}
