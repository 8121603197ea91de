package flash.content;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The pools an unheld read's body is lent from: per platform thread, shared among virtual threads. */
class PooledBodyTest {
    /** Many more than the shared pools, so that a pool per virtual thread cannot pass. */
    private static final int CONNECTIONS = Math.max(200, 10 * PooledBody.sharedPools());

    @Test
    void virtualThreadsShareAFewPoolsInsteadOfAllocatingABufferEach() throws Exception {
        long before = PooledBody.allocated.sum();
        // One after another, as the vt architecture's connections (a virtual thread each) serving one small file each.
        for (int i = 0; i < CONNECTIONS; i++) {
            Thread.ofVirtual().start(() -> PooledBody.take(3000).release()).join();
        }
        // At most one buffer for each shared pool; a pool per virtual thread allocated one for every connection.
        assertThat(PooledBody.allocated.sum() - before).isLessThanOrEqualTo(PooledBody.sharedPools());
    }

    @Test
    void aBufferReleasedOnAnotherThreadGoesBackToTheSharedPoolItCameFrom() throws Exception {
        // A loop's or a helper's release of a virtual thread's loan, as when a response is sent by another thread.
        PooledBody[] lent = new PooledBody[1];
        int[] free = new int[2];
        Thread vt = Thread.ofVirtual().unstarted(() -> {
            lent[0] = PooledBody.take(3000);
            free[0] = PooledBody.pooledOnThisThread();
        });
        vt.start();
        vt.join();
        lent[0].release(); // on this platform thread
        // a virtual thread of the same pool: ids are a sequence, so the next one of the same residue
        Thread same;
        do {
            same = Thread.ofVirtual().unstarted(() -> free[1] = PooledBody.pooledOnThisThread());
        } while (same.threadId() % PooledBody.sharedPools() != vt.threadId() % PooledBody.sharedPools());
        same.start();
        same.join();
        assertThat(free[1]).isEqualTo(free[0] + 1);
    }

    @Test
    void aPlatformThreadTakesFromItsOwnPool() throws Exception {
        PooledBody.take(3000).release(); // this thread's pool has a buffer of that class from here on
        int mine = PooledBody.pooledOnThisThread();
        AtomicInteger other = new AtomicInteger(-1);
        Thread t = Thread.ofPlatform().start(() -> {
            PooledBody b = PooledBody.take(3000);
            other.set(PooledBody.pooledOnThisThread()); // a new thread's pool: nothing free while its loan is out
            b.release();
        });
        t.join();
        assertThat(other.get()).isZero();
        assertThat(PooledBody.pooledOnThisThread()).isEqualTo(mine);
        PooledBody b = PooledBody.take(3000);
        assertThat(PooledBody.pooledOnThisThread()).as("this thread's buffer lent again").isEqualTo(mine - 1);
        b.release();
    }
}
