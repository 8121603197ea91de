package flash.amped;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import flash.config.Architecture;
import flash.sys.Native;
import flash.dispatch.ServerMetrics;
import flash.pipeline.BodyPath;
import flash.testing.RawClient;
import flash.testing.TestServer;
import flash.testing.ColdFile;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** AMPED's point: a cold file costs a helper trip, a hot one costs none. */
class AmpedResidencyTest {
    @TempDir Path root;

    @BeforeEach
    void amped() {
        assumeTrue(TestServer.archs().contains(Architecture.AMPED), "amped not under test");
        assumeTrue(Native.available() && Native.fdAccess(), "native layer unavailable");
    }

    @Test
    void coldMappedFileIsWarmedByAHelperThenServedWhole() throws Exception {
        byte[] data = Http.write(root.resolve("cold.bin"), 512 * 1024, 1);
        ColdFile.dropPages(root.resolve("cold.bin"));
        try (TestServer s = TestServer.start(root, Architecture.AMPED)) {
            s.server().context().responder().bodyPath(BodyPath.MAPPED); // plain sockets now prefer sendfile
            ServerMetrics m = s.server().metrics();
            RawClient.Response r = Http.get(s.port(), "/cold.bin");
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.body()).isEqualTo(data);
            assertThat(m.residencyMisses()).isEqualTo(1);
            assertThat(s.server().context().chunkCache().misses.sum()).isPositive();
            // one translation and one page-in, both on helpers
            assertThat(m.diskTasks()).isEqualTo(2);
            assertThat(Http.eventually(5000, () -> m.helperTasks() == 2)).isTrue();
            assertThat(m.render()).contains("flash_residency_misses_total{loop=")
                    .containsPattern("(?m)^flash_residency_hints_withdrawn_total [1-9]");
        }
    }

    @Test
    void coldFileSentBySendfileIsWarmedByAHelper() throws Exception {
        Path f = root.resolve("big.bin");
        byte[] data = Http.write(f, 3 * 1024 * 1024, 2);
        try (TestServer s = TestServer.start(root, Architecture.AMPED, c -> c.withFileCache(false)
                .withRevalidateAfter(Duration.ofMinutes(5)))) {
            ServerMetrics m = s.server().metrics();
            // preadv2 RWF_NOWAIT starts readahead on a miss, which a fast disk may finish at once: evict and retry.
            boolean missed = false;
            for (int attempt = 0; attempt < 5 && !missed; attempt++) {
                long before = m.residencyMisses();
                ColdFile.dropPages(f);
                RawClient.Response r = Http.get(s.port(), "/big.bin");
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.body()).isEqualTo(data);
                missed = m.residencyMisses() > before;
            }
            assertThat(missed).isTrue();
        }
    }

    @Test
    void hotFilesNeedNoHelper() throws Exception {
        byte[] small = Http.write(root.resolve("small.txt"), 3000, 3);
        byte[] mapped = Http.write(root.resolve("mapped.bin"), 300 * 1024, 4);
        try (TestServer s = TestServer.start(root, Architecture.AMPED, c -> c.withRevalidateAfter(Duration.ofMinutes(5)))) {
            s.server().context().responder().bodyPath(BodyPath.MAPPED);
            ServerMetrics m = s.server().metrics();
            Http.get(s.port(), "/small.txt");
            Http.get(s.port(), "/mapped.bin"); // translated and paged in: now hot
            long tasks = m.diskTasks();
            try (RawClient c = new RawClient(s.port())) {
                for (int i = 0; i < 20; i++) {
                    RawClient.Response a = c.send("GET /small.txt HTTP/1.1\r\nHost: t\r\n\r\n").read();
                    RawClient.Response b = c.send("GET /mapped.bin HTTP/1.1\r\nHost: t\r\n\r\n").read();
                    assertThat(a.body()).isEqualTo(small);
                    assertThat(b.body()).isEqualTo(mapped);
                }
            }
            assertThat(m.diskTasks()).isEqualTo(tasks);
            assertThat(s.server().context().chunkCache().hits.sum()).isGreaterThanOrEqualTo(20);
        }
    }

    @Test
    void helperFailureIsA500ForThatRequestOnly() throws Exception {
        // Real failure: the file is truncated after its translation and mapping were cached, so the helper that
        // pages the body in takes a SIGBUS (InternalError). No byte has left yet, so the client gets a 500.
        Path f = root.resolve("shrinks.bin");
        Http.write(f, 512 * 1024, 5);
        byte[] other = Http.write(root.resolve("other.txt"), 100, 6);
        // --revalidate stat: the stale translation must stay cached (a watch would drop it on the truncation).
        try (TestServer s = TestServer.start(root, Architecture.AMPED, c -> c.withRevalidateAfter(Duration.ofMinutes(5))
                .withRevalidation(flash.config.Revalidation.STAT));
             RawClient c = new RawClient(s.port())) {
            s.server().context().responder().bodyPath(BodyPath.MAPPED); // the sendfile path: MidSizeSendfileTest
            assertThat(c.send("GET /shrinks.bin HTTP/1.1\r\nHost: t\r\n\r\n").read().status()).isEqualTo(200);
            try (var w = java.nio.channels.FileChannel.open(f, java.nio.file.StandardOpenOption.WRITE)) {
                w.truncate(0);
            }
            RawClient.Response r = c.send("GET /shrinks.bin HTTP/1.1\r\nHost: t\r\n\r\n").read();
            assertThat(r.status()).isEqualTo(500);
            // the same connection goes on
            RawClient.Response ok = c.send("GET /other.txt HTTP/1.1\r\nHost: t\r\n\r\n").read();
            assertThat(ok.status()).isEqualTo(200);
            assertThat(ok.body()).isEqualTo(other);
        }
    }
}
