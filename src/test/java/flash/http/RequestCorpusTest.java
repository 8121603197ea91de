package flash.http;

import flash.content.HeaderCache;
import flash.pipeline.Responder;
import flash.pipeline.Response;
import flash.testing.RequestVector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Replays every vector of {@code corpus/requests/} against the parser and the responder's first step, with
 * no server: the statuses and the close/keep decision must match the file, and the outcome must not depend
 * on how the bytes were split. {@code RequestCorpusLiveTest} replays the same files against real servers.
 */
class RequestCorpusTest {
    /** Statuses decided after the disk lookup; at the protocol level they all mean "the request was accepted". */
    private static final Set<Integer> AFTER_DISK = Set.of(200, 206, 301, 304, 403, 404);
    private static final Responder RESPONDER = new Responder(new HeaderCache(false, 0));

    static List<RequestVector> vectors() { return RequestVector.loadAll("/corpus/requests"); }

    @Test
    void corpusIsLoaded() {
        assertThat(vectors()).hasSizeGreaterThan(100);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("vectors")
    void parserAgreesWithTheCorpus(RequestVector v) {
        List<String> got = new ArrayList<>();
        boolean closed = replay(v.bytes(), got);
        List<String> want = v.statuses().stream().map(s -> AFTER_DISK.contains(s) ? "accepted" : String.valueOf(s)).toList();
        assertThat(got).as("%s (%s)", v.name(), v.why()).isEqualTo(want);
        assertThat(closed).as("%s closes the connection", v.name()).isEqualTo(v.close());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("vectors")
    void outcomeDoesNotDependOnSegmentation(RequestVector v) {
        byte[] in = v.bytes();
        ParserFeed.Outcome whole = ParserFeed.whole(in, HttpLimits.DEFAULTS);
        // Every split point for ordinary vectors; the multi-kilobyte limit vectors get a sample of cuts.
        int step = in.length <= 4096 ? 1 : in.length / 257;
        for (int cut = 0; cut <= in.length; cut += step) {
            assertThat(ParserFeed.splitAt(in, HttpLimits.DEFAULTS, cut)).as("split at %d", cut).isEqualTo(whole);
        }
        assertThat(ParserFeed.bytewise(in, HttpLimits.DEFAULTS)).as("one byte at a time").isEqualTo(whole);
    }

    /**
     * Parses and answers requests as a connection would, up to the first response that closes; records the
     * statuses. Returns whether the connection ends closed. A keep-alive ending requires every byte consumed.
     */
    private static boolean replay(byte[] bytes, List<String> statuses) {
        RequestParser parser = new RequestParser(HttpLimits.DEFAULTS);
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        for (int guard = 0; guard < 100; guard++) {
            boolean inBody = parser.discardingBody();
            ParseResult r = parser.parse(buf);
            switch (r) {
                case ParseResult.NeedMore n -> {
                    assertThat(buf.hasRemaining()).as("incomplete request left in the buffer").isFalse();
                    assertThat(parser.idle()).as("parser waits for more of a request or body").isTrue();
                    return false;
                }
                case BadRequest b -> {
                    // A broken body of a request already answered ends the connection with no further response:
                    // the client asked nothing that a 400 could answer (Http1Connection does the same).
                    if (!inBody) statuses.add(String.valueOf(b.status().code()));
                    return true;
                }
                case Request req -> {
                    Object begun = RESPONDER.begin(req);
                    if (begun instanceof Response resp) {
                        statuses.add(String.valueOf(resp.status()));
                        if (resp.close()) return true;
                    } else {
                        assertThat(begun).isInstanceOf(RequestTarget.Normalized.class);
                        statuses.add("accepted");
                        if (!req.keepAlive()) return true;
                    }
                }
            }
        }
        throw new AssertionError("more than 100 requests in one vector");
    }
}
