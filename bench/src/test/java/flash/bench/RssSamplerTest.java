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
        List<Long> finds = new ArrayList<>();
        long[] rss = {100, 300, 200};
        int[] n = {0};
        RssSampler sampler = new RssSampler(42, pid -> {
            finds.add(pid);
            return List.of(pid, pid + 1);
        }, tree -> {
            assertThat(tree).containsExactly(42L, 43L);
            return rss[n[0]++ % rss.length];
        });
        long peak = 0;
        int samples = 2 * RssSampler.TREE_EVERY + 1;
        for (int i = 0; i < samples; i++) peak = sampler.sample();
        assertThat(finds).as("tree walks for %d samples", samples).hasSize(3);
        assertThat(peak).isEqualTo(300);
    }

    @Test
    void aRealProcessTreeIsSampled() throws Exception {
        Process parent = new ProcessBuilder("bash", "-c", "sleep 30 & wait").start();
        try {
            List<Long> tree = List.of();
            for (int i = 0; i < 50 && tree.size() < 2; i++) {
                Thread.sleep(20);
                tree = ProcTree.withDescendants(parent.pid());
            }
            assertThat(tree).as("bash and its sleep").hasSize(2);
            long kb = new RssSampler(parent.pid()).sample();
            assertThat(kb).as("bash's VmRSS and its sleep's").isGreaterThan(ProcTree.rssKb(List.of(parent.pid())));
        } finally {
            parent.descendants().forEach(ProcessHandle::destroyForcibly);
            parent.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }
}
