package flash.config;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * --cache-mb's default follows the machine's memory below 4 GiB (docs/performance.md, "Footprint"); --path-cache's
 * follows the memory and the heap (section 22).
 */
class CacheDefaultTest {
    private static final long MIB = 1L << 20, GIB = 1L << 30;

    @Test
    void aSixteenthOfTheMachineBetween16And256MiB() {
        assertThat(ServerConfig.cacheBytesFor(24 * GIB)).isEqualTo(256 * MIB);
        assertThat(ServerConfig.cacheBytesFor(4 * GIB)).isEqualTo(256 * MIB);
        assertThat(ServerConfig.cacheBytesFor(2 * GIB)).isEqualTo(128 * MIB);
        assertThat(ServerConfig.cacheBytesFor(512 * MIB)).isEqualTo(32 * MIB);
        assertThat(ServerConfig.cacheBytesFor(128 * MIB)).isEqualTo(16 * MIB);
        assertThat(ServerConfig.cacheBytesFor(-1)).as("memory unknown").isEqualTo(256 * MIB);
    }

    @Test
    void theDefaultIsOneOfThose() {
        assertThat(ServerConfig.DEFAULT_CACHE_BYTES).isBetween(16 * MIB, 256 * MIB);
        assertThat(ServerConfig.defaults(java.nio.file.Path.of(".")).cacheBytes()).isEqualTo(ServerConfig.DEFAULT_CACHE_BYTES);
    }

    @Test
    void pathCacheASixteenthOfTheMachineAndAQuarterOfTheHeapAtAbout1KiBEachBetween20000And200000() {
        assertThat(ServerConfig.pathCacheFor(24 * GIB, GIB)).isEqualTo(200_000);
        assertThat(ServerConfig.pathCacheFor(4 * GIB, GIB)).isEqualTo(200_000);
        assertThat(ServerConfig.pathCacheFor(2 * GIB, GIB)).isEqualTo(116_508);
        assertThat(ServerConfig.pathCacheFor(512 * MIB, GIB)).isEqualTo(29_127);
        assertThat(ServerConfig.pathCacheFor(128 * MIB, GIB)).isEqualTo(20_000);
        assertThat(ServerConfig.pathCacheFor(24 * GIB, 256 * MIB)).as("a small heap bounds it").isEqualTo(58_254);
        assertThat(ServerConfig.pathCacheFor(-1, GIB)).as("memory unknown: the heap").isEqualTo(200_000);
        assertThat(ServerConfig.pathCacheFor(-1, -1)).as("neither known").isEqualTo(50_000);
        assertThat(ServerConfig.DEFAULT_PATH_CACHE).isBetween(20_000, 200_000);
    }
}
