package flash.http;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import flash.content.PathTranslator;
import flash.content.Translation;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Arbitrary raw paths through RequestTarget and PathTranslator: a normalised path never keeps "." or ".."
 * segments, separators or control characters inside a segment, and nothing translated resolves outside the
 * root (with symlinks not followed), although the root has links pointing out and a secret next to it.
 */
class PathFuzzTest {
    private static Path tmp;
    private static Path root;
    private static PathTranslator translator;

    @BeforeAll
    static void layout() throws IOException {
        tmp = Files.createTempDirectory("flash-pathfuzz").toRealPath();
        root = Files.createDirectories(tmp.resolve("root"));
        Files.writeString(tmp.resolve("secret"), "secret");
        Files.createDirectories(tmp.resolve("outside"));
        Files.writeString(root.resolve("index.html"), "index");
        Files.writeString(Files.createDirectories(root.resolve("a/b")).resolve("c.txt"), "c");
        Files.writeString(root.resolve(".hidden"), "h");
        Files.createSymbolicLink(root.resolve("out"), Path.of("../secret"));
        Files.createSymbolicLink(root.resolve("a/up"), Path.of("../../outside"));
        Files.createSymbolicLink(root.resolve("a/in"), Path.of("b"));
        translator = new PathTranslator(root, false, false, true, 1024);
    }

    @AfterAll
    static void cleanup() throws IOException {
        try (Stream<Path> s = Files.walk(tmp)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    @FuzzTest
    void translatedPathsStayInsideTheRoot(FuzzedDataProvider data) {
        String raw = "/" + data.consumeRemainingAsAsciiString();
        Object n = RequestTarget.normalize(raw);
        if (n instanceof BadRequest) return;
        RequestTarget.Normalized path = (RequestTarget.Normalized) n;
        assertThat(path.path()).startsWith("/");
        for (String seg : path.segments()) {
            assertThat(seg).isNotEmpty().isNotEqualTo(".").isNotEqualTo("..").doesNotContain("/", "\\", "\0");
            assertThat(seg.chars().noneMatch(c -> c < 0x20 || c == 0x7f)).as(seg).isTrue();
        }
        Translation t = translator.translate(path);
        if (t instanceof Translation.Found f) {
            assertThat(f.entry().path().normalize()).startsWith(root);
            f.entry().release();
        }
    }
}
