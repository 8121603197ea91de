package flash.log;

import flash.config.AccessLogFormat;
import flash.config.Architecture;
import flash.testing.Fixtures;
import flash.testing.Http;
import flash.testing.RawClient;
import flash.testing.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A log whose reader stalls (a FIFO nobody reads: the stand-in for a hung disk or a full pipe) never blocks the
 * threads that log: lines past the buffer are dropped and counted, and serving goes on.
 */
class AsyncLogWriterTest {

    private static Path fifo(Path dir) throws Exception {
        Path f = dir.resolve("log.fifo");
        Process p = new ProcessBuilder("mkfifo", f.toString()).start();
        assertThat(p.waitFor()).isZero();
        return f;
    }

    @Test
    void aStalledReaderCostsLinesNotWaits(@TempDir Path dir) throws Exception {
        Path f = fifo(dir);
        // Read and write ends both held here: the writer's open does not wait for a reader, and nothing reads.
        try (FileChannel holder = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE);
             AsyncLogWriter w = new AsyncLogWriter(f, 4096, "test-log")) {
            byte[] line = "0123456789012345678901234567890123456789012345678901234567890123456789\n".getBytes(StandardCharsets.US_ASCII);
            int accepted = 0;
            for (int i = 0; i < 20_000; i++) if (w.offer(line, line.length)) accepted++;
            // 1.4 MB offered; the pipe (64 KiB) and two 4 KiB buffers hold a small part of it
            assertThat(w.dropped()).isGreaterThan(10_000);
            assertThat(accepted + w.dropped()).isEqualTo(20_000);
            // the reader comes back: lines flow again
            Thread reader = Thread.ofPlatform().daemon(true).start(() -> {
                ByteBuffer sink = ByteBuffer.allocate(64 * 1024);
                try {
                    while (true) holder.read(sink.clear()); // blocks when empty; ends when the holder closes
                } catch (java.io.IOException ignored) {
                    // closed at the end of the test
                }
            });
            assertThat(Http.await(() -> w.offer(line, line.length), 10_000)).isTrue();
            reader.interrupt();
        }
    }

    private static String contents(Path f) {
        try {
            return Files.readString(f);
        } catch (java.io.IOException e) {
            return "";
        }
    }

    @Test
    void anIdleWriterSleepsUntilALineComes(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("idle.log");
        try (AsyncLogWriter w = new AsyncLogWriter(f, 4096, "test-idle-log")) {
            Thread writer = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().equals("test-idle-log")).findFirst().orElseThrow();
            // After an interval with nothing to write it waits with no deadline (WAITING), not every 100 ms
            // (TIMED_WAITING): an idle server's log threads stay off its cores.
            assertThat(Http.await(() -> writer.getState() == Thread.State.WAITING, 10_000)).isTrue();
            byte[] line = "after a quiet while\n".getBytes(StandardCharsets.US_ASCII);
            assertThat(w.offer(line, line.length)).isTrue();
            // The line wakes it, and reaches the file within an interval, as any line does.
            assertThat(Http.await(() -> contents(f).equals("after a quiet while\n"), 10_000)).isTrue();
            // Then, with nothing more, it goes back to sleep.
            assertThat(Http.await(() -> writer.getState() == Thread.State.WAITING, 10_000)).isTrue();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("flash.testing.TestServer#archs")
    void aServerWhoseLogStallsKeepsServing(Architecture arch, @TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("hello.txt"), Fixtures.HELLO);
        Path f = fifo(dir);
        try (FileChannel holder = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE);
             TestServer s = TestServer.start(dir, arch, c -> c.withAccessLog(f.toString(), AccessLogFormat.COMBINED))) {
            // Well over the pipe and both 1 MiB buffers (a 4 KiB User-Agent makes each line about 4 KiB): the
            // writer blocks in write(2) on the full pipe, the buffers fill, and the connection threads must drop
            // lines rather than wait.
            String agent = "a".repeat(4096);
            String batch = ("GET /hello.txt HTTP/1.1\r\nHost: t\r\nUser-Agent: " + agent + "\r\n\r\n").repeat(50);
            int answered = 0;
            try (RawClient c = new RawClient(s.port())) {
                for (int b = 0; b < 20; b++) {
                    c.send(batch);
                    for (int i = 0; i < 50; i++) {
                        assertThat(c.read().status()).isEqualTo(200);
                        answered++;
                    }
                }
            }
            assertThat(answered).isEqualTo(1_000);
            assertThat(s.server().accessLogDropped()).isGreaterThan(0);
        }
    }
}
