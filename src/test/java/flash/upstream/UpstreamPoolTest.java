package flash.upstream;

import flash.net.BlockingSeam;
import flash.net.Driver;
import flash.net.IoHandler;
import flash.net.LoopStats;
import flash.net.Registration;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The pool shared by the threads of mt and vt keeps its bound when threads give connections back at the same moment
 * (ProxyPoolTest saw 2 idle connections kept under --upstream-keepalive 1 when the size check and the add were two
 * steps). Real loopback connections; the driver stub only connects and registers, as a blocking driver does.
 */
class UpstreamPoolTest {
    private static final int THREADS = 8, ROUNDS = 300;

    @Test
    void threadsReleasingAtOnceNeverKeepMoreThanTheBound() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 512, InetAddress.getLoopbackAddress())) {
            List<Socket> accepted = new ArrayList<>();
            Thread acceptor = Thread.ofPlatform().daemon().start(() -> {
                try {
                    while (true) {
                        Socket s = server.accept();
                        synchronized (accepted) { accepted.add(s); }
                    }
                } catch (IOException closed) {
                    // the test is over
                }
            });
            Upstream upstream = new Upstream("t", "t", new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort()));
            Driver driver = new ConnectingDriver();
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            try {
                for (int round = 0; round < ROUNDS; round++) {
                    UpstreamPool shared = UpstreamPool.create(1, true);
                    List<UpstreamConnection> conns = new ArrayList<>();
                    for (int t = 0; t < THREADS; t++) conns.add(UpstreamConnection.open(driver, upstream, null, 0));
                    CyclicBarrier start = new CyclicBarrier(THREADS);
                    List<Future<?>> done = new ArrayList<>();
                    for (UpstreamConnection c : conns) {
                        done.add(pool.submit(() -> {
                            start.await();
                            shared.release(c);
                            return null;
                        }));
                    }
                    for (Future<?> f : done) f.get(30, TimeUnit.SECONDS);
                    long open = conns.stream().filter(c -> !c.isClosed()).count();
                    assertThat(open).as("round %d: connections kept open by a pool bounded at 1", round).isEqualTo(1);
                    shared.close();
                    assertThat(conns).allMatch(UpstreamConnection::isClosed);
                    synchronized (accepted) {
                        for (Socket s : accepted) s.close();
                        accepted.clear();
                    }
                }
            } finally {
                pool.shutdownNow();
                server.close();
                acceptor.join(5_000);
            }
        }
    }

    /** Connects at once, blocking, and registers nothing: what a pool needs of a blocking driver. */
    private static final class ConnectingDriver implements Driver {
        private static final Registration NONE = new Registration() {
            @Override public void interest(int ops) { }
            @Override public void cancel() { }
        };

        @Override public boolean blocking() { return true; }
        @Override public Registration register(SocketChannel channel, IoHandler handler, int ops) { return NONE; }

        @Override
        public Registration connect(SocketChannel channel, SocketAddress address, IoHandler handler, long timeoutNanos) {
            try {
                channel.connect(address);
            } catch (IOException e) {
                throw new AssertionError("loopback connect failed", e);
            }
            return NONE;
        }

        @Override public void execute(Runnable task) { task.run(); }
        @Override public BlockingSeam seam() { return BlockingSeam.INLINE; }
        @Override public ByteBuffer acquireBuffer() { return ByteBuffer.allocate(256); }
        @Override public void releaseBuffer(ByteBuffer buffer) { }
        @Override public LoopStats stats() { return null; }
        @Override public <T> T local(Class<T> key, Supplier<T> make) { return make.get(); }
    }
}
