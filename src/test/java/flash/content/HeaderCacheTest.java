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

    private static String date(ByteBuffer head) { return date(text(head)); }

    private static String date(String h) {
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
        assertThat(first.isDirect()).as("first encoded: on the heap").isFalse();
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

    /**
     * Each of the four variants (HTTP/1.0 or 1.1, keep-alive or close) keeps its own head, fresh and re-dated: the
     * slot holds them in four fields, and a mix-up would answer a keep-alive request with a close, or 1.0 with 1.1.
     * The keep-alive 1.1 head is asked for first, as the entry's only one (the slot is then that head itself), and
     * must survive the move to four fields: the stale pass finds all four, with no fifth encoding.
     */
    @Test
    void eachVariantKeepsItsOwnHeadFreshAndRedated() throws Exception {
        HeaderCache cache = new HeaderCache(true, 0);
        FileEntry e = entry();
        boolean[][] variants = {{false, false}, {false, true}, {true, false}, {true, true}};
        String[] first = new String[4];
        long second = HttpDate.currentSecond();
        for (int i = 0; i < 4; i++) first[i] = text(cache.fullResponseHead(e, variants[i][0], variants[i][1]));
        for (int i = 0; i < 4; i++) {
            boolean http10 = variants[i][0], close = variants[i][1];
            String expected = text(ByteBuffer.wrap(HeaderCache.encode(e, http10, close).finish(0)));
            assertThat(first[i].replace(date(first[i]), "")).as("variant %d", i).isEqualTo(expected.replace(date(expected), ""));
            assertThat(first[i]).startsWith(http10 ? "HTTP/1.0 200" : "HTTP/1.1 200");
        }
        assertThat(java.util.Set.of(first)).as("four different heads").hasSize(4);
        nextSecond(second);
        long now = HttpDate.currentSecond();
        String[] stale = new String[4];
        for (int i = 3; i >= 0; i--) stale[i] = text(cache.fullResponseHead(e, variants[i][0], variants[i][1]));
        org.junit.jupiter.api.Assumptions.assumeTrue(HttpDate.currentSecond() == now, "the calls straddled a second");
        String today = new String(HttpDate.nowBytes(), StandardCharsets.US_ASCII);
        for (int i = 0; i < 4; i++) {
            assertThat(stale[i]).as("variant %d re-dated", i).isEqualTo(first[i].replace(date(first[i]), today));
        }
        assertThat(cache.misses.sum()).isEqualTo(4);
    }

    /**
     * A file asked for a few times a second, as every file of a big site under random traffic is, keeps no re-dated
     * copy: each kept copy lived a second, long enough to be promoted, and the old generation grew by 330-490 KB a
     * second on the 20,000-file site, with no full collection to free it (docs/performance.md section 30). Eight asks
     * in one second: heap copies only.
     */
    @Test
    void aFileAskedForAFewTimesASecondKeepsNoCopy() throws Exception {
        HeaderCache cache = new HeaderCache(true, 0);
        FileEntry e = entry();
        long second = HttpDate.currentSecond();
        cache.fullResponseHead(e, false, false);
        nextSecond(second);
        long now = HttpDate.currentSecond();
        ByteBuffer[] heads = new ByteBuffer[8];
        for (int i = 0; i < heads.length; i++) heads[i] = cache.fullResponseHead(e, false, false);
        org.junit.jupiter.api.Assumptions.assumeTrue(HttpDate.currentSecond() == now, "the calls straddled a second");
        for (int i = 0; i < heads.length; i++) assertThat(heads[i].isDirect()).as("head %d", i).isFalse();
    }

    /**
     * A stale head for a request whose body was read into a pooled buffer (an unheld file) is copied into the room in
     * front of that body: direct memory, no heap buffer for the socket write to copy again (docs/performance.md
     * section 28). Same bytes as the heap copy it replaces.
     */
    @Test
    void aStaleHeadForAnUnheldReadGoesInFrontOfItsPooledBody() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(flash.sys.Native.available() && flash.sys.Native.fdAccess(),
                "needs the native layer");
        Path root = Files.createDirectories(dir.resolve("www"));
        Path f = Files.write(root.resolve("f.bin"), new byte[20_000]);
        // a Last-Modified unlike any Date here, so that the comparisons below remove only the Date
        Files.setLastModifiedTime(f, java.nio.file.attribute.FileTime.fromMillis(1_600_000_000_000L));
        PathTranslator translator = new PathTranslator(root, false, false, false, 64 * 1024);
        PathCache paths = new PathCache(1000, 1, Long.MAX_VALUE); // holds no bytes: every read is unheld
        try {
            staleHeadInFrontOfThePooledBody(translator, paths);
        } finally {
            paths.clear(); // the process's descriptor budget is shared with other tests
        }
    }

    private void staleHeadInFrontOfThePooledBody(PathTranslator translator, PathCache paths) throws Exception {
        CacheFixture.translate(translator, paths, "/f.bin");
        HeaderCache cache = new HeaderCache(true, 0);
        long second = HttpDate.currentSecond();
        FileEntry e = read(paths);
        ByteBuffer first = cache.fullResponseHead(e, false, false);
        e.release();
        nextSecond(second);

        long now = HttpDate.currentSecond();
        FileEntry unheld = read(paths);
        ByteBuffer head = cache.fullResponseHead(unheld, false, false);
        FileEntry inMemory = entry();
        inMemory.headerCacheSlot(unheld.headerCacheSlot()); // the same cached head, for an entry with no pooled body
        ByteBuffer heap = cache.fullResponseHead(inMemory, false, false);
        org.junit.jupiter.api.Assumptions.assumeTrue(HttpDate.currentSecond() == now, "the calls straddled a second");
        assertThat(head.isDirect()).as("in the pooled body's room").isTrue();
        assertThat(heap.isDirect()).as("no pooled body: a heap copy, as before").isFalse();
        assertThat(text(head)).isEqualTo(text(heap));
        assertThat(date(head)).isEqualTo(new String(HttpDate.nowBytes(), StandardCharsets.US_ASCII));
        assertThat(text(head).replace(date(head), "")).isEqualTo(text(first).replace(date(first), ""));
        unheld.release();
    }

    private static FileEntry read(PathCache paths) {
        return ((Translation.Found) paths.lookup(CacheFixture.target("/f.bin"))).entry();
    }
}
