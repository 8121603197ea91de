package flash.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResultsCsvTest {
    @Test
    void writesHeaderAndOneRowPerRun(@TempDir Path dir) throws IOException {
        Path csv = dir.resolve("results.csv");
        ResultsCsv.write(csv, List.of(Fixtures.m("filesize", "nginx", "1KiB", 1024, 2, 39_600.5)));
        List<String> lines = Files.readAllLines(csv);
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0)).startsWith("experiment,server,arch,param,x,run,connections,duration_s,req_s,mb_s,"
                + "p50_ms,p99_ms");
        String[] head = lines.get(0).split(",");
        String[] row = lines.get(1).split(",");
        assertThat(row).hasSameSizeAs(head);
        assertThat(row[0]).isEqualTo("filesize");
        assertThat(row[1]).isEqualTo("nginx");
        assertThat(row[3]).isEqualTo("1KiB");
        assertThat(row[4]).isEqualTo("1024");
        assertThat(row[5]).isEqualTo("2");
        assertThat(row[8]).isEqualTo("39600.5000");
        assertThat(row[List.of(head).indexOf("rss_kb")]).isEqualTo("21024");
        assertThat(row[List.of(head).indexOf("starved")]).isEqualTo("false");
    }

    @Test
    void quotesFieldsThatNeedIt() {
        assertThat(ResultsCsv.esc("plain")).isEqualTo("plain");
        assertThat(ResultsCsv.esc("a,b")).isEqualTo("\"a,b\"");
        assertThat(ResultsCsv.esc("say \"hi\"")).isEqualTo("\"say \"\"hi\"\"\"");
    }
}
