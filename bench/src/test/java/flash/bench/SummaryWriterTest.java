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
        assertThat(md).contains("**server CPU per request (us", "**CPU per request, nginx's over the server's**",
                "**wrk's CPU per request (us");
    }

    /** Where wrk sets the pace both serve the same req/s; the server that spends less CPU per response is ahead. */
    @Test
    void cpuPerRequestTellsGeneratorBoundServersApart() {
        List<Measurement> ms = List.of(
                run("flash-amped", 1, 0.50), run("nginx", 1, 0.80),
                run("flash-amped", 2, 0.60), run("nginx", 2, 0.60),
                run("flash-amped", 3, 0.40), run("nginx", 3, 0.90));
        ResultTable t = new ResultTable(ms, "filesize");
        assertThat(ms.getFirst().serverUsPerRequest()).isCloseTo(500.0, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(ms.getFirst().generatorUsPerRequest()).isCloseTo(990.0, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(t.ratio("flash-amped", "nginx", "50KiB")).isEqualTo(new Stats(1.0, 1.0, 1.0, 3));
        assertThat(t.cpuRatio("flash-amped", "nginx", "50KiB")).isEqualTo(new Stats(1.6, 1.0, 2.25, 3));
        assertThat(SummaryWriter.render(ms, new SummaryWriter.Context("x", "t", 1, List.of(), List.of(), 3, 10)))
                .contains("| 50KiB | 1.60 (1.00–2.25) |");
    }

    /** 10,000 requests in 10 s at the given share of a core: {@code cpu} * 1,000 microseconds per request. */
    private static Measurement run(String server, int run, double cpu) {
        WrkResult r = new WrkResult(1000, 50, 1, 2, 10_000, 0, 0);
        return new Measurement("filesize", server, "x", "50KiB", 51200, run, 50, 10, r, cpu, 0.99, 1, 1, 1, false,
                false, "raw");
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

    /** A run in which the server served nothing is a ratio of 0, not a run left out. */
    @Test
    void aCollapsedRunCountsAsZero() {
        List<Measurement> ms = List.of(
                Fixtures.m("traces", "flash-amped", "nasa", 0, 1, 0),
                Fixtures.m("traces", "nginx", "nasa", 0, 1, 100),
                Fixtures.m("traces", "flash-amped", "nasa", 0, 2, 150),
                Fixtures.m("traces", "nginx", "nasa", 0, 2, 50));
        assertThat(new ResultTable(ms, "traces").ratio("flash-amped", "nginx", "nasa"))
                .isEqualTo(new Stats(1.5, 0.0, 3.0, 2));
    }
}
