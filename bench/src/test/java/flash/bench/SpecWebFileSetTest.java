package flash.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpecWebFileSetTest {
    @Test
    void classSizesSpanTheSpecWeb99Ranges() {
        assertThat(SpecWebFileSet.size(0, 0)).isEqualTo(102);
        assertThat(SpecWebFileSet.size(0, 8)).isEqualTo(921);
        assertThat(SpecWebFileSet.size(1, 0)).isEqualTo(1024);
        assertThat(SpecWebFileSet.size(1, 8)).isEqualTo(9 * 1024);
        assertThat(SpecWebFileSet.size(2, 0)).isEqualTo(10 * 1024);
        assertThat(SpecWebFileSet.size(2, 8)).isEqualTo(90 * 1024);
        assertThat(SpecWebFileSet.size(3, 0)).isEqualTo(100 * 1024);
        assertThat(SpecWebFileSet.size(3, 8)).isEqualTo(900 * 1024);
        assertThat(SpecWebFileSet.bytesPerDir()).isBetween(5_000_000L, 5_300_000L);
    }

    @Test
    void createsFourClassesOfNineFilesPerDirectory(@TempDir Path root) throws IOException {
        SpecWebFileSet.create(root, 2);
        assertThat(SpecWebFileSet.files(root, 2)).hasSize(72);
        assertThat(Files.size(root.resolve("dir00001/class2_4"))).isEqualTo(50 * 1024);
    }

    @Test
    void requestMixFollowsClassWeightsAndZipfDirectories() {
        int n = 200_000;
        List<String> reqs = SpecWebFileSet.requests(20, n, true, 1);
        assertThat(reqs).hasSize(n);
        for (int c = 0; c < 4; c++) {
            String tag = "/class" + c + "_";
            double share = reqs.stream().filter(r -> r.contains(tag)).count() / (double) n;
            assertThat(share).as("class %d", c).isCloseTo(SpecWebFileSet.CLASS_MIX[c], within(0.01));
        }
        long dir0 = reqs.stream().filter(r -> r.startsWith("/dir00000/")).count();
        long dir1 = reqs.stream().filter(r -> r.startsWith("/dir00001/")).count();
        long dir19 = reqs.stream().filter(r -> r.startsWith("/dir00019/")).count();
        // Zipf alpha=1: the first directory is twice as popular as the second, 20x the last
        assertThat(dir0 / (double) dir1).isCloseTo(2.0, within(0.15));
        assertThat(dir0 / (double) dir19).isCloseTo(20.0, within(3.0));
    }

    @Test
    void uniformDirectoriesTouchTheWholeSetAndAreReproducible() {
        List<String> a = SpecWebFileSet.requests(5, 50_000, false, 7);
        for (int d = 0; d < 5; d++) {
            String prefix = String.format("/dir%05d/", d);
            assertThat(a.stream().filter(r -> r.startsWith(prefix)).count() / 50_000.0).isCloseTo(0.2, within(0.02));
        }
        assertThat(SpecWebFileSet.requests(5, 50_000, false, 7)).isEqualTo(a);
    }
}
