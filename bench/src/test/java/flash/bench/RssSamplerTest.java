package flash.bench;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The RSS sampler finds the server's tree once every few samples and keeps the peak over the tree. */
class RssSamplerTest {

    @Test
    void theTreeIsFoundAgainOnlyEveryFewSamplesAndThePeakIsKept() {
        List<Integer> findsAt = new ArrayList<>();
        long[] rss = {300, 100, 200};
        int[] n = {0};
        RssSampler sampler = new RssSampler(42, List.of(42L, 43L), pid -> {
            findsAt.add(n[0]);
            return List.of(pid, pid + 1);
        }, tree -> {
            assertThat(tree).containsExactly(42L, 43L);
            return rss[n[0]++ % rss.length];
        });
        long peak = 0;
        for (int i = 0; i < 17; i++) peak = sampler.sample();
        // the caller's tree serves the first samples; /proc is walked at most once in two seconds of samples
        assertThat(RssSampler.TREE_EVERY * RssSampler.SAMPLE_MS).isGreaterThanOrEqualTo(2000);
        assertThat(findsAt).as("samples at which the tree was found again").containsExactly(7, 15);
        assertThat(peak).as("the peak, not the last reading (100)").isEqualTo(300);
    }

    @Test
    void aRealProcessTreeIsSampled() throws Exception {
        Process parent = new ProcessBuilder("bash", "-c", "sleep 30 & wait").start();
        try {
            List<Long> tree = List.of();
            for (int i = 0; i < 250 && tree.size() < 2; i++) {
                Thread.sleep(20);
                tree = ProcTree.withDescendants(parent.pid());
            }
            assertThat(tree).as("bash and its sleep").hasSize(2);
            long kb = new RssSampler(parent.pid(), tree).sample();
            assertThat(kb).as("bash's VmRSS and its sleep's").isGreaterThan(ProcTree.rssKb(List.of(parent.pid())));
        } finally {
            parent.descendants().forEach(ProcessHandle::destroyForcibly);
            parent.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }
}
