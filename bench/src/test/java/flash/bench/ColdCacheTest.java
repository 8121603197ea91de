package flash.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import flash.sys.Native;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ColdCacheTest {
    @Test
    void fincoreOutputIsSummedAndGarbageRefused() {
        assertThat(Residency.sumPages("3\n0\n  12\n\n")).isEqualTo(15L);
        assertThat(Residency.sumPages("")).isZero();
        assertThat(Residency.sumPages("3\nfincore: cannot open x\n")).isNull();
    }

    @Test
    void countShareAndDescription() {
        Residency.Count c = new Residency.Count(256, 1024, "cachestat");
        assertThat(c.share()).isEqualTo(0.25);
        assertThat(c.describe()).endsWith("(25.0%)");
        assertThat(new Residency.Count(5, 0, "x").share()).isZero();
        assertThat(ColdCache.pct(0.934)).isEqualTo("93%");
        assertThat(ColdCache.pct(Double.NaN)).isEqualTo("n/a");
    }

    /** Files just written are in the page cache; after the eviction the count must show them gone. */
    @Test
    void evictionEmptiesThePageCacheAndTheCheckSeesIt(@TempDir Path dir) throws Exception {
        assumeThat(Files.getFileStore(dir).type()).as("tmpfs pages cannot be evicted").isNotEqualTo("tmpfs");
        assumeThat(Native.available() || Tools.installed("fincore")).as("a way to count residency").isTrue();
        List<Path> files = List.of(dir.resolve("a.bin"), dir.resolve("b.bin"));
        for (Path f : files) {
            DocFiles.write(f, 1 << 20);
        }
        PageCache.load(files);
        Residency.Count loaded = Residency.of(files);
        assertThat(loaded).isNotNull();
        assertThat(loaded.totalPages()).isEqualTo(2 * Residency.pages(1 << 20));
        assertThat(loaded.share()).isGreaterThan(0.9);

        BenchLog log = new BenchLog();
        ColdCache cold = new ColdCache("test 2MiB", files, log, false);
        FlashServer server = new FlashServer("flash-amped", dir, dir.resolve("w"), dir.resolve("flash.jar"), "amped",
                List.of());
        cold.beforeRun(server, 1);
        assertThat(Residency.of(files).share()).isLessThan(0.1);

        // a "run" that reads one of the two files back: half the set, and all of the bytes served came from disk
        PageCache.load(files.subList(0, 1));
        Measurement m = Fixtures.m("dataset", "flash-amped", "2MiB", 2, 1, 1);
        Measurement served = new Measurement(m.experiment(), m.server(), m.arch(), m.param(), m.x(), 1, 50, 1,
                new WrkResult(1, 1.0, 1, 2, 1, 0, 0), 1, 0.5, 0, 0, 0, false, false, "raw");
        cold.afterRun(server, served);
        cold.summarize();
        assertThat(log.notes()).singleElement().asString()
                .startsWith("test 2MiB: after eviction 0%–")
                .contains("the runs read 50%–50% of the set back from the disk", "100%–100% of the bytes")
                .doesNotContain("WARNING");
    }

    @Test
    void aRunThatReadsTheWholeSetIsFlagged(@TempDir Path dir) throws Exception {
        assumeThat(Files.getFileStore(dir).type()).isNotEqualTo("tmpfs");
        assumeThat(Native.available() || Tools.installed("fincore")).isTrue();
        List<Path> files = List.of(dir.resolve("a.bin"));
        DocFiles.write(files.getFirst(), 256 * 1024);
        BenchLog log = new BenchLog();
        ColdCache cold = new ColdCache("small", files, log, false);
        FlashServer server = new FlashServer("flash-sped", dir, dir.resolve("w"), dir.resolve("flash.jar"), "sped",
                List.of());
        cold.beforeRun(server, 1);
        PageCache.load(files);
        cold.afterRun(server, new Measurement("dataset", "flash-sped", "sped", "0MiB", 0, 1, 50, 1,
                new WrkResult(1000, 50, 1, 2, 1000, 0, 0), 1, 0.5, 0, 0, 0, false, false, "raw"));
        cold.summarize();
        assertThat(log.notes()).singleElement().asString().contains("WARNING: some runs read back the whole set");
    }

    @Test
    void eachServerEvictsAndCountsOnlyItsOwnCopy(@TempDir Path dir) throws Exception {
        assumeThat(Files.getFileStore(dir).type()).isNotEqualTo("tmpfs");
        assumeThat(Native.available() || Tools.installed("fincore")).isTrue();
        Path a = dir.resolve("flash-amped/f.bin");
        Path b = dir.resolve("nginx/f.bin");
        DocFiles.write(a, 512 * 1024);
        DocFiles.write(b, 512 * 1024);
        PageCache.load(List.of(a, b));
        FlashServer amped = new FlashServer("flash-amped", dir, dir.resolve("w1"), dir.resolve("flash.jar"), "amped",
                List.of());
        NginxServer nginx = new NginxServer("nginx", dir, dir.resolve("w2"), false);
        ColdCache cold = new ColdCache("copies", s -> List.of(s.label().equals("nginx") ? b : a), new BenchLog(),
                false);
        cold.beforeRun(amped, 1);
        assertThat(Residency.of(List.of(a)).share()).isLessThan(0.1);
        // the other server's copy is not touched by this server's eviction
        assertThat(Residency.of(List.of(b)).share()).isGreaterThan(0.9);
        cold.beforeRun(nginx, 1);
        assertThat(Residency.of(List.of(b)).share()).isLessThan(0.1);
    }

    /** The fallback for kernels before 6.5 (no cachestat) counts the same pages. */
    @Test
    void fincoreFallbackCountsLikeCachestat(@TempDir Path dir) throws Exception {
        assumeThat(Files.getFileStore(dir).type()).isNotEqualTo("tmpfs");
        assumeThat(Tools.installed("fincore")).isTrue();
        List<Path> files = List.of(dir.resolve("a.bin"), dir.resolve("b.bin"), dir.resolve("c.bin"));
        for (Path f : files) {
            DocFiles.write(f, 300 * 1024);
        }
        PageCache.load(files);
        assertThat(Residency.viaFincore(files)).isGreaterThanOrEqualTo((long) (0.9 * 3 * Residency.pages(300 * 1024)));
        PageCache.evict(files.subList(0, 2));
        long left = Residency.viaFincore(files);
        assertThat(left).isLessThanOrEqualTo(Residency.pages(300 * 1024) + 2);
        assertThat(left).isGreaterThanOrEqualTo((long) (0.9 * Residency.pages(300 * 1024)));
    }

    @Test
    void dropCachesWithoutPermissionSaysWhy(@TempDir Path dir) {
        // never the real knob here: as root that would empty the whole machine's page cache
        assertThat(PageCache.dropAll(dir)).startsWith("cannot write " + dir + " (");
    }
}
