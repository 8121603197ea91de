package flash.compress;

import com.github.luben.zstd.Zstd;
import flash.config.Architecture;
import flash.config.CompressionConfig;
import flash.testing.AllArchs;
import flash.testing.Http;
import flash.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * --precompressed and --compress against real servers under every architecture: which representation Accept-Encoding
 * gets, its headers (Vary, ETag per coding, the original's type), conditionals and ranges over it, round trips through
 * real decoders, what is never compressed, and the cache that makes a hot page a one-time compression.
 */
class CompressionTest {
    private static Path root;
    private static final Map<Architecture, TestServer> SERVERS = new EnumMap<>(Architecture.class);

    static byte[] page, script, gzScript, zstScript, brScript, style, gzStyle, tiny, photo, big, gzBig, index, gzIndex;

    /** Readable text from a few hundred words, shuffled: compresses like a real page, not like repeated bytes. */
    static byte[] text(int size, long seed) {
        String[] words = ("the server answers each request from its event loop while helpers read files from disk and "
                + "report back cache entries are shared across loops and never block compression runs once per page "
                + "browsers send accept encoding with quality values gzip zstd brotli identity vary etag range").split(" ");
        Random r = new Random(seed);
        StringBuilder sb = new StringBuilder("<!doctype html><html><body>\n");
        while (sb.length() < size - 20) {
            sb.append("<p>");
            for (int i = 0; i < 12 + r.nextInt(20); i++) sb.append(words[r.nextInt(words.length)]).append(r.nextInt(7) == 0 ? ", " : " ");
            sb.append(r.nextInt(1000)).append(".</p>\n");
        }
        sb.setLength(size - 15);
        return sb.append("</body></html>\n").toString().getBytes(StandardCharsets.UTF_8);
    }

    static byte[] gzip(byte[] in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(out)) {
            g.write(in);
        }
        return out.toByteArray();
    }

    static byte[] gunzip(byte[] in) throws IOException {
        try (GZIPInputStream g = new GZIPInputStream(new ByteArrayInputStream(in))) {
            return g.readAllBytes();
        }
    }

    static byte[] unzstd(byte[] in) {
        return Zstd.decompress(in, (int) Zstd.getFrameContentSize(in));
    }

    @BeforeAll
    static void site() throws IOException {
        root = Files.createTempDirectory("flash-compress-");
        Random r = new Random(7);
        page = text(20_000, 1);
        script = text(12_000, 2);
        gzScript = gzip(script);
        zstScript = Zstd.compress(script, 3);
        brScript = "not really brotli, but only the selection is tested with it".getBytes(StandardCharsets.US_ASCII);
        style = text(6_000, 3);
        gzStyle = gzip(style);
        tiny = "small enough to send as it is\n".getBytes(StandardCharsets.US_ASCII);
        photo = new byte[20_000];
        r.nextBytes(photo);
        big = text(300_000, 4);          // past the small-file limit: read from the open file to compress
        gzBig = new byte[200_000];        // a sidecar sent with sendfile: random bytes, only ranges are checked
        r.nextBytes(gzBig);
        index = text(4_000, 5);
        gzIndex = gzip(index);
        Files.write(root.resolve("page.html"), page);
        Files.write(root.resolve("hot.html"), page);
        Files.write(root.resolve("head.html"), page);
        Files.write(root.resolve("app.js"), script);
        Files.write(root.resolve("app.js.gz"), gzScript);
        Files.write(root.resolve("app.js.zst"), zstScript);
        Files.write(root.resolve("app.js.br"), brScript);
        Files.write(root.resolve("style.css"), style);
        Files.write(root.resolve("style.css.gz"), gzStyle);
        Files.write(root.resolve("tiny.txt"), tiny);
        Files.write(root.resolve("photo.png"), photo);
        Files.write(root.resolve("big.txt"), big);
        Files.write(root.resolve("big.txt.gz"), gzBig);
        Files.createDirectories(root.resolve("docs"));
        Files.write(root.resolve("docs/index.html"), index);
        Files.write(root.resolve("docs/index.html.gz"), gzIndex);
    }

    static synchronized TestServer server(Architecture arch) {
        return SERVERS.computeIfAbsent(arch, a -> TestServer.start(root, a, c -> c.withStatusPath("/status")
                .withCompression(CompressionConfig.DEFAULTS.withPrecompressed(true).withCompress(true))));
    }

    @AfterAll
    static void stop() throws IOException {
        SERVERS.values().forEach(TestServer::close);
        SERVERS.clear();
        try (var files = Files.walk(root)) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    private static HttpResponse<byte[]> get(HttpClient c, TestServer s, String path, String... headers) throws Exception {
        return Http.get(c, s.uri(path), headers);
    }

    private static HttpResponse<byte[]> head(HttpClient c, TestServer s, String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(s.uri(path)).timeout(Duration.ofSeconds(30))
                .method("HEAD", HttpRequest.BodyPublishers.noBody());
        if (headers.length > 0) b.headers(headers);
        return c.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static String h(HttpResponse<?> r, String name) { return r.headers().firstValue(name).orElse(null); }

    // ------------------------------------------------------------------ precompressed sidecars

    @AllArchs
    void sidecarChosenByQValues(Architecture arch) throws Exception {
        TestServer s = server(arch);
        try (HttpClient c = Http.client()) {
            assertSidecar(get(c, s, "/app.js", "Accept-Encoding", "gzip"), "gzip", gzScript);
            assertSidecar(get(c, s, "/app.js", "Accept-Encoding", "gzip, deflate, br, zstd"), "br", brScript);
            assertSidecar(get(c, s, "/app.js", "Accept-Encoding", "br;q=0, gzip, zstd"), "zstd", zstScript);
            assertSidecar(get(c, s, "/app.js", "Accept-Encoding", "br;q=0.2, gzip;q=0.9, zstd;q=0.5"), "gzip", gzScript);
            assertSidecar(get(c, s, "/app.js", "Accept-Encoding", "*;q=0.1, br;q=0"), "zstd", zstScript);
            // identity: absent, refused codings, or preferred by q
            for (String ae : new String[] {null, "", "br;q=0, zstd;q=0, gzip;q=0", "gzip;q=0.5, identity", "deflate"}) {
                HttpResponse<byte[]> r = ae == null ? get(c, s, "/app.js") : get(c, s, "/app.js", "Accept-Encoding", ae);
                assertThat(r.statusCode()).as(ae).isEqualTo(200);
                assertThat(h(r, "Content-Encoding")).as(ae).isNull();
                assertThat(h(r, "Vary")).as(ae).isEqualTo("Accept-Encoding");
                assertThat(r.body()).as(ae).isEqualTo(script);
            }
            // zstd decodes to the original (the sidecar was made by zstd-jni; the decoder is real)
            assertThat(unzstd(get(c, s, "/app.js", "Accept-Encoding", "zstd").body())).isEqualTo(script);
            assertThat(gunzip(get(c, s, "/style.css", "Accept-Encoding", "br, gzip").body())).isEqualTo(style);
        }
    }

    private static void assertSidecar(HttpResponse<byte[]> r, String coding, byte[] bytes) {
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(h(r, "Content-Encoding")).isEqualTo(coding);
        assertThat(h(r, "Content-Type")).isEqualTo("text/javascript; charset=utf-8"); // the original's, not gzip's
        assertThat(h(r, "Vary")).isEqualTo("Accept-Encoding");
        assertThat(h(r, "Content-Length")).isEqualTo(Integer.toString(bytes.length));
        assertThat(r.body()).isEqualTo(bytes);
    }

    @AllArchs
    void severalAcceptEncodingLinesAreOneList(Architecture arch) throws Exception {
        TestServer s = server(arch);
        try (flash.testing.RawClient c = new flash.testing.RawClient(s.port())) {
            c.send("GET /app.js HTTP/1.1\r\nHost: x\r\nAccept-Encoding: br;q=0\r\nAccept-Encoding: gzip;q=0.5, zstd\r\n"
                    + "Connection: close\r\n\r\n");
            flash.testing.RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("Content-Encoding")).isEqualTo("zstd");
            assertThat(r.body()).isEqualTo(zstScript);
        }
    }

    @AllArchs
    void varyOnlyForFilesThatHaveAnotherRepresentation(Architecture arch) throws Exception {
        TestServer s = server(arch);
        try (HttpClient c = Http.client()) {
            // no sidecar and not compressible: the response does not depend on Accept-Encoding (nginx's gzip_static)
            HttpResponse<byte[]> png = get(c, s, "/photo.png", "Accept-Encoding", "gzip, br, zstd");
            assertThat(h(png, "Vary")).isNull();
            assertThat(h(png, "Content-Encoding")).isNull();
            assertThat(png.body()).isEqualTo(photo);
            // a sidecar exists: Vary even for a client that gets the file itself
            HttpResponse<byte[]> css = get(c, s, "/style.css");
            assertThat(h(css, "Vary")).isEqualTo("Accept-Encoding");
            assertThat(css.body()).isEqualTo(style);
            // a sidecar requested by its own name is a plain file of its own type
            HttpResponse<byte[]> gz = get(c, s, "/style.css.gz", "Accept-Encoding", "gzip");
            assertThat(h(gz, "Content-Encoding")).isNull();
            assertThat(h(gz, "Content-Type")).isEqualTo("application/gzip");
            assertThat(gz.body()).isEqualTo(gzStyle);
        }
    }

    @AllArchs
    void sidecarEtagIsPerEncodingAndConditionalsUseIt(Architecture arch) throws Exception {
        TestServer s = server(arch);
        try (HttpClient c = Http.client()) {
            String plain = h(get(c, s, "/app.js"), "ETag");
            String gz = h(get(c, s, "/app.js", "Accept-Encoding", "gzip"), "ETag");
            String zst = h(get(c, s, "/app.js", "Accept-Encoding", "zstd"), "ETag");
            assertThat(plain).isNotNull();
            assertThat(gz).isNotNull().isNotEqualTo(plain).isNotEqualTo(zst);
            HttpResponse<byte[]> notModified = get(c, s, "/app.js", "Accept-Encoding", "gzip", "If-None-Match", gz);
            assertThat(notModified.statusCode()).isEqualTo(304);
            assertThat(h(notModified, "ETag")).isEqualTo(gz);
            assertThat(h(notModified, "Vary")).isEqualTo("Accept-Encoding");
            assertThat(notModified.body()).isEmpty();
            // the gzip validator does not match the other representations
            assertThat(get(c, s, "/app.js", "If-None-Match", gz).statusCode()).isEqualTo(200);
            assertThat(get(c, s, "/app.js", "Accept-Encoding", "zstd", "If-None-Match", gz).statusCode()).isEqualTo(200);
            assertThat(get(c, s, "/app.js", "If-None-Match", plain).statusCode()).isEqualTo(304);
        }
    }

    @AllArchs
    void rangesApplyToTheSidecar(Architecture arch) throws Exception {
        TestServer s = server(arch);
        try (HttpClient c = Http.client()) {
            HttpResponse<byte[]> r = get(c, s, "/app.js", "Accept-Encoding", "gzip", "Range", "bytes=10-99");
            assertThat(r.statusCode()).isEqualTo(206);
            assertThat(h(r, "Content-Encoding")).isEqualTo("gzip");
            assertThat(h(r, "Content-Range")).isEqualTo("bytes 10-99/" + gzScript.length);
            assertThat(r.body()).isEqualTo(Arrays.copyOfRange(gzScript, 10, 100));
            // a large sidecar goes out with sendfile: the range is of its bytes too
            HttpResponse<byte[]> big = get(c, s, "/big.txt", "Accept-Encoding", "gzip", "Range", "bytes=100000-100999");
            assertThat(big.statusCode()).isEqualTo(206);
            assertThat(h(big, "Content-Encoding")).isEqualTo("gzip");
            assertThat(h(big, "Content-Type")).isEqualTo("text/plain; charset=utf-8");
            assertThat(big.body()).isEqualTo(Arrays.copyOfRange(gzBig, 100_000, 101_000));
            // If-Range with the sidecar's validator keeps the range; the plain file's gives the whole sidecar
            String gzTag = h(get(c, s, "/app.js", "Accept-Encoding", "gzip"), "ETag");
            String plainTag = h(get(c, s, "/app.js"), "ETag");
            assertThat(get(c, s, "/app.js", "Accept-Encoding", "gzip", "Range", "bytes=0-9", "If-Range", gzTag).statusCode())
                    .isEqualTo(206);
            HttpResponse<byte[]> whole = get(c, s, "/app.js", "Accept-Encoding", "gzip", "Range", "bytes=0-9", "If-Range", plainTag);
            assertThat(whole.statusCode()).isEqualTo(200);
            assertThat(whole.body()).isEqualTo(gzScript);
        }
    }

    @AllArchs
    void directoryIndexHasSidecarsToo(Architecture arch) throws Exception {
        TestServer s = server(arch);
        try (HttpClient c = Http.client()) {
            HttpResponse<byte[]> r = get(c, s, "/docs/", "Accept-Encoding", "gzip");
            assertThat(h(r, "Content-Encoding")).isEqualTo("gzip");
            assertThat(h(r, "Content-Type")).isEqualTo("text/html; charset=utf-8");
            assertThat(gunzip(r.body())).isEqualTo(index);
        }
    }

    // ------------------------------------------------------------------ on the fly

    @AllArchs
    void gzipAndZstdRoundTrip(Architecture arch) throws Exception {
        TestServer s = server(arch);
        try (HttpClient c = Http.client()) {
            for (String path : new String[] {"/page.html", "/big.txt"}) {
                byte[] original = path.equals("/page.html") ? page : null;
                HttpResponse<byte[]> g = get(c, s, path, "Accept-Encoding", "gzip");
                assertThat(g.statusCode()).isEqualTo(200);
                assertThat(h(g, "Content-Encoding")).isEqualTo("gzip");
                assertThat(h(g, "Vary")).isEqualTo("Accept-Encoding");
                assertThat(h(g, "Content-Length")).isEqualTo(Integer.toString(g.body().length));
                HttpResponse<byte[]> z = get(c, s, path, "Accept-Encoding", "zstd;q=0.9, gzip;q=0.5");
                assertThat(h(z, "Content-Encoding")).isEqualTo("zstd");
                if (original != null) {
                    assertThat(h(g, "Content-Type")).isEqualTo("text/html; charset=utf-8");
                    assertThat(h(g, "Accept-Ranges")).isNull(); // a range request gets the file, not this body
                    assertThat(g.body().length).isLessThan(original.length / 2);
                    assertThat(gunzip(g.body())).isEqualTo(original);
                    assertThat(unzstd(z.body())).isEqualTo(original);
                } else {
                    // big.txt has a .gz sidecar: gzip comes from it; zstd is compressed from the open file
                    assertThat(g.body()).isEqualTo(gzBig);
                    assertThat(h(g, "Accept-Ranges")).isEqualTo("bytes");
                    assertThat(unzstd(z.body())).isEqualTo(big);
                }
            }
        }
    }

    @AllArchs
    void perCodingWeakEtagAndIfNoneMatch(Architecture arch) throws Exception {
        TestServer s = server(arch);
        try (HttpClient c = Http.client()) {
            String plain = h(get(c, s, "/page.html"), "ETag");
            HttpResponse<byte[]> g = get(c, s, "/page.html", "Accept-Encoding", "gzip");
            String gz = h(g, "ETag");
            assertThat(gz).startsWith("W/").endsWith("-gzip\"").isNotEqualTo(plain);
            assertThat(h(get(c, s, "/page.html", "Accept-Encoding", "zstd"), "ETag")).endsWith("-zstd\"");
            HttpResponse<byte[]> nm = get(c, s, "/page.html", "Accept-Encoding", "gzip", "If-None-Match", gz);
            assertThat(nm.statusCode()).isEqualTo(304);
            assertThat(h(nm, "Vary")).isEqualTo("Accept-Encoding");
            assertThat(h(nm, "ETag")).isEqualTo(gz);
            assertThat(get(c, s, "/page.html", "If-None-Match", gz).statusCode()).isEqualTo(200);
        }
    }

    @AllArchs
    void neverForSmallFilesImagesOrRanges(Architecture arch) throws Exception {
        TestServer s = server(arch);
        try (HttpClient c = Http.client()) {
            HttpResponse<byte[]> t = get(c, s, "/tiny.txt", "Accept-Encoding", "gzip, zstd");
            assertThat(h(t, "Content-Encoding")).isNull();
            assertThat(h(t, "Vary")).isNull();
            assertThat(t.body()).isEqualTo(tiny);
            HttpResponse<byte[]> p = get(c, s, "/photo.png", "Accept-Encoding", "gzip, zstd");
            assertThat(h(p, "Content-Encoding")).isNull();
            assertThat(p.body()).isEqualTo(photo);
            HttpResponse<byte[]> r = get(c, s, "/page.html", "Accept-Encoding", "gzip, zstd", "Range", "bytes=100-199");
            assertThat(r.statusCode()).isEqualTo(206);
            assertThat(h(r, "Content-Encoding")).isNull();
            assertThat(h(r, "Vary")).isEqualTo("Accept-Encoding");
            assertThat(r.body()).isEqualTo(Arrays.copyOfRange(page, 100, 200));
        }
    }

    @AllArchs
    void headGivesTheHeadersOfGet(Architecture arch) throws Exception {
        TestServer s = server(arch);
        try (HttpClient c = Http.client()) {
            // HEAD first, on a file never compressed yet: it must compress to know the length
            HttpResponse<byte[]> hd = head(c, s, "/head.html", "Accept-Encoding", "gzip");
            HttpResponse<byte[]> g = get(c, s, "/head.html", "Accept-Encoding", "gzip");
            assertThat(hd.statusCode()).isEqualTo(200);
            assertThat(hd.body()).isEmpty();
            for (String f : new String[] {"Content-Encoding", "Content-Length", "ETag", "Vary", "Content-Type", "Last-Modified"}) {
                assertThat(h(hd, f)).as(f).isNotNull().isEqualTo(h(g, f));
            }
            HttpResponse<byte[]> hs = head(c, s, "/app.js", "Accept-Encoding", "br");
            assertThat(h(hs, "Content-Encoding")).isEqualTo("br");
            assertThat(h(hs, "Content-Length")).isEqualTo(Integer.toString(brScript.length));
        }
    }

    private static final Pattern GZIP_RUNS = Pattern.compile("(?m)^flash_compressions_total\\{coding=\"gzip\"} (\\d+)$");
    private static final Pattern HITS = Pattern.compile("(?m)^flash_compress_cache_hits_total (\\d+)$");

    private static long metric(String status, Pattern p) {
        Matcher m = p.matcher(status);
        assertThat(m.find()).as("metric %s in %s", p, status).isTrue();
        return Long.parseLong(m.group(1));
    }

    @AllArchs
    void aHotPageIsCompressedOnce(Architecture arch) throws Exception {
        TestServer s = server(arch);
        // One client, one connection: under mp every request (the status page's too) reaches the same worker.
        try (HttpClient c = Http.client()) {
            String before = new String(get(c, s, "/status").body(), StandardCharsets.UTF_8);
            for (int i = 0; i < 6; i++) {
                HttpResponse<byte[]> r = get(c, s, "/hot.html", "Accept-Encoding", "gzip");
                assertThat(h(r, "Content-Encoding")).isEqualTo("gzip");
                assertThat(gunzip(r.body())).isEqualTo(page);
            }
            String after = new String(get(c, s, "/status").body(), StandardCharsets.UTF_8);
            assertThat(metric(after, GZIP_RUNS) - metric(before, GZIP_RUNS)).isEqualTo(1);
            assertThat(metric(after, HITS) - metric(before, HITS)).isGreaterThanOrEqualTo(5);
        }
    }

    @AllArchs
    void curlDecodesWhatItAsksFor(Architecture arch) throws Exception {
        TestServer s = server(arch);
        for (String ae : new String[] {"gzip", "zstd", "br, gzip"}) {
            Path out = root.resolveSibling(root.getFileName() + "-curl-" + arch + ".out");
            Process p = new ProcessBuilder("curl", "-s", "--compressed", "-H", "Accept-Encoding: " + ae, "-o", out.toString(),
                    "-w", "%{size_download} %{http_code}", s.uri("/style.css").toString()).redirectErrorStream(true).start();
            String report = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor()).as(report).isZero();
            assertThat(report).endsWith(" 200");
            assertThat(Files.readAllBytes(out)).as(ae).isEqualTo(style);
            if (ae.equals("gzip")) assertThat(report).startsWith(gzStyle.length + " ");
            Files.deleteIfExists(out);
        }
    }
}
