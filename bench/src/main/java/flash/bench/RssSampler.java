package flash.bench;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongFunction;
import java.util.function.ToLongFunction;

/**
 * The peak resident set of a server's process tree while wrk runs, sampled every {@link #SAMPLE_MS}.
 *
 * <p>The tree is found again only every {@link #TREE_EVERY}th sample, and the first time it is the one the caller
 * found for the idle reading. Finding it reads every process's /proc stat, about 2 ms of the harness's time; done for
 * each sample, 4 times a second on wrk's core, it held up the requests wrk had in flight and doubled every server's
 * p99 at 10 connections (docs/performance.md, section 51). In between only the VmRSS of the processes found is read.
 * A process started between two finds is missed until the next (at most 2 s); one that has exited counts 0. The
 * servers measured keep the same processes through a run (mp's workers are started before it).
 */
final class RssSampler {
    static final int SAMPLE_MS = 250;
    static final int TREE_EVERY = 8; // the tree found again every 2 s

    private final long pid;
    private final LongFunction<List<Long>> findTree;
    private final ToLongFunction<List<Long>> rssKb;
    private List<Long> tree;
    private int samples;
    private long peakKb;

    /** @param tree the server's tree as just found ({@link ProcTree#withDescendants}), used until the next find */
    RssSampler(long pid, List<Long> tree) {
        this(pid, tree, ProcTree::withDescendants, ProcTree::rssKb);
    }

    RssSampler(long pid, List<Long> tree, LongFunction<List<Long>> findTree, ToLongFunction<List<Long>> rssKb) {
        this.pid = pid;
        this.tree = tree;
        this.findTree = findTree;
        this.rssKb = rssKb;
    }

    /** Takes one sample; returns the peak so far in KiB. */
    long sample() {
        if (++samples % TREE_EVERY == 0) tree = findTree.apply(pid);
        peakKb = Math.max(peakKb, rssKb.applyAsLong(tree));
        return peakKb;
    }

    /** Samples until {@code wrk} exits or the thread is interrupted, raising {@code peak} as it goes. */
    void sampleWhileAlive(Process wrk, AtomicLong peak) {
        while (wrk.isAlive()) {
            peak.accumulateAndGet(sample(), Math::max);
            try {
                Thread.sleep(SAMPLE_MS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }
}
