package flash.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TraceDocRootTest {
    private static final ClfTrace.Request PAGE = new ClfTrace.Request("/software/winvn/winvn.html", 9867);
    /** The whole trace's log line 99,555; the --quick prefix (60,000 requests) ends before it. */
    private static final ClfTrace.Request DIRECTORY = new ClfTrace.Request("/software/winvn/winvn.html/", 9867);
    private static final ClfTrace.Request IMAGE = new ClfTrace.Request("/software/winvn/wvsmall.gif", 13372);

    @Test
    void aPathThatIsAlsoADirectoryIsServedAsItsIndex(@TempDir Path root) throws IOException {
        TraceDocRoot.Built built = TraceDocRoot.build(List.of(PAGE, DIRECTORY, IMAGE, PAGE), root, Long.MAX_VALUE);

        assertThat(built.paths()).containsExactly("/software/winvn/winvn.html/index.html",
                "/software/winvn/winvn.html/index.html", "/software/winvn/wvsmall.gif",
                "/software/winvn/winvn.html/index.html");
        assertPageIsAnIndexBesideTheImage(root);
    }

    /** A --quick run's shorter trace left winvn.html a file; the full trace needs it as a directory (the harness stopped). */
    @Test
    void aLongerTraceRebuildsARootWhereAShorterOneLeftAFileInTheWay(@TempDir Path root) throws IOException {
        TraceDocRoot.build(List.of(PAGE, IMAGE), root, Long.MAX_VALUE);
        assertThat(root.resolve("software/winvn/winvn.html")).isRegularFile();

        TraceDocRoot.Built built = TraceDocRoot.build(List.of(PAGE, IMAGE, DIRECTORY), root, Long.MAX_VALUE);

        assertThat(built.paths()).contains("/software/winvn/winvn.html/index.html");
        assertPageIsAnIndexBesideTheImage(root);
    }

    @Test
    void aShorterTraceRebuildsARootWhereALongerOneLeftADirectoryInTheWay(@TempDir Path root) throws IOException {
        TraceDocRoot.build(List.of(PAGE, DIRECTORY), root, Long.MAX_VALUE);
        assertThat(root.resolve("software/winvn/winvn.html")).isDirectory();

        TraceDocRoot.Built built = TraceDocRoot.build(List.of(PAGE), root, Long.MAX_VALUE);

        assertThat(built.paths()).containsExactly("/software/winvn/winvn.html");
        assertThat(root.resolve("software/winvn/winvn.html")).isRegularFile();
        assertThat(Files.size(root.resolve("software/winvn/winvn.html"))).isEqualTo(9867);
    }

    private static void assertPageIsAnIndexBesideTheImage(Path root) throws IOException {
        assertThat(Files.size(root.resolve("software/winvn/winvn.html/index.html"))).isEqualTo(9867);
        assertThat(Files.size(root.resolve("software/winvn/wvsmall.gif"))).isEqualTo(13372);
    }
}
