package flash.site;

import flash.config.Architecture;
import flash.testing.AllArchs;
import flash.testing.ArchServers;
import flash.testing.Http;
import flash.testing.RawClient;
import flash.testing.TestServer;
import org.junit.jupiter.api.AfterAll;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.RandomAccessFile;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Files with mtime 0 or 1 (a Nix store, reproducible builds): no Last-Modified, If-Modified-Since never gives 304, and
 * the ETag follows the content, even for a same-size rewrite in place (same inode, size and mtime), small and large.
 */
class ReproducibleValidatorsTest {
    static final Path ROOT;
    static {
        try {
            ROOT = Files.createTempDirectory("flash-nix-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
    static final ArchServers SERVERS = new ArchServers(arch -> TestServer.start(ROOT, arch,
            c -> c.withRevalidateAfter(Duration.ofMillis(1))));

    @AfterAll
    static void stop() {
        SERVERS.close();
        flash.testing.Fixtures.deleteTree(ROOT);
    }

    private static Path file(String name, byte[] content, long mtimeMillis) throws IOException {
        Path f = ROOT.resolve(name);
        Files.write(f, content);
        Files.setLastModifiedTime(f, FileTime.fromMillis(mtimeMillis));
        return f;
    }

    /** Rewrites in place (same inode, same size), then puts the mtime back. */
    private static void rewriteInPlace(Path f, byte[] content, long mtimeMillis) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.seek(0);
            raf.write(content);
        }
        Files.setLastModifiedTime(f, FileTime.fromMillis(mtimeMillis));
    }

    @AllArchs
    void noLastModifiedAndIfModifiedSinceNeverMatches(Architecture arch) throws Exception {
        TestServer s = SERVERS.get(arch);
        String name = "nix-" + arch.cliName() + ".txt";
        file(name, "reproducible\n".getBytes(StandardCharsets.US_ASCII), 1000);
        HttpResponse<byte[]> r = Http.get(s.uri("/" + name));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Last-Modified")).isEmpty();
        assertThat(r.headers().firstValue("ETag")).isPresent();
        // any date is later than 1970-01-01T00:00:01: with the mtime as Last-Modified, each would give 304
        for (String ims : new String[] {"Thu, 01 Jan 1970 00:00:01 GMT", "Wed, 02 Dec 2026 00:00:00 GMT"}) {
            RawClient.Response c = SiteRulesTest.raw(s, "GET", "/" + name, "If-Modified-Since: " + ims);
            assertThat(c.status()).as(ims).isEqualTo(200);
            assertThat(c.bodyText()).isEqualTo("reproducible\n");
        }
        // If-Range with a date cannot validate either: the whole file, not the range
        assertThat(SiteRulesTest.raw(s, "GET", "/" + name, "Range: bytes=0-3", "If-Range: Thu, 01 Jan 1970 00:00:01 GMT").status())
                .isEqualTo(200);
        // the ETag still validates
        String etag = r.headers().firstValue("ETag").orElseThrow();
        assertThat(SiteRulesTest.raw(s, "GET", "/" + name, "If-None-Match: " + etag).status()).isEqualTo(304);
        // an ordinary mtime keeps its Last-Modified
        file("normal-" + arch.cliName() + ".txt", "x".getBytes(StandardCharsets.US_ASCII), 1_700_000_000_000L);
        assertThat(Http.get(s.uri("/normal-" + arch.cliName() + ".txt")).headers().firstValue("Last-Modified"))
                .hasValue("Tue, 14 Nov 2023 22:13:20 GMT");
    }

    @AllArchs
    void sameSizeRewriteChangesTheETagSmallAndLarge(Architecture arch) throws Exception {
        TestServer s = SERVERS.get(arch);
        for (int size : new int[] {100, 300 * 1024}) {
            for (long mtime : new long[] {0, 1000}) {
                String name = "same-" + arch.cliName() + "-" + size + "-" + mtime + ".bin";
                byte[] a = new byte[size], b = new byte[size];
                Arrays.fill(a, (byte) 'a');
                Arrays.fill(b, (byte) 'a');
                b[size / 2] = 'b';
                Path f = file(name, a, mtime);
                String etagA = Http.get(s.uri("/" + name)).headers().firstValue("ETag").orElseThrow();
                rewriteInPlace(f, b, mtime);
                String label = size + " bytes, mtime " + mtime;
                // the server re-checks a cached translation after --revalidate-ms (1 ms here): wait for the new content
                assertThat(Http.await(() -> body(s, name).equals(new String(b, StandardCharsets.ISO_8859_1)), 10_000))
                        .as(label).isTrue();
                HttpResponse<byte[]> now = Http.get(s.uri("/" + name));
                assertThat(now.headers().firstValue("ETag").orElseThrow()).as(label).isNotEqualTo(etagA);
                RawClient.Response c = SiteRulesTest.raw(s, "GET", "/" + name, "If-None-Match: " + etagA);
                assertThat(c.status()).as(label + ": the old ETag must not give 304").isEqualTo(200);
                assertThat(c.body()).isEqualTo(b);
            }
        }
    }

    private static String body(TestServer s, String name) {
        try {
            return new String(Http.get(s.uri("/" + name)).body(), StandardCharsets.ISO_8859_1);
        } catch (IOException | InterruptedException e) {
            throw new RuntimeException(e);
        }
    }
}
