package flash.proxy;

import flash.upstream.Upstream;
import flash.upstream.UpstreamGroup;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** Round robin and passive health, without sockets: the group's choices as an upstream fails and recovers. */
class UpstreamHealthTest {
    private static Upstream upstream(String name) {
        return new Upstream(name, name, InetSocketAddress.createUnresolved(name, 80));
    }

    @Test
    void roundRobinSkipsWhatWasTried() {
        Upstream a = upstream("a"), b = upstream("b");
        UpstreamGroup g = new UpstreamGroup(List.of(a, b));
        assertThat(List.of(g.pick(Set.of()), g.pick(Set.of()), g.pick(Set.of()), g.pick(Set.of())))
                .containsExactly(a, b, a, b);
        assertThat(g.pick(Set.of(a))).isEqualTo(b);
        assertThat(g.pick(Set.of(a, b))).isNull();
    }

    @Test
    void aFailedUpstreamIsSkippedThenGetsOneTrial() throws Exception {
        Upstream a = upstream("a"), b = upstream("b");
        UpstreamGroup g = new UpstreamGroup(List.of(a, b));
        long now = System.nanoTime();
        a.failed(now - UpstreamGroup.DOWN_NANOS - 1, UpstreamGroup.DOWN_NANOS); // down period already over
        Upstream first = null;
        int trials = 0;
        for (int i = 0; i < 10; i++) {
            Upstream u = g.pick(Set.of());
            if (u == a) trials++;
            if (first == null) first = u;
        }
        assertThat(trials).as("one trial request while its outcome is pending").isEqualTo(1);
        a.succeeded();
        int after = 0;
        for (int i = 0; i < 10; i++) if (g.pick(Set.of()) == a) after++;
        assertThat(after).as("up again: back in the rotation").isEqualTo(5);
    }

    @Test
    void aDownUpstreamIsNotPicked() {
        Upstream a = upstream("a"), b = upstream("b");
        UpstreamGroup g = new UpstreamGroup(List.of(a, b));
        a.failed(System.nanoTime(), UpstreamGroup.DOWN_NANOS);
        for (int i = 0; i < 10; i++) assertThat(g.pick(Set.of())).isEqualTo(b);
        assertThat(g.pick(Set.of(b))).as("nothing left to try").isNull();
    }
}
