package flash.dispatch;

import flash.pipeline.Completion;
import flash.pipeline.ErrorCause;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** The error log's rate limit, on a clock the test moves: one line per cause per interval, and what it left out. */
class ErrorLogTest {
    private static final long SECOND = 1_000_000_000L;

    private final AtomicLong now = new AtomicLong(-5 * SECOND); // nanoTime may be negative
    private final List<String> lines = new ArrayList<>();
    private final ErrorLog log = new ErrorLog(SECOND, now::get, lines::add);

    private static Completion failed(int status, ErrorCause cause, String detail) {
        return new Completion(null, new java.net.InetSocketAddress("192.0.2.1", 0), status, 0, false, 0, 0, -1, cause, detail);
    }

    @Test
    void atMostOneLinePerCausePerIntervalAndTheNextSaysHowManyWereLeftOut() {
        log.completed(failed(500, ErrorCause.TRANSLATION, "boom 1"));
        for (int i = 0; i < 5; i++) {
            now.addAndGet(SECOND / 10);
            log.completed(failed(500, ErrorCause.TRANSLATION, "boom"));
        }
        log.completed(failed(502, ErrorCause.UPSTREAM, "refused")); // another cause has its own allowance
        assertThat(lines).containsExactly(
                "500 translation: (no request) from 192.0.2.1: boom 1",
                "502 upstream: (no request) from 192.0.2.1: refused");
        now.addAndGet(SECOND / 2 + 1); // 1 s and a nanosecond after the first line
        log.completed(failed(500, ErrorCause.TRANSLATION, "boom 7"));
        assertThat(lines.getLast()).isEqualTo(
                "500 translation: (no request) from 192.0.2.1: boom 7 [5 more of this cause since its last line]");
        now.addAndGet(3 * SECOND);
        log.completed(failed(500, ErrorCause.TRANSLATION, "boom 8"));
        assertThat(lines.getLast()).as("nothing left out since").isEqualTo("500 translation: (no request) from 192.0.2.1: boom 8");
        assertThat(lines).hasSize(4);
    }

    @Test
    void fiveHundredsFlashWasAskedForAreNotLoggedAndNeitherIsAnythingBelow500() {
        log.completed(failed(503, ErrorCause.UPSTREAM_STATUS, null));
        log.completed(failed(501, ErrorCause.UNSUPPORTED, null));
        log.completed(failed(404, null, null));
        assertThat(lines).isEmpty();
        log.completed(failed(500, ErrorCause.OTHER, null));
        assertThat(lines).containsExactly("500 other: (no request) from 192.0.2.1: no detail recorded");
    }

    @Test
    void aThrowableIsDescribedOnOneLineWithTheFrameInFlashThatLedThere() {
        IllegalArgumentException e;
        try {
            List<Integer> l = new ArrayList<>(List.of(1, 2));
            l.sort((a, b) -> { throw new IllegalArgumentException("Comparison method violates its general contract!"); });
            throw new AssertionError("unreachable");
        } catch (IllegalArgumentException x) {
            e = x;
        }
        String d = ErrorCause.describe(e);
        assertThat(d).doesNotContain("\n")
                .startsWith("java.lang.IllegalArgumentException: Comparison method violates its general contract! at ")
                .contains("ErrorLogTest");
    }
}
