package flash.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class SummaryWriterTest {
    @Test
    void tablesMediansAndRunByRunRatios() {
        String md = SummaryWriter.render(Fixtures.everyExperiment(), new SummaryWriter.Context(
                "flash bench --quick", "2026-01-01T00:00", 120, List.of("CPU: test"), List.of("a note"), 3, 3));
        assertThat(md).contains("`flash bench --quick`", "## File size sweep", "| nasa |", "**req/s ratio to nginx**",
                "ratio to path+header+file", "RSS growth per connection",
                "## A site larger than the caches", "| random-cold |", "| zipf-warm |", "a note", "CPU: test");
        // flash-amped is 1.2x nginx in every run of the fixture
        assertThat(md).contains("1.20 (1.20–1.20)");
    }

    @Test
    void ratioPairsRunsByIndex() {
        List<Measurement> ms = List.of(
                Fixtures.m("traces", "flash-amped", "nasa", 0, 1, 200),
                Fixtures.m("traces", "nginx", "nasa", 0, 1, 100),
                Fixtures.m("traces", "flash-amped", "nasa", 0, 2, 150),
                Fixtures.m("traces", "nginx", "nasa", 0, 2, 50));
        Stats r = new ResultTable(ms, "traces").ratio("flash-amped", "nginx", "nasa");
        assertThat(r).isEqualTo(new Stats(2.5, 2.0, 3.0, 2));
    }
}
