package flash.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClfTraceTest {
    /** The first lines of NASA_access_log_Jul95, plus the odd ones that appear later in it. */
    static final String LOG = """
            199.72.81.55 - - [01/Jul/1995:00:00:01 -0400] "GET /history/apollo/ HTTP/1.0" 200 6245
            unicomp6.unicomp.net - - [01/Jul/1995:00:00:06 -0400] "GET /shuttle/countdown/ HTTP/1.0" 200 3985
            burger.letters.com - - [01/Jul/1995:00:00:11 -0400] "GET /shuttle/countdown/liftoff.html HTTP/1.0" 304 0
            199.120.110.21 - - [01/Jul/1995:00:00:11 -0400] "GET /shuttle/missions/sts-73/sts-73-patch-small.gif HTTP/1.0" 200 4179
            d104.aa.net - - [01/Jul/1995:00:00:13 -0400] "GET /shuttle/countdown/count.gif HTTP/1.0" 200 40310
            host1 - - [01/Jul/1995:00:00:14 -0400] "HEAD /shuttle/countdown/ HTTP/1.0" 200 0
            host2 - - [01/Jul/1995:00:00:15 -0400] "GET /images/NASA-logosmall.gif" 200 786
            host3 - - [01/Jul/1995:00:00:16 -0400] "GET /cgi-bin/imagemap/countdown?99,176 HTTP/1.0" 302 110
            host4 - - [01/Jul/1995:00:00:17 -0400] "GET /shuttle/countdown/video/livevideo.gif HTTP/1.0" 200 -
            garbage line
            """;

    @Test
    void keepsOnlySuccessfulGetsWithSizes() {
        assertThat(ClfTrace.parseLine(LOG.lines().findFirst().orElseThrow()))
                .isEqualTo(new ClfTrace.Request("/history/apollo/", 6245));
        List<ClfTrace.Request> kept = LOG.lines().map(ClfTrace::parseLine).filter(r -> r != null).toList();
        assertThat(kept).extracting(ClfTrace.Request::url).containsExactly("/history/apollo/", "/shuttle/countdown/",
                "/shuttle/missions/sts-73/sts-73-patch-small.gif", "/shuttle/countdown/count.gif",
                "/images/NASA-logosmall.gif");
    }

    @Test
    void readsGzipWithLimit(@TempDir Path dir) throws IOException {
        Path gz = dir.resolve("log.gz");
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(gz))) {
            out.write(LOG.getBytes(StandardCharsets.ISO_8859_1));
        }
        assertThat(ClfTrace.read(gz, 100)).hasSize(5);
        assertThat(ClfTrace.read(gz, 2)).hasSize(2);
    }

    @Test
    void sanitizesUrlsIntoSafePaths() {
        assertThat(TraceDocRoot.sanitize("/history/apollo/")).isEqualTo("/history/apollo/index.html");
        assertThat(TraceDocRoot.sanitize("/")).isEqualTo("/index.html");
        assertThat(TraceDocRoot.sanitize("/a/../../etc/passwd")).isEqualTo("/a/etc/passwd");
        assertThat(TraceDocRoot.sanitize("/x y%20z.gif?foo=1")).isEqualTo("/x_y_20z.gif");
        assertThat(TraceDocRoot.sanitize("http://www.nasa.gov/a.html")).isEqualTo("/a.html");
        assertThat(TraceDocRoot.sanitize("/.hidden")).isEqualTo("/_hidden");
    }

    @Test
    void buildsDocRootAndReplaySequence(@TempDir Path root) throws IOException {
        List<ClfTrace.Request> trace = List.of(
                new ClfTrace.Request("/a", 100),
                new ClfTrace.Request("/a/b.gif", 200),
                new ClfTrace.Request("/big.bin", 5000),
                new ClfTrace.Request("/a", 150),
                new ClfTrace.Request("/c/", 10));
        TraceDocRoot.Built b = TraceDocRoot.build(trace, root, 1000);
        // "/a" is both a file and a directory: the file moves to /a/index.html; the largest logged size wins
        assertThat(b.paths()).containsExactly("/a/index.html", "/a/b.gif", "/a/index.html", "/c/index.html");
        assertThat(Files.size(root.resolve("a/index.html"))).isEqualTo(150);
        assertThat(Files.size(root.resolve("a/b.gif"))).isEqualTo(200);
        assertThat(b.skippedLarge()).isEqualTo(1);
        assertThat(b.files()).isEqualTo(3);
        assertThat(b.bytes()).isEqualTo(360);
    }
}
