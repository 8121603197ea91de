package flash.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SiteAccessTest {
    private static List<String> paths(int n) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(BigSite.path(i));
        }
        return out;
    }

    @Test
    void zipfFollowsOneOverRank() {
        int n = 1000;
        int count = 400_000;
        List<String> reqs = SiteAccess.zipf(paths(n), count, 1.0, 5);
        assertThat(reqs).hasSize(count);
        Map<String, Integer> freq = new HashMap<>();
        reqs.forEach(r -> freq.merge(r, 1, Integer::sum));
        List<Integer> sorted = freq.values().stream().sorted((a, b) -> b - a).toList();
        double harmonic = 0;
        for (int k = 1; k <= n; k++) {
            harmonic += 1.0 / k;
        }
        // the most popular file gets 1/H_n of the requests (about 13% for n = 1000), the second half of that
        assertThat(sorted.get(0) / (double) count).isCloseTo(1 / harmonic, within(0.01));
        assertThat(sorted.get(0) / (double) sorted.get(1)).isCloseTo(2.0, within(0.15));
        assertThat(sorted.get(0) / (double) sorted.get(9)).isCloseTo(10.0, within(1.0));
        // and the top 10% of the files get log(100)/H_n of the requests: about 69%
        double top = sorted.subList(0, n / 10).stream().mapToInt(Integer::intValue).sum() / (double) count;
        double expected = 0;
        for (int k = 1; k <= n / 10; k++) {
            expected += 1.0 / k;
        }
        assertThat(top).isCloseTo(expected / harmonic, within(0.01));
    }

    @Test
    void zipfRanksAreNotTheNameOrderAndAreReproducible() {
        List<String> a = SiteAccess.zipf(paths(500), 50_000, 1.0, 9);
        assertThat(SiteAccess.zipf(paths(500), 50_000, 1.0, 9)).isEqualTo(a);
        Map<String, Integer> freq = new HashMap<>();
        a.forEach(r -> freq.merge(r, 1, Integer::sum));
        String top = freq.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
        // with 500 files the chance the shuffle leaves rank 1 on the first name is 1/500; seed 9 does not
        assertThat(top).isNotEqualTo(BigSite.path(0));
        assertThat(SiteAccess.zipf(paths(500), 50_000, 1.0, 10)).isNotEqualTo(a);
    }

    @Test
    void shuffledPassesAskForEveryFileOnceBeforeAnyTwice() {
        List<String> all = paths(300);
        List<String> reqs = SiteAccess.shuffledPasses(all, 1000, 3);
        assertThat(reqs).hasSize(1000);
        for (int pass = 0; pass < 3; pass++) {
            List<String> one = reqs.subList(pass * 300, pass * 300 + 300);
            assertThat(new HashSet<>(one)).hasSize(300).containsExactlyInAnyOrderElementsOf(all);
        }
        assertThat(reqs.subList(0, 300)).isNotEqualTo(all).isNotEqualTo(reqs.subList(300, 600));
        assertThat(new HashSet<>(reqs.subList(900, 1000))).hasSize(100);
        assertThat(SiteAccess.shuffledPasses(all, 1000, 3)).isEqualTo(reqs);
    }

    @Test
    void rejectsAnEmptySet() {
        assertThatThrownBy(() -> SiteAccess.zipf(List.of(), 10, 1.0, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SiteAccess.shuffledPasses(List.of(), 10, 1))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void bigSiteFilesSpanTheSizeRangeInDirectoriesOfAHundred(@TempDir Path root) throws IOException {
        long[] sizes = BigSite.sizes(5000, 16, 32, 1);
        long min = Long.MAX_VALUE;
        long max = 0;
        double sum = 0;
        for (long s : sizes) {
            min = Math.min(min, s);
            max = Math.max(max, s);
            sum += s;
        }
        assertThat(min).isGreaterThanOrEqualTo(16 * 1024).isLessThan(17 * 1024);
        assertThat(max).isLessThanOrEqualTo(32 * 1024).isGreaterThan(31 * 1024);
        assertThat(sum / sizes.length).isCloseTo(24 * 1024, within(300.0));
        assertThat(BigSite.path(12_345)).isEqualTo("/site/d123/f012345.html");

        BigSite.Built site = BigSite.create(root, 250, 1, 2);
        assertThat(site.paths()).hasSize(250).doesNotHaveDuplicates();
        assertThat(site.files()).allSatisfy(f -> assertThat(Files.size(f)).isBetween(1024L, 2048L));
        assertThat(site.bytes()).isEqualTo(site.files().stream().mapToLong(f -> {
            try {
                return Files.size(f);
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        }).sum());
        assertThat(root.resolve("site/d002/f000249.html")).exists();
    }

    @Test
    void theRequestListIsWhatTheLuaScriptReads(@TempDir Path dir) throws IOException {
        List<String> reqs = SiteAccess.zipf(paths(50), 2000, 1.0, 1);
        Path list = PathListScript.writeList(dir.resolve("lists/bigsite-zipf.txt"), reqs);
        // PathListScript's init() reads one path per non-empty line, in order
        assertThat(Files.readAllLines(list)).isEqualTo(reqs);
        Path lua = PathListScript.script(dir.resolve("lists"));
        assertThat(Files.readString(lua)).isEqualTo(PathListScript.LUA).contains("io.open(args[1]", "wrk.format(\"GET\", line)");
    }
}
