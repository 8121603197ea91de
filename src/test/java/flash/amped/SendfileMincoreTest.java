package flash.amped;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import flash.config.Architecture;
import flash.sys.Native;
import flash.content.Residency;
import flash.dispatch.ServerMetrics;
import flash.testing.RawClient;
import flash.testing.TestServer;
import flash.testing.ColdFile;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * AMPED, files sent by sendfile that this process owns (so mincore is truthful): residency is tested with mincore on
 * the handle's whole-file mapping, never with the copying preadv2 probe, and still tells a cold file from a hot one.
 */
class SendfileMincoreTest {
    static final int SIZE = 3 * 1024 * 1024 + 5000; // four sendfile chunks, the last one partial

    @TempDir Path root;

    @BeforeEach
    void amped() {
        assumeTrue(TestServer.archs().contains(Architecture.AMPED), "amped not under test");
        assumeTrue(Native.available() && Native.fdAccess(), "native layer unavailable");
    }

    private TestServer start() throws Exception {
        return TestServer.start(root, Architecture.AMPED, c -> c.withFileCache(false)
                .withRevalidateAfter(Duration.ofMinutes(5)));
    }

    @Test
    void coldFileIsFoundNotResidentByMincoreAndServedWhole() throws Exception {
        Path f = root.resolve("cold.bin");
        byte[] data = Http.write(f, SIZE, 11);
        ColdFile.dropPages(f);
        try (TestServer s = start()) {
            ServerMetrics m = s.server().metrics();
            Residency residency = m.residency();
            RawClient.Response r = Http.get(s.port(), "/cold.bin");
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.body()).isEqualTo(data);
            // mincore starts no readahead, so the first chunk of an evicted file is a miss every time
            assertThat(m.residencyMisses()).isPositive();
            assertThat(residency.mincoreChecks.sum()).isPositive();
            assertThat(residency.probeChecks.sum()).isZero();
            assertThat(m.render()).contains("flash_residency_checks_total{test=\"mincore\"} ");
        }
    }

    @Test
    void hotFileIsSentWithoutHelpers() throws Exception {
        Path f = root.resolve("hot.bin");
        byte[] data = Http.write(f, SIZE, 12);
        try (TestServer s = start(); RawClient c = new RawClient(s.port())) {
            ServerMetrics m = s.server().metrics();
            Residency residency = m.residency();
            assertThat(c.send("GET /hot.bin HTTP/1.1\r\nHost: t\r\n\r\n").read().body()).isEqualTo(data); // now hot
            long tasks = m.diskTasks(), misses = m.residencyMisses(), checks = residency.mincoreChecks.sum();
            for (int i = 0; i < 5; i++) {
                RawClient.Response r = c.send("GET /hot.bin HTTP/1.1\r\nHost: t\r\n\r\n").read();
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.body()).isEqualTo(data);
            }
            assertThat(m.diskTasks()).isEqualTo(tasks);
            assertThat(m.residencyMisses()).isEqualTo(misses);
            // each 1 MiB chunk tested once per response (a socket that fills mid-chunk must not re-test it)
            assertThat(residency.mincoreChecks.sum() - checks).isEqualTo(5 * 4);
            assertThat(residency.probeChecks.sum()).isZero();
        }
    }
}
