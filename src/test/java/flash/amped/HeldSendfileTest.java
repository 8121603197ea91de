package flash.amped;

import static org.assertj.core.api.Assertions.assertThat;

import flash.config.Architecture;
import flash.testing.AllArchs;
import flash.testing.ColdFile;
import flash.testing.RawClient;
import flash.testing.TestServer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Issue #11, docs/performance.md sections 34 and 35: a small file whose bytes the cache holds, from 24 KiB up (from
 * 8 KiB while it is not asked for thousands of times a second), goes by sendfile from a descriptor its entry keeps on
 * the event loops' plain sockets (the copy of the held bytes into the socket cost more); below that, and on the
 * blocking architectures, the held bytes go out as before. Whole bodies, ranges, several ranges, HEAD and conditional
 * requests must be exact either way, on one keep-alive connection.
 */
class HeldSendfileTest {
    static final int BIG = 40 * 1024;
    static final int SMALL = 10 * 1024;

    @TempDir Path root;

    @AllArchs
    void heldFilesAreExactWhetherSentFromTheirBytesOrByTheirKeptDescriptor(Architecture arch) throws Exception {
        byte[] big = Http.write(root.resolve("big.bin"), BIG, 41);
        byte[] small = Http.write(root.resolve("small.bin"), SMALL, 42);
        try (TestServer s = TestServer.start(root, arch, c -> c.withRevalidateAfter(Duration.ofMinutes(5))
                .withStatusPath("/status"));
             RawClient c = new RawClient(s.port())) {
            for (int round = 0; round < 3; round++) { // the first keeps the descriptor, the later ones send from it
                RawClient.Response whole = c.send("GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n").read();
                assertThat(whole.status()).isEqualTo(200);
                assertThat(whole.header("Content-Length")).isEqualTo(String.valueOf(BIG));
                assertThat(whole.body()).as("round %d", round).isEqualTo(big);
                assertThat(c.send("GET /small.bin HTTP/1.1\r\nHost: t\r\n\r\n").read().body()).isEqualTo(small);

                RawClient.Response part = c.send("GET /big.bin HTTP/1.1\r\nHost: t\r\nRange: bytes=30000-40959\r\n\r\n").read();
                assertThat(part.status()).isEqualTo(206);
                assertThat(part.header("Content-Range")).isEqualTo("bytes 30000-40959/" + BIG);
                assertThat(part.body()).isEqualTo(Arrays.copyOfRange(big, 30000, BIG));

                RawClient.Response parts = c.send("GET /big.bin HTTP/1.1\r\nHost: t\r\nRange: bytes=0-9,40000-40009\r\n\r\n").read();
                assertThat(parts.status()).isEqualTo(206);
                assertThat(parts.bodyText()).contains("Content-Range: bytes 0-9/" + BIG, "Content-Range: bytes 40000-40009/" + BIG)
                        .contains(new String(big, 0, 10, StandardCharsets.ISO_8859_1))
                        .contains(new String(big, 40000, 10, StandardCharsets.ISO_8859_1));
                assertThat(parts.body().length).isEqualTo(Integer.parseInt(parts.header("Content-Length")));

                RawClient.Response head = c.send("HEAD /big.bin HTTP/1.1\r\nHost: t\r\n\r\n").read(true);
                assertThat(head.status()).isEqualTo(200);
                assertThat(head.header("Content-Length")).isEqualTo(String.valueOf(BIG));
                assertThat(head.body()).isEmpty();

                RawClient.Response notModified = c.send("GET /big.bin HTTP/1.1\r\nHost: t\r\nIf-None-Match: "
                        + whole.header("ETag") + "\r\n\r\n").read();
                assertThat(notModified.status()).isEqualTo(304);
                assertThat(notModified.body()).isEmpty();
            }
            assertThat(c.send("GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n").read().body()).isEqualTo(big);
            if (s.inProcess()) {
                long sent = Http.metric(s.server().metrics().render(), "flash_held_sendfile_total");
                // 40 KiB is above the bound, 10 KiB above the one for files not asked for often. Only the event loops
                // prefer sendfile (BodyPath).
                if (!arch.eventDriven()) assertThat(sent).isZero();
                else if (s.server().context().descriptors().room() > 10) assertThat(sent).isPositive();
            } else {
                assertThat(Http.get(s.port(), "/status").bodyText()).contains("flash_held_sendfile_total");
            }
        }
    }

    /**
     * A held file whose pages were evicted is served exactly from its held bytes, and on the event loops' plain
     * sockets its pages are read back where blocking is allowed (a helper under amped; the invariant check fails a
     * loop that does it), so that sendfile can take it again: nothing else would read it. The blocking architectures
     * copy held bytes and test nothing.
     */
    @AllArchs
    void aHeldFileFoundEvictedIsServedFromItsBytesAndItsPagesAreReadBack(Architecture arch) throws Exception {
        Path f = root.resolve("big.bin");
        byte[] big = Http.write(f, BIG, 43);
        assumeTrue(ColdFile.canTell(f), "needs cachestat");
        try (TestServer s = TestServer.start(root, arch, c -> c.withRevalidateAfter(Duration.ofMinutes(5))
                .withStatusPath("/status"));
             RawClient c = new RawClient(s.port())) {
            for (int round = 0; round < 3; round++) { // held, then a kept descriptor, then sent from it
                assertThat(c.send("GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n").read().body()).isEqualTo(big);
            }
            ColdFile.evict(f);
            RawClient.Response r = c.send("GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n").read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.body()).isEqualTo(big);
            if (!s.inProcess()) {
                assertThat(Http.get(s.port(), "/status").bodyText()).contains("flash_held_page_refills_total");
                return;
            }
            var metrics = s.server().metrics();
            if (!arch.eventDriven()) {
                assertThat(Http.metric(metrics.render(), "flash_held_page_refills_total")).as("copied without a test").isZero();
                assertThat(ColdFile.wholeInMemory(f)).isFalse();
            } else if (s.server().context().descriptors().room() > 10) {
                // counted where the refill ran: a helper under amped, after the response perhaps
                assertThat(Http.eventually(10_000, () -> Http.metric(metrics.render(), "flash_held_page_refills_total") == 1))
                        .as("one refill").isTrue();
                assertThat(Http.eventually(10_000, () -> ColdFile.wholeInMemory(f))).as("read back").isTrue();
            }
            assertThat(c.send("GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n").read().body()).isEqualTo(big);
        }
    }
}
