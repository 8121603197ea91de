package flash.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

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

    /** A container's limit lowers the memory read, under cgroup v2 or v1; an unlimited one ("max", ~2^63) does not. */
    @Test
    void theMemoryIsMemTotalOrAContainersLimitWhenLower(@TempDir Path dir) throws IOException {
        Path meminfo = Files.writeString(dir.resolve("meminfo"), "MemTotal:        4000000 kB\nMemFree: 1 kB\n");
        Path v2 = dir.resolve("memory.max"), v1 = dir.resolve("memory.limit_in_bytes");
        Path missing = dir.resolve("none");
        assertThat(ServerConfig.physicalMemory(meminfo, List.of(missing))).isEqualTo(4_000_000L * 1024);
        Files.writeString(v2, "max\n");
        Files.writeString(v1, "9223372036854771712\n");
        assertThat(ServerConfig.physicalMemory(meminfo, List.of(v2, v1))).as("unlimited").isEqualTo(4_000_000L * 1024);
        Files.writeString(v1, "1073741824\n");
        assertThat(ServerConfig.physicalMemory(meminfo, List.of(v2, v1))).as("a v1 limit").isEqualTo(GIB);
        Files.writeString(v2, "536870912\n");
        assertThat(ServerConfig.physicalMemory(meminfo, List.of(v2, v1))).as("the lower of two").isEqualTo(512 * MIB);
        assertThat(ServerConfig.physicalMemory(missing, List.of(v1))).as("no meminfo").isEqualTo(GIB);
        assertThat(ServerConfig.physicalMemory(missing, List.of(missing))).as("nothing known").isEqualTo(-1);
        assertThat(ServerConfig.CGROUP_LIMITS).extracting(Path::toString)
                .containsExactly("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes");
    }
}
