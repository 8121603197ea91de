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
            assertThat(new BodyPath(0, true).prefersSendfile(plain)).isTrue();
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
        assertThat(new BodyPath(0, true).prefersSendfile(tls)).isFalse();
    }

    @Test
    void systemPropertiesSetTheBounds() {
        String min = System.getProperty("flash.sendfileMin"), blocking = System.getProperty("flash.sendfileBlocking");
        try {
            System.setProperty("flash.sendfileMin", "1048576");
            System.setProperty("flash.sendfileBlocking", "true");
            assertThat(BodyPath.fromSystemProperties()).isEqualTo(new BodyPath(1 << 20, true));
            System.clearProperty("flash.sendfileMin");
            System.clearProperty("flash.sendfileBlocking");
            assertThat(BodyPath.fromSystemProperties()).isEqualTo(BodyPath.DEFAULT);
        } finally {
            if (min != null) System.setProperty("flash.sendfileMin", min);
            if (blocking != null) System.setProperty("flash.sendfileBlocking", blocking);
        }
    }
}
