package flash.cgi;

import flash.config.Architecture;
import flash.config.CgiRoute;
import flash.testing.ArchServers;
import flash.testing.RawClient;
import flash.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The AMPED principle for CGI: scripts that say nothing for a long time hold pump threads, never a loop, so
 * static files keep being served at once. Not mp: its few workers each hold one connection, and the hanging
 * ones take them all (the paper's point about MP).
 */
class CgiIsolationTest {
    private static final ArchServers SERVERS = new ArchServers(arch -> TestServer.start(CgiScripts.ROOT, arch,
            c -> c.withCgis(List.of(CgiRoute.parse("/cgi-bin=" + CgiScripts.DIR))).withCgiTimeout(Duration.ofSeconds(4))));
    private static int tags;

    @AfterAll
    static void stop() { SERVERS.close(); }

    static Stream<Architecture> archs() { return TestServer.allArchs().stream().filter(a -> a != Architecture.MP); }

    @ParameterizedTest(name = "{0}")
    @MethodSource("archs")
    void silentScriptsNeverSlowStaticFiles(Architecture arch) throws Exception {
        int port = SERVERS.get(arch).port();
        List<RawClient> hanging = new ArrayList<>();
        List<String> tagsUsed = new ArrayList<>();
        try {
            for (int i = 0; i < 6; i++) { // more than the test server's two loops
                String tag = arch.cliName() + "-iso-" + (++tags);
                tagsUsed.add(tag);
                RawClient c = new RawClient(port);
                c.send("GET /cgi-bin/hang.cgi?" + tag + " HTTP/1.1\r\nHost: t\r\n\r\n");
                hanging.add(c);
            }
            for (String t : tagsUsed) CgiScripts.pids(t); // every script is running
            for (int i = 0; i < 20; i++) {
                try (RawClient c = new RawClient(port)) {
                    c.timeout(5_000); // a stalled loop or a pinned carrier never answers; no timing is asserted
                    c.send("GET /page.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
                    RawClient.Response r = c.read();
                    assertThat(r.status()).isEqualTo(200);
                }
            }
        } finally {
            for (RawClient c : hanging) c.close();
        }
        for (String t : tagsUsed) {
            long[] pids = CgiScripts.pids(t);
            // the clients went away without the scripts ever writing: killed at the latest at the timeout (a silent script is not watched for a client gone, as a silent upstream is not)
            assertThat(CgiScripts.awaitGone(pids[0], 15_000)).isTrue();
            assertThat(CgiScripts.awaitGone(pids[1], 15_000)).isTrue();
        }
    }
}
