package flash.dispatch;

import flash.config.CompressionConfig;
import flash.config.ServerConfig;
import flash.testing.Fixtures;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** mp workers are re-executed with argv: the compression options must reach them, the cache split between them. */
class PreforkCompressionArgsTest {
    private static String after(List<String> args, String flag) {
        int i = args.indexOf(flag);
        assertThat(i).as(flag + " in " + args).isNotNegative();
        return args.get(i + 1);
    }

    @Test
    void workersGetTheCompressionOptions() {
        ServerConfig c = ServerConfig.defaults(Fixtures.root()).withProcesses(4)
                .withCompression(new CompressionConfig(true, true, 4, 9, 2048, 64L << 20));
        List<String> a = Prefork.workerArgs(c);
        assertThat(a).contains("--precompressed", "--compress");
        assertThat(after(a, "--compress-level")).isEqualTo("4");
        assertThat(after(a, "--zstd-level")).isEqualTo("9");
        assertThat(after(a, "--compress-min-size")).isEqualTo("2048");
        assertThat(after(a, "--compress-cache-mb")).isEqualTo("16");
    }

    @Test
    void offStaysOff() {
        List<String> a = Prefork.workerArgs(ServerConfig.defaults(Fixtures.root()));
        assertThat(a).doesNotContain("--precompressed", "--compress");
        ServerConfig noCache = ServerConfig.defaults(Fixtures.root())
                .withCompression(CompressionConfig.DEFAULTS.withCompress(true).withCacheBytes(0));
        assertThat(after(Prefork.workerArgs(noCache), "--compress-cache-mb")).isEqualTo("0");
    }
}
