package flash.cli;

import flash.config.CompressionConfig;
import flash.config.ServerConfig;
import flash.testing.Fixtures;
import flash.testing.FlashProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The compression flags land in the configuration with the record's defaults; bad values are one line and status 2. */
class CompressionOptionsTest {
    private static final String ROOT = Fixtures.root().toString();

    private static ServerConfig parse(String... args) throws Exception {
        ServeCommand cmd = new ServeCommand();
        new CommandLine(cmd).parseArgs(args);
        return cmd.config();
    }

    @Test
    void offByDefaultWithTheRecordsDefaults() throws Exception {
        assertThat(parse(ROOT).compression()).isEqualTo(CompressionConfig.DEFAULTS);
        assertThat(CompressionConfig.DEFAULTS.enabled()).isFalse();
    }

    @Test
    void flagsReplaceTheDefaults() throws Exception {
        CompressionConfig z = parse(ROOT, "--precompressed", "--compress", "--compress-level", "9", "--zstd-level", "7",
                "--compress-min-size", "0", "--compress-cache-mb", "8").compression();
        assertThat(z).isEqualTo(new CompressionConfig(true, true, 9, 7, 0, 8L << 20));
        assertThat(z.maxSize()).isEqualTo(1L << 20);
    }

    @Test
    void helpDescribesTheOptions() throws Exception {
        try (FlashProcess p = FlashProcess.start("serve", "--help")) {
            String out = String.join("\n", p.remainingStdout());
            assertThat(p.exitCode()).isZero();
            assertThat(out).contains("--precompressed", "--compress", "--compress-level=N", "--zstd-level=N",
                    "--compress-min-size=BYTES", "--compress-cache-mb=MB", "Accept-Encoding");
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "--compress-level | 0 | --compress-level",
            "--compress-level | 10 | --compress-level",
            "--zstd-level | 20 | --zstd-level",
            "--compress-min-size | -1 | --compress-min-size",
            "--compress-cache-mb | -5 | --compress-cache-mb"})
    void badValuesAreOneLineAndStatus2(String flag, String value, String named) throws Exception {
        try (FlashProcess p = FlashProcess.start("serve", ROOT, "--port", "0", "--compress", flag, value)) {
            List<String> err = p.stderrLines();
            assertThat(p.exitCode()).as("exit status; stderr %s", err).isEqualTo(2);
            assertThat(err).hasSize(1);
            assertThat(err.getFirst()).startsWith("flash: ").contains(named).doesNotContain("Exception");
        }
    }
}
