package flash.http;

import flash.config.Architecture;
import flash.testing.RawClient;
import flash.testing.RequestVector;
import flash.testing.TestServer;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Replays every vector of {@code corpus/requests/} over a raw socket against a live server of each
 * architecture: the responses must carry the listed statuses in order, and then the connection must be
 * closed by the server ({@code close}) or still serve a plain GET ({@code keep}).
 */
class RequestCorpusLiveTest {
    private static final String SECRET = "corpus-secret-7f3a9c";

    static List<Architecture> archs() { return TestServer.allArchs(); }

    @ParameterizedTest(name = "{0}")
    @MethodSource("archs")
    void everyVectorGetsItsExpectedAnswer(Architecture arch, @TempDir Path tmp) throws IOException {
        Path root = Files.createDirectories(tmp.resolve("root"));
        Files.writeString(root.resolve("index.html"), "<p>index</p>");
        Files.writeString(tmp.resolve("secret"), SECRET);
        List<RequestVector> vectors = RequestVector.loadAll("/corpus/requests");
        SoftAssertions soft = new SoftAssertions();
        try (TestServer server = TestServer.start(root, arch)) {
            for (RequestVector v : vectors) replay(server.port(), v, soft);
        }
        soft.assertAll();
    }

    private static void replay(int port, RequestVector v, SoftAssertions soft) throws IOException {
        String label = v.name() + " (" + v.why() + ")";
        try (RawClient c = new RawClient(port)) {
            c.timeout(5_000); // a vector that leaves the server waiting fails fast instead of hanging the suite
            c.send(v.bytes());
            for (int i = 0; i < v.statuses().size(); i++) {
                RawClient.Response r = c.read();
                soft.assertThat(r.status()).as("%s: response %d", label, i + 1).isEqualTo(v.statuses().get(i));
                soft.assertThat(r.bodyText()).as("%s: body", label).doesNotContain(SECRET);
                if (i == 0) {
                    for (String h : v.expectedHeaders()) {
                        int colon = h.indexOf(':');
                        soft.assertThat(r.header(h.substring(0, colon))).as("%s: header", label).isEqualTo(h.substring(colon + 1).trim());
                    }
                }
            }
            if (v.close()) {
                soft.assertThat(c.closedByServer()).as("%s: server closes", label).isTrue();
            } else {
                c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
                soft.assertThat(c.read().status()).as("%s: connection still usable", label).isEqualTo(200);
            }
        } catch (IOException e) {
            soft.fail(label + ": " + e);
        }
    }
}
