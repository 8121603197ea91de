package flash.testing;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link ColdFile#evict} empties the page cache of a file just sent by sendfile to a reader on another CPU: the socket
 * buffers that carried its pages are freed on the reader's CPU and handed back to the sender's, which freed them only
 * when it next received a packet, and an idle test could wait seconds for that (a flaky HeldSendfileTest on SPED).
 */
class ColdFileTest {
    @TempDir Path dir;

    @Test
    void aFileJustSentToAReaderOnAnotherCpuIsEvicted() throws Exception {
        Path f = Files.write(dir.resolve("sent.bin"), new byte[40 * 1024]);
        assumeTrue(ColdFile.canTell(f), "needs cachestat");
        try (var listener = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
             var reader = SocketChannel.open(listener.getLocalAddress());
             var sender = listener.accept();
             var file = FileChannel.open(f, StandardOpenOption.READ)) {
            for (int round = 0; round < 8; round++) {
                boolean[] pinned = new boolean[2];
                java.io.IOException[] failed = new java.io.IOException[2];
                long size = Files.size(f);
                Thread read = Thread.ofPlatform().start(() -> {
                    pinned[1] = ColdFile.pinTo(1);
                    ByteBuffer b = ByteBuffer.allocate(64 * 1024);
                    try {
                        for (long got = 0; got < size; got += reader.read(b.clear())) { }
                    } catch (java.io.IOException e) {
                        failed[1] = e;
                    }
                });
                Thread send = Thread.ofPlatform().start(() -> {
                    pinned[0] = ColdFile.pinTo(0);
                    try {
                        for (long sent = 0; sent < size; ) sent += file.transferTo(sent, size - sent, sender);
                    } catch (java.io.IOException e) {
                        failed[0] = e;
                    }
                });
                send.join();
                read.join();
                assertThat(failed).as("sent and read").containsOnlyNulls();
                assumeTrue(pinned[0] && pinned[1], "needs CPUs 0 and 1");
                ColdFile.evict(f); // throws if pages stay
                assertThat(ColdFile.wholeInMemory(f)).isFalse();
            }
        }
    }
}
