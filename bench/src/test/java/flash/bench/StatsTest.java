package flash.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StatsTest {
    @Test
    void medianOfOddAndEvenCounts() {
        assertThat(Stats.of(List.of(3.0, 1.0, 2.0))).isEqualTo(new Stats(2.0, 1.0, 3.0, 3));
        assertThat(Stats.of(List.of(4.0, 1.0, 3.0, 2.0))).isEqualTo(new Stats(2.5, 1.0, 4.0, 4));
        assertThat(Stats.of(List.of(7.0))).isEqualTo(new Stats(7.0, 7.0, 7.0, 1));
    }

    @Test
    void ignoresMissingValues() {
        List<Double> v = new ArrayList<>(List.of(5.0, Double.NaN, 1.0));
        v.add(null);
        assertThat(Stats.of(v)).isEqualTo(new Stats(3.0, 1.0, 5.0, 2));
        Stats empty = Stats.of(List.of());
        assertThat(empty.n()).isZero();
        assertThat(empty.format()).isEqualTo("n/a");
    }

    @Test
    void formatsForTables() {
        assertThat(Stats.of(List.of(39_600.0, 41_200.0, 40_100.0)).format()).isEqualTo("40.1k (39.6k–41.2k)");
        assertThat(Stats.of(List.of(1.5, 2.5, 2.0)).format()).isEqualTo("2.00 (1.50–2.50)");
    }
}
