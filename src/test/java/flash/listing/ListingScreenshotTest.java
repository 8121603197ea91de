package flash.listing;

import flash.config.Architecture;
import flash.testing.TestServer;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The listing as a person sees it: headless Chromium renders it to a PNG, which must be a real page (the window's
 * size, many colours from anti-aliased text, dark text over most of the table's rows), not a blank or an error page.
 * The PNG stays in target/ for a look: target/listing-screenshot.png.
 */
class ListingScreenshotTest {
    static final int WIDTH = 1000, HEIGHT = 700;

    static Path chromium() {
        for (String p : List.of("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")) {
            if (Files.isExecutable(Path.of(p))) return Path.of(p);
        }
        return null;
    }

    @Test
    void chromiumDrawsTheListing() throws Exception {
        Path chromium = chromium();
        assumeTrue(chromium != null, "chromium is not installed (apt-get install chromium): screenshot not taken");
        Path png = Path.of("target", "listing-screenshot.png").toAbsolutePath();
        Files.createDirectories(png.getParent());
        Files.deleteIfExists(png);
        Path profile = Files.createTempDirectory("flash-chromium-");
        try (TestServer s = TestServer.start(ListingFixture.root(), Architecture.AMPED, c -> c.withListDirs(true))) {
            List<String> cmd = new ArrayList<>(List.of(chromium.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--hide-scrollbars", "--user-data-dir=" + profile, "--screenshot=" + png,
                    "--window-size=" + WIDTH + "," + HEIGHT, s.uri("/?sort=size&order=desc").toString()));
            Path log = Files.createTempFile("flash-chromium-", ".log");
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            boolean done = p.waitFor(120, TimeUnit.SECONDS);
            if (!done) p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            String out = Files.readString(log);
            Files.deleteIfExists(log);
            assertThat(done).as("chromium finished: " + out).isTrue();
            assertThat(png).as("chromium wrote the screenshot: " + out).exists();
        } finally {
            flash.testing.Fixtures.deleteTree(profile);
        }
        BufferedImage img = ImageIO.read(png.toFile());
        assertThat(img).isNotNull();
        assertThat(img.getWidth()).isEqualTo(WIDTH);
        assertThat(img.getHeight()).isEqualTo(HEIGHT);
        Set<Integer> colours = new HashSet<>();
        int dark = 0;
        int[] darkRows = new int[HEIGHT];
        for (int y = 0; y < HEIGHT; y++) {
            for (int x = 0; x < WIDTH; x++) {
                int rgb = img.getRGB(x, y) & 0xffffff;
                colours.add(rgb);
                int lum = ((rgb >> 16 & 0xff) * 299 + (rgb >> 8 & 0xff) * 587 + (rgb & 0xff) * 114) / 1000;
                if (lum < 100) {
                    dark++;
                    darkRows[y]++;
                }
            }
        }
        // Text is anti-aliased: a page with words has dozens of shades; a blank or single-colour page has one or two.
        assertThat(colours.size()).as("distinct colours").isGreaterThan(40);
        assertThat(dark).as("dark (text) pixels").isGreaterThan(2000);
        // Text spread over the title and the ten rows (header, parent-less root: 8 entries, footer), not one blob.
        int rowsWithText = 0;
        for (int y = 0; y < HEIGHT; y++) if (darkRows[y] > 0) rowsWithText++;
        assertThat(rowsWithText).as("pixel rows with text").isGreaterThan(100);
    }
}
