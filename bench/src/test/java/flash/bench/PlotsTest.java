package flash.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlotsTest {
    @Test
    void writesOnePngPerExperiment(@TempDir Path dir) throws IOException {
        List<Path> files = Plots.writeAll(Fixtures.everyExperiment(), dir);
        assertThat(files).extracting(p -> p.getFileName().toString()).containsExactly("fig-filesize.png",
                "fig-traces.png", "fig-dataset.png", "fig-bigsite.png", "fig-ablation.png", "fig-concurrency.png");
        for (Path f : files) {
            BufferedImage img = ImageIO.read(f.toFile());
            assertThat(img).as(f.toString()).isNotNull();
            assertThat(img.getWidth()).isGreaterThanOrEqualTo(Plots.W);
            assertThat(img.getHeight()).isGreaterThanOrEqualTo(Plots.H);
        }
        // two panels side by side where the paper pairs throughput with bandwidth or latency
        assertThat(ImageIO.read(dir.resolve("fig-filesize.png").toFile()).getWidth()).isGreaterThanOrEqualTo(2 * Plots.W);
    }

    @Test
    void writesNothingForExperimentsWithoutData(@TempDir Path dir) throws IOException {
        List<Measurement> onlyTraces = Fixtures.everyExperiment().stream()
                .filter(m -> m.experiment().equals("traces")).toList();
        assertThat(Plots.writeAll(onlyTraces, dir)).hasSize(1);
        assertThat(Files.exists(dir.resolve("fig-filesize.png"))).isFalse();
    }
}
