package flash.content;

import flash.sys.Native;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NativeTest {
    @TempDir Path dir;

    @BeforeAll
    static void linux() {
        assumeTrue(Native.available(), () -> "native layer unavailable: " + Native.linkFailure());
    }

    static byte[] writeRandom(Path file, int size) throws IOException {
        byte[] data = new byte[size];
        new Random(size).nextBytes(data);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(data));
            ch.force(true); // DONTNEED skips dirty pages
        }
        return data;
    }

    @Test
    void fdOfChannels() throws IOException {
        assertThat(Native.fdAccess()).as("run with --add-opens java.base/sun.nio.ch=ALL-UNNAMED").isTrue();
        Path f = dir.resolve("a");
        Files.write(f, new byte[1]);
        try (FileChannel ch = FileChannel.open(f); SocketChannel s = SocketChannel.open()) {
            assertThat(Native.fd(ch)).isGreaterThan(2);
            assertThat(Native.fd(s)).isGreaterThan(2).isNotEqualTo(Native.fd(ch));
        }
    }

    @Test
    void aChannelAdoptingADescriptorReadsItsFileAndClosesItOnce() throws Exception {
        assumeTrue(Native.fdAccess(), "needs --add-opens java.base/sun.nio.ch");
        Path f = dir.resolve("adopted");
        byte[] data = writeRandom(f, 10_000);
        int fd = Native.openReadOnly(f);
        assertThat(fd).isPositive();
        Path link = Path.of("/proc/self/fd/" + fd);
        FileChannel ch = Native.adoptReadOnly(fd, null);
        assertThat(ch).isNotNull();
        assertThat(Native.fd(ch)).as("the descriptor itself, not a new one").isEqualTo(fd);
        ByteBuffer b = ByteBuffer.allocate(data.length + 1);
        assertThat(ch.read(b, 0)).isEqualTo(data.length);
        assertThat(Arrays.copyOf(b.array(), data.length)).isEqualTo(data);
        assertThat(ch.size()).isEqualTo(data.length);
        assertThat(Files.readSymbolicLink(link)).isEqualTo(f.toRealPath());
        ch.close();
        assertThat(Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS) && Files.readSymbolicLink(link).equals(f.toRealPath()))
                .as("closing the channel closed the descriptor").isFalse();
        // The number is free now, and the next open usually takes it: neither a second close nor the channel's
        // cleaner may close it again.
        Path other = dir.resolve("other");
        writeRandom(other, 100);
        int next = Native.openReadOnly(other);
        try {
            ch.close();
            ch = null;
            System.gc();
            Thread.sleep(100); // the cleaner's thread, had it anything left to do
            assertThat(Files.readSymbolicLink(Path.of("/proc/self/fd/" + next))).isEqualTo(other.toRealPath());
        } finally {
            Native.close(next);
        }
        assertThat(Native.adoptReadOnly(-1, null)).isNull();
    }

    @Test
    void sendfileMovesExactBytesFromOffset() throws Exception {
        Path f = dir.resolve("send");
        byte[] data = writeRandom(f, 300_000);
        int off = 12_345, count = 250_000;
        try (ServerSocketChannel server = ServerSocketChannel.open();
             FileChannel file = FileChannel.open(f)) {
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            try (SocketChannel client = SocketChannel.open(server.getLocalAddress());
                 SocketChannel peer = server.accept()) {
                CompletableFuture<byte[]> received = CompletableFuture.supplyAsync(() -> readN(client, count));
                long sent = 0;
                while (sent < count) { // blocking socket: sendfile may still return short counts
                    long n = Native.sendfile(Native.fd(peer), Native.fd(file), off + sent, count - sent);
                    assertThat(n).isPositive();
                    sent += n;
                }
                assertThat(received.get(30, TimeUnit.SECONDS)).isEqualTo(Arrays.copyOfRange(data, off, off + count));
                assertThat(file.position()).as("offset pointer, file position untouched").isZero();
            }
        }
    }

    @Test
    void sendfileReportsEagainOnFullNonBlockingSocket() throws Exception {
        Path f = dir.resolve("big");
        writeRandom(f, 8 << 20);
        try (ServerSocketChannel server = ServerSocketChannel.open(); FileChannel file = FileChannel.open(f)) {
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            try (SocketChannel client = SocketChannel.open(server.getLocalAddress());
                 SocketChannel peer = server.accept()) {
                peer.configureBlocking(false);
                long n, off = 0;
                while ((n = Native.sendfile(Native.fd(peer), Native.fd(file), off, (8 << 20) - off)) > 0) off += n;
                assertThat(n).isEqualTo(-Native.EAGAIN); // nobody reads: the socket buffers fill up
                assertThat(off).isPositive().isLessThan(8 << 20);
            }
        }
    }

    private static byte[] readN(SocketChannel ch, int n) {
        ByteBuffer buf = ByteBuffer.allocate(n);
        try {
            while (buf.hasRemaining() && ch.read(buf) >= 0) { }
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
        return buf.array();
    }

    @Test
    void preadv2NowaitReadsHotFile() throws IOException {
        Path f = dir.resolve("hot");
        byte[] data = writeRandom(f, 64 * 1024);
        Files.readAllBytes(f); // make sure it is cached
        try (FileChannel ch = FileChannel.open(f); Arena arena = Arena.ofConfined()) {
            MemorySegment dst = arena.allocate(4096);
            assertThat(Native.preadv2Nowait(Native.fd(ch), dst, 8192)).isEqualTo(4096);
            assertThat(dst.toArray(ValueLayout.JAVA_BYTE)).isEqualTo(Arrays.copyOfRange(data, 8192, 8192 + 4096));
            assertThat(Native.preadv2Nowait(Native.fd(ch), dst, data.length)).as("EOF").isZero();
            assertThat(Native.preadv2Nowait(-1, dst, 0)).isEqualTo(-Native.EBADF);
        }
    }

    @Test
    void evictMakesFileColdAndReadMakesItHot() throws IOException {
        Path f = dir.resolve("cold");
        writeRandom(f, 1 << 20);
        try (FileChannel ch = FileChannel.open(f)) {
            int fd = Native.fd(ch);
            assumeTrue(Native.cachestat(fd, 0, 0) >= 0, "cachestat unsupported (Linux < 6.5)");
            Native.evictFromPageCache(f);
            assertThat(Native.cachestat(fd, 0, 0)).isZero();
            ch.read(ByteBuffer.allocate(1 << 20), 0);
            assertThat(Native.cachestat(fd, 0, 0)).isEqualTo(256);
            assertThat(Native.cachestat(fd, 4096, 8192)).isEqualTo(2);
        }
    }

    /**
     * The residency mapping's calls (FileHandle): mincore at a raw address tells a resident page from an evicted one,
     * and fails, never faults, once the range is unmapped; a mapping that cannot be made is 0.
     */
    @Test
    void rawMappingAndMincoreAt() throws IOException {
        Path f = dir.resolve("mapped");
        writeRandom(f, 3 * 4096 + 10);
        long page = Native.pageSize();
        try (FileChannel ch = FileChannel.open(f); Arena arena = Arena.ofConfined()) {
            int fd = Native.fd(ch);
            MemorySegment vec = arena.allocate(8);
            ch.read(ByteBuffer.allocate(4 * 4096), 0);
            long at = Native.mapReadOnly(fd, 3 * 4096 + 10);
            assertThat(at).isNotZero();
            assertThat(at % page).isZero();
            try {
                assertThat(Native.mincoreAt(at, 4 * page, vec.address())).isZero();
                for (int i = 0; i < 4; i++) assertThat(vec.get(ValueLayout.JAVA_BYTE, i) & 1).as("page %d", i).isEqualTo(1);
                assertThat(Native.fadviseDontNeed(fd, 2 * page, page)).isZero();
                assertThat(Native.mincoreAt(at, 4 * page, vec.address())).isZero();
                assertThat(vec.get(ValueLayout.JAVA_BYTE, 2) & 1).as("the evicted page").isZero();
                assertThat(vec.get(ValueLayout.JAVA_BYTE, 1) & 1).isEqualTo(1);
            } finally {
                assertThat(Native.unmap(at, 3 * 4096 + 10)).isZero();
            }
            assertThat(Native.mincoreAt(at, page, vec.address())).as("unmapped: ENOMEM, not a fault").isEqualTo(-1);
            assertThat(Native.mapReadOnly(-1, 4096)).isZero();
            assertThat(Native.mapReadOnly(fd, 0)).isZero();
        }
    }

    @Test
    void idsAndErrors() {
        assertThat(Native.getuid()).isGreaterThanOrEqualTo(0);
        assertThat(Native.geteuid()).isGreaterThanOrEqualTo(0);
        assertThat(Native.openReadOnly(Path.of("/nonexistent/flash"))).isEqualTo(-Native.ENOENT);
        assertThat(Native.close(-1)).isEqualTo(-Native.EBADF);
        assertThat(Native.fadviseDontNeed(-1, 0, 0)).isEqualTo(-Native.EBADF);
    }
}
