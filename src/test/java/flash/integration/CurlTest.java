package flash.integration;

import flash.config.Architecture;
import flash.testing.AllArchs;
import flash.testing.Fixtures;
import flash.testing.SharedServers;
import flash.testing.TestServer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** A third, independent client: curl (skipped where it is not installed). */
class CurlTest {
    private static Path curl;

    @BeforeAll
    static void findCurl() {
        curl = Arrays.stream(System.getenv().getOrDefault("PATH", "").split(":"))
                .map(d -> Path.of(d, "curl")).filter(Files::isExecutable).findFirst().orElse(null);
    }

    @AllArchs
    void curlDownloadsExactBytesRangesAndHeads(Architecture arch) throws Exception {
        Assumptions.assumeTrue(curl != null, "curl is not installed");
        TestServer s = SharedServers.get(arch);
        Path out = Files.createTempFile("flash-curl-", ".bin");
        try {
            // Two transfers on one connection (curl reuses it), then a range and a HEAD.
            assertThat(run("-sS", "-o", out.toString(), "-w", "%{http_code}", s.uri("/large.bin").toString())).isEqualTo("200");
            assertThat(Files.readAllBytes(out)).isEqualTo(Fixtures.LARGE);
            assertThat(run("-sS", "-o", out.toString(), "-w", "%{http_code}", "-r", "100-199", s.uri("/small.bin").toString()))
                    .isEqualTo("206");
            assertThat(Files.readAllBytes(out)).isEqualTo(Arrays.copyOfRange(Fixtures.SMALL, 100, 200));
            String head = run("-sS", "-I", s.uri("/hello.txt").toString());
            assertThat(head).startsWith("HTTP/1.1 200").containsIgnoringCase("content-length: " + Fixtures.HELLO.length());
            assertThat(run("-sS", "-w", "%{http_code}", "-o", "/dev/null", "-X", "POST", "-d", "x", s.uri("/hello.txt").toString()))
                    .isEqualTo("405");
        } finally {
            Files.deleteIfExists(out);
        }
    }

    private static String run(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(curl.toString(), "--max-time", "30", "--noproxy", "*"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(40, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("curl %s: %s", cmd, out).isZero();
        return out;
    }
}
