package flash.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import flash.net.PlainTransport;
import flash.net.Transport;

import java.nio.channels.SocketChannel;
import org.junit.jupiter.api.Test;

/** Which transports get file regions (sendfile) and which get mapped chunks: BodyPath's rule and its knobs. */
class BodyPathTest {
    @Test
    void plainNonBlockingSocketsPreferSendfileBlockingOnesOnlyWhenAsked() throws Exception {
        try (SocketChannel ch = SocketChannel.open()) {
            Transport plain = new PlainTransport(ch);
            assertThat(plain.supportsSendfile()).isTrue();
            assertThat(BodyPath.DEFAULT.prefersSendfile(plain)).as("blocking: mt, vt, mp").isFalse();
            assertThat(new BodyPath(0, Long.MAX_VALUE, true).prefersSendfile(plain)).isTrue();
            ch.configureBlocking(false);
            assertThat(BodyPath.DEFAULT.prefersSendfile(plain)).as("non-blocking: the event loops").isTrue();
            assertThat(BodyPath.MAPPED.prefersSendfile(plain)).isTrue(); // MAPPED moves the size bound instead
        }
    }

    @Test
    void aTransportWithoutSendfileNeverPrefersIt() {
        Transport tls = new Transport() { // as TlsTransport: the default supportsSendfile() is false
            @Override public int read(java.nio.ByteBuffer dst) { return 0; }
            @Override public long write(java.nio.ByteBuffer[] srcs, int offset, int length) { return 0; }
            @Override public int write(java.nio.ByteBuffer src) { return 0; }
            @Override public long sendFile(java.nio.channels.FileChannel f, long p, long l) { return UNSUPPORTED; }
            @Override public void shutdownOutput() { }
            @Override public void shutdownInput() { }
            @Override public void close() { }
            @Override public boolean isOpen() { return true; }
            @Override public boolean isBlocking() { return false; }
            @Override public java.nio.channels.SelectableChannel channel() { return null; }
        };
        assertThat(new BodyPath(0, Long.MAX_VALUE, true).prefersSendfile(tls)).isFalse();
    }

    /** Between sendfileMin and sendfileMax a sendfile connection gets a file region; outside, the mapped chunks. */
    @Test
    void sizeBoundsPickMappedOrSendfile(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        flash.content.ChunkCache cache = new flash.content.ChunkCache(64L << 20, 64 * 1024, 8L << 20);
        java.nio.file.Path f = dir.resolve("f");
        java.nio.file.Files.write(f, new byte[1]);
        flash.content.FileHandle h = new flash.content.FileHandle(java.nio.channels.FileChannel.open(f));
        try {
            java.util.function.LongFunction<flash.content.FileEntry> entry = size -> new flash.content.FileEntry(
                    f, size, 1_700_000_000_000L, "key", "application/octet-stream", null, h);
            BodyPath band = new BodyPath(128 * 1024, 2 << 20, false);
            assertThat(band.mapped(cache, entry.apply(100 * 1024), true)).as("below sendfileMin").isTrue();
            assertThat(band.mapped(cache, entry.apply(1 << 20), true)).as("inside the band").isFalse();
            assertThat(band.mapped(cache, entry.apply(4 << 20), true)).as("above sendfileMax, still covered").isTrue();
            assertThat(band.mapped(cache, entry.apply(16 << 20), true)).as("not covered: sendfile").isFalse();
            assertThat(band.mapped(cache, entry.apply(1 << 20), false)).as("no sendfile transport").isTrue();
            // the default: every body by sendfile on a sendfile transport, mapped only without one
            assertThat(BodyPath.DEFAULT.mapped(cache, entry.apply(100 * 1024), true)).as("default: 100 KiB by sendfile").isFalse();
            assertThat(BodyPath.DEFAULT.mapped(cache, entry.apply(4 << 20), true)).as("default: 4 MiB by sendfile").isFalse();
            assertThat(BodyPath.DEFAULT.mapped(cache, entry.apply(4 << 20), false)).as("default: TLS, blocking: mapped").isTrue();
            assertThat(BodyPath.DEFAULT.mapped(null, entry.apply(1 << 20), false)).as("no file cache").isFalse();
            assertThat(BodyPath.MAPPED.mapped(cache, entry.apply(100 * 1024), true)).as("MAPPED: covered, mapped").isTrue();
            // section 13's rule, which the properties can bring back
            assertThat(BodyPath.SENDFILE_TO_1MIB.mapped(cache, entry.apply(1 << 20), true)).as("sendfile to 1 MiB").isFalse();
            assertThat(BodyPath.SENDFILE_TO_1MIB.mapped(cache, entry.apply((1 << 20) + 1), true)).as("then mapped").isTrue();
        } finally {
            h.release();
        }
    }

    @Test
    void systemPropertiesSetTheBounds() {
        String min = System.getProperty("flash.sendfileMin"), max = System.getProperty("flash.sendfileMax"), blocking = System.getProperty("flash.sendfileBlocking");
        try {
            System.setProperty("flash.sendfileMin", "1048576");
            System.setProperty("flash.sendfileMax", "4194304");
            System.setProperty("flash.sendfileBlocking", "true");
            assertThat(BodyPath.fromSystemProperties()).isEqualTo(new BodyPath(1 << 20, 4 << 20, true));
            System.clearProperty("flash.sendfileMax");
            System.clearProperty("flash.sendfileMin");
            System.clearProperty("flash.sendfileBlocking");
            assertThat(BodyPath.fromSystemProperties()).isEqualTo(BodyPath.DEFAULT);
        } finally {
            if (min != null) System.setProperty("flash.sendfileMin", min);
            if (max != null) System.setProperty("flash.sendfileMax", max);
            if (blocking != null) System.setProperty("flash.sendfileBlocking", blocking);
        }
    }
}
