package flash.content;

import flash.http.HttpDate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The response-head cache re-dates a head once its second has passed. A head asked for again and again within a
 * second is re-dated into direct memory and kept; one asked for rarely gets a heap copy per response that is not kept
 * (issue #11: on a site larger than the caches, a kept direct copy per request filled the old generation).
 */
class HeaderCacheTest {
    @TempDir Path dir;

    private FileEntry entry() throws Exception {
        Path f = Files.writeString(dir.resolve("a.txt"), "hello");
        ByteBuffer body = ByteBuffer.wrap("hello".getBytes(StandardCharsets.US_ASCII));
        return new FileEntry(f, 5, 1_600_000_000_000L, null, "text/plain", body, null); // a Last-Modified unlike any Date here
    }

    private static String text(ByteBuffer b) { return StandardCharsets.US_ASCII.decode(b.duplicate()).toString(); }

    private static String date(ByteBuffer head) {
        String h = text(head);
        int at = h.indexOf("Date: ");
        return h.substring(at + 6, at + 6 + HttpDate.LENGTH);
    }

    /** Waits (polling, no assertion on time) until the clock's second differs from {@code second}. */
    private static void nextSecond(long second) throws InterruptedException {
        while (HttpDate.currentSecond() == second) Thread.sleep(20);
    }

    @Test
    void aStaleHeadIsRedatedAndKeptOnlyOnceItIsAskedForOftenWithinASecond() throws Exception {
        HeaderCache cache = new HeaderCache(true, 0);
        FileEntry e = entry();
        long second = HttpDate.currentSecond();
        ByteBuffer first = cache.fullResponseHead(e, false, false);
        assertThat(first.isDirect()).isTrue();
        if (HttpDate.currentSecond() != second) { // the first encoding straddled a second: start again from here
            second = HttpDate.currentSecond();
            first = cache.fullResponseHead(e, false, false);
        }
        nextSecond(second);

        ByteBuffer[] heads = new ByteBuffer[HeaderCache.KEEP_AFTER_USES + 2];
        long now = HttpDate.currentSecond();
        for (int i = 0; i < heads.length; i++) heads[i] = cache.fullResponseHead(e, false, false);
        org.junit.jupiter.api.Assumptions.assumeTrue(HttpDate.currentSecond() == now, "the calls straddled a second");

        String today = new String(HttpDate.nowBytes(), StandardCharsets.US_ASCII);
        for (int i = 0; i < heads.length; i++) {
            assertThat(date(heads[i])).as("head %d", i).isEqualTo(today);
            // everything but the Date is the head first encoded
            assertThat(text(heads[i]).replace(today, "")).isEqualTo(text(first).replace(date(first), ""));
        }
        // asked for fewer than KEEP_AFTER_USES times in the new second: heap copies for those responses only
        for (int i = 0; i < HeaderCache.KEEP_AFTER_USES - 1; i++) assertThat(heads[i].isDirect()).as("head %d", i).isFalse();
        // from then on a direct copy, kept: the following hits share its memory
        ByteBuffer kept = heads[HeaderCache.KEEP_AFTER_USES - 1];
        assertThat(kept.isDirect()).isTrue();
        for (int i = HeaderCache.KEEP_AFTER_USES; i < heads.length; i++) {
            assertThat(heads[i].isDirect()).isTrue();
            assertThat(heads[i].compareTo(kept)).isZero();
        }
        assertThat(cache.misses.sum()).isEqualTo(1);
    }
}
