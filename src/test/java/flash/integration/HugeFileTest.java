package flash.integration;

import flash.config.Architecture;
import flash.testing.AllArchs;
import flash.testing.Fixtures;
import flash.testing.RawClient;
import flash.testing.SharedServers;
import flash.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** Files past 4 GiB (a sparse file): 64-bit lengths, offsets and ranges all the way through. */
class HugeFileTest {
    private static final long SIZE = 4L * 1024 * 1024 * 1024 + 512L * 1024 * 1024;   // 4.5 GiB
    private static final long MARK1 = (4L << 30) + 12_345;                           // just past 4 GiB
    private static final long MARK2 = SIZE - 16;                                      // the very end
    private static final byte[] M1 = "marker-one".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] M2 = "marker-two-end!!".getBytes(StandardCharsets.US_ASCII);
    private static Path file;

    @BeforeAll
    static void createSparseFile() throws Exception {
        file = Fixtures.root().resolve("huge.bin");
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(SIZE);
            f.seek(MARK1);
            f.write(M1);
            f.seek(MARK2);
            f.write(M2);
        }
    }

    @AfterAll
    static void deleteSparseFile() throws Exception { Files.deleteIfExists(file); }

    @AllArchs
    void lengthAndRangesPast4GiB(Architecture arch) throws Exception {
        TestServer s = SharedServers.get(arch);
        try (RawClient c = new RawClient(s.port())) {
            c.send("HEAD /huge.bin HTTP/1.1\r\nHost: t\r\n\r\n");
            RawClient.Response head = c.read(true);
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.header("Content-Length")).isEqualTo(Long.toString(SIZE));

            c.send("GET /huge.bin HTTP/1.1\r\nHost: t\r\nRange: bytes=" + MARK1 + "-" + (MARK1 + M1.length - 1) + "\r\n\r\n");
            RawClient.Response r1 = c.read();
            assertThat(r1.status()).isEqualTo(206);
            assertThat(r1.header("Content-Range")).isEqualTo("bytes " + MARK1 + "-" + (MARK1 + M1.length - 1) + "/" + SIZE);
            assertThat(r1.body()).isEqualTo(M1);

            c.send("GET /huge.bin HTTP/1.1\r\nHost: t\r\nRange: bytes=-16\r\n\r\n");
            RawClient.Response r2 = c.read();
            assertThat(r2.status()).isEqualTo(206);
            assertThat(r2.header("Content-Range")).isEqualTo("bytes " + MARK2 + "-" + (SIZE - 1) + "/" + SIZE);
            assertThat(r2.body()).isEqualTo(M2);
        }
    }

    /** The whole 4.5 GiB once, on AMPED only (the same Outgoing code sends it everywhere; this costs seconds). */
    @Test
    void fullDownloadCountsEveryByte() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(TestServer.allArchs().contains(Architecture.AMPED), "amped not under test");
        try (RawClient c = new RawClient(SharedServers.get(Architecture.AMPED).port())) {
            c.send("GET /huge.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
            RawClient.Response head = c.read(true);
            assertThat(head.status()).isEqualTo(200);
            assertThat(c.discard(Long.MAX_VALUE)).isEqualTo(SIZE); // exactly SIZE bytes, then the server closes
        }
    }
}
