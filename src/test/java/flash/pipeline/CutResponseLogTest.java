package flash.pipeline;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** The cut-response line's rate limit (a clock of the test's own) and what counts as the server's failure. */
class CutResponseLogTest {
    private static final long SECOND = 1_000_000_000L;

    @Test
    void atMostOneLineASecondAndTheNextCountsTheOnesLeftOut() {
        AtomicLong now = new AtomicLong(5 * SECOND);
        List<String> lines = new ArrayList<>();
        CutResponseLog log = new CutResponseLog(SECOND, now::get, lines::add);
        IllegalStateException defect = new IllegalStateException("Already closed");

        log.cut(defect, null, "127.0.0.1", 0);
        for (int i = 0; i < 7; i++) log.cut(defect, null, "127.0.0.1", 10);
        now.addAndGet(SECOND - 1);
        log.cut(defect, null, "127.0.0.1", 10);
        assertThat(lines).hasSize(1);
        assertThat(lines.getFirst()).startsWith("response cut by a failure on the server's side, before any byte left:"
                + " (no request) from 127.0.0.1: java.lang.IllegalStateException: Already closed").doesNotContain("more");

        now.addAndGet(1);
        log.cut(defect, null, "127.0.0.1", 4096);
        assertThat(lines).hasSize(2);
        assertThat(lines.get(1)).contains("after 4096 bytes").endsWith("[8 more since the last line]");
    }

    @Test
    void aClientGoneIsNotTheServersFailureButATruncatedFileOrADefectIs() {
        assertThat(CutResponseLog.serverSide(new IOException("Broken pipe"))).isFalse();
        assertThat(CutResponseLog.serverSide(new IOException("Connection reset by peer"))).isFalse();
        assertThat(CutResponseLog.serverSide(new IllegalStateException("Already closed"))).isTrue();
        assertThat(CutResponseLog.serverSide(new InternalError("a fault occurred in an unsafe memory access"))).isTrue();
    }
}
