package flash.dispatch;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** An mp worker's heap ceiling leaves room for its path cache when full (docs/performance.md section 22). */
class PreforkHeapTest {
    @Test
    void sixtyFourMiBPlusAbout1KiBPerEntry() {
        assertThat(Prefork.workerHeapMb(0)).isEqualTo(64);
        assertThat(Prefork.workerHeapMb(50_000)).isEqualTo(64 + 55);
        assertThat(Prefork.workerHeapMb(200_000)).isEqualTo(64 + 220);
    }
}
