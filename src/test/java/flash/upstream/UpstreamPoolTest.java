package flash.upstream;

import flash.pipeline.FakeDriver;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The pool shared by the threads of mt and vt keeps its bound when threads give connections back at the same moment
 * (ProxyPoolTest saw 2 idle connections kept under --upstream-keepalive 1 when the size check and the add were two
 * steps). The race is the pool's alone, so the connections need no peer: their connects stay pending on a
 * {@link FakeDriver}, and closing one closes its socket.
 */
class UpstreamPoolTest {
    private static final int THREADS = 8, ROUNDS = 2000;

    @Test
    void threadsReleasingAtOnceNeverKeepMoreThanTheBound() throws Exception {
        Upstream upstream = new Upstream("t", "t", new InetSocketAddress(InetAddress.getLoopbackAddress(), 9));
        FakeDriver driver = new FakeDriver(256);
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
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
