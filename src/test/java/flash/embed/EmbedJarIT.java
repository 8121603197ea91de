package flash.embed;

import flash.testing.Fixtures;
import flash.testing.Http;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The embedding API as an application sees it: a small program is compiled against the built jar alone
 * ({@code javac -cp target/flash.jar Hello.java}), run with it ({@code java -cp target/flash.jar:. Hello}), and
 * asked for a route and a static file. The jar exists after {@code package}: this class runs in the
 * {@code integration-test} phase of {@code mvn verify} (what {@code ./flash test} runs), after the jar is built.
 */
class EmbedJarIT {
    private static final String HELLO = """
            import flash.embed.Flash;
            import java.nio.charset.StandardCharsets;
            import java.nio.file.Path;

            public class Hello {
                public static void main(String[] args) throws Exception {
                    try (Flash flash = Flash.builder()
                            .root(Path.of(args[0]))
                            .port(0)
                            .arch(args[1])
                            .route("/hello", ex -> ex.send(200, "text/plain",
                                    ("hello from " + ex.path() + "\\n").getBytes(StandardCharsets.UTF_8)))
                            .build()) {
                        flash.start();
                        System.out.println("listening on " + flash.port());
                        System.in.read(); // until the parent closes our stdin
                    }
                    System.out.println("closed");
                }
            }
            """;

    @Test
    void aProgramCompiledAgainstTheJarServesARouteAndAStaticFile() throws Exception {
        Path jar = Path.of(System.getProperty("flash.jar", "target/flash.jar")).toAbsolutePath();
        assumeTrue(Files.isRegularFile(jar), "no " + jar + ": build it with `mvn package` (mvn verify runs this test after it)");
        Path classes = Path.of("target", "classes", "flash", "embed", "Flash.class");
        assumeTrue(!Files.exists(classes) || !Files.getLastModifiedTime(jar).toInstant()
                        .isBefore(Files.getLastModifiedTime(classes).toInstant()),
                jar + " is older than the compiled classes: run `mvn package` first (mvn verify runs this test after it)");
        Path dir = Files.createTempDirectory("flash-embed-jar-");
        try {
            Files.writeString(dir.resolve("Hello.java"), HELLO);
            Path www = Files.createDirectories(dir.resolve("www"));
            Files.writeString(www.resolve("hello.txt"), Fixtures.HELLO);
            Path bin = Path.of(System.getProperty("java.home"), "bin");
            Process javac = new ProcessBuilder(bin.resolve("javac").toString(), "-cp", jar.toString(), "Hello.java")
                    .directory(dir.toFile()).redirectErrorStream(true).start();
            String javacOut = new String(javac.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(javac.waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(javac.exitValue()).as("javac: " + javacOut).isZero();
            for (String arch : List.of("amped", "vt")) {
                Path out = dir.resolve("out-" + arch + ".txt"), err = dir.resolve("err-" + arch + ".txt");
                Process app = new ProcessBuilder(bin.resolve("java").toString(), "-cp", jar + ":.", "Hello", www.toString(), arch)
                        .directory(dir.toFile()).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
                try {
                    assertThat(Http.await(() -> read(out).contains("listening on "), 60_000))
                            .as("the program started: " + read(err)).isTrue();
                    String line = read(out).lines().filter(l -> l.startsWith("listening on ")).findFirst().orElseThrow();
                    int port = Integer.parseInt(line.substring("listening on ".length()).trim());
                    assertThat(port).isPositive();
                    try (HttpClient c = Http.client()) {
                        HttpResponse<byte[]> route = Http.get(c, URI.create("http://127.0.0.1:" + port + "/hello/world"));
                        assertThat(route.statusCode()).isEqualTo(200);
                        assertThat(new String(route.body(), StandardCharsets.UTF_8)).isEqualTo("hello from /hello/world\n");
                        HttpResponse<byte[]> file = Http.get(c, URI.create("http://127.0.0.1:" + port + "/hello.txt"));
                        assertThat(file.statusCode()).isEqualTo(200);
                        assertThat(new String(file.body(), StandardCharsets.UTF_8)).isEqualTo(Fixtures.HELLO);
                        assertThat(Http.get(c, URI.create("http://127.0.0.1:" + port + "/nope")).statusCode()).isEqualTo(404);
                    }
                    app.getOutputStream().close(); // the program closes Flash and exits
                    assertThat(app.waitFor(60, TimeUnit.SECONDS)).as("the program exits: " + read(err)).isTrue();
                    assertThat(app.exitValue()).as(read(err)).isZero();
                    assertThat(read(out)).contains("closed");
                } finally {
                    app.destroyForcibly();
                }
            }
        } finally {
            Fixtures.deleteTree(dir);
        }
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (java.io.IOException e) {
            return "";
        }
    }
}
