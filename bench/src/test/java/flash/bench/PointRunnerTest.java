package flash.bench;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The order servers are measured in within a run: each goes first in turn, none is always last. */
class PointRunnerTest {
    @Test
    void eachServerGoesFirstInTurnAndEveryRunMeasuresEachOnce() {
        List<String> servers = List.of("flash", "nginx", "nginx-aio");
        assertThat(PointRunner.inRunOrder(servers, 1)).containsExactly("flash", "nginx", "nginx-aio");
        assertThat(PointRunner.inRunOrder(servers, 2)).containsExactly("nginx", "nginx-aio", "flash");
        assertThat(PointRunner.inRunOrder(servers, 3)).containsExactly("nginx-aio", "flash", "nginx");
        assertThat(PointRunner.inRunOrder(servers, 4)).containsExactly("flash", "nginx", "nginx-aio");
        assertThat(PointRunner.inRunOrder(List.of("only"), 7)).containsExactly("only");
    }
}
