package flash.integration;

import flash.config.Architecture;
import flash.testing.AllArchs;
import flash.testing.Backend;
import flash.testing.FlashProcess;
import flash.testing.Http;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code flash serve --config FILE} as a user runs it, under every architecture (mp workers read the file
 * themselves): routes, static roots per prefix, header rules and virtual hosts from the file, command-line options
 * over the file's, and SIGHUP swapping the routes while a slow exchange finishes on the old ones.
 */
class ConfigFileServeTest {
    @TempDir Path dir;

    /** One HTTP/1.1 GET with a Host of our choosing (java.net.http will not send one): status, headers, body. */
    record Reply(int status, Map<String, String> headers, String body) {
        String header(String name) { return headers.get(name.toLowerCase(Locale.ROOT)); }
    }

    static Reply get(int port, String host, String path) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(30_000);
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            InputStream in = s.getInputStream();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            in.transferTo(all);
            String text = all.toString(StandardCharsets.ISO_8859_1);
            int end = text.indexOf("\r\n\r\n");
            String[] lines = text.substring(0, end).split("\r\n");
            Map<String, String> h = new LinkedHashMap<>();
            for (int i = 1; i < lines.length; i++) {
                int c = lines[i].indexOf(':');
                h.put(lines[i].substring(0, c).trim().toLowerCase(Locale.ROOT), lines[i].substring(c + 1).trim());
            }
            return new Reply(Integer.parseInt(lines[0].split(" ")[1]), h, text.substring(end + 4));
        }
    }

    private Path site() throws IOException {
        for (String d : new String[] {"www", "docs", "a"}) Files.createDirectories(dir.resolve(d));
        Files.writeString(dir.resolve("www/index.html"), "main index\n");
        Files.writeString(dir.resolve("www/page.html"), "main page\n");
        Files.writeString(dir.resolve("docs/guide.txt"), "the guide\n");
        Files.writeString(dir.resolve("a/index.html"), "vhost a\n");
        return dir.resolve("flash.toml");
    }

    private static FlashProcess start(Path file, Architecture arch, String... more) throws IOException {
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("serve", "--config", file.toString(),
                "--port", "0", "--arch", arch.cliName(), "--processes", "2"));
        args.addAll(java.util.List.of(more));
        return FlashProcess.start(args.toArray(String[]::new));
    }

    @AllArchs
    void servesWhatTheFileSaysWithCommandLineOptionsOnTop(Architecture arch) throws Exception {
        Path f = site();
        Files.writeString(f, """
                root = "www"
                port = 70000            # replaced by --port 0 on the command line
                index = ["missing.html"]  # replaced by --index
                arch = "sped"           # replaced by --arch

                [[static]]
                prefix = "/docs/"
                root = "docs"

                [[headers]]
                path = "/docs/*"
                set = { "Cache-Control" = "max-age=60", "X-Docs" = "yes" }

                [[headers]]
                path = "*.html"
                set = { "X-Html" = "1" }
                remove = ["Accept-Ranges"]

                [[vhost]]
                hosts = ["a.example", "b.example"]
                root = "a"

                  [[vhost.headers]]
                  path = "/*"
                  set = { "X-Site" = "a" }
                """);
        try (FlashProcess p = start(f, arch, "--index", "index.html")) {
            int port = p.awaitListening();
            Reply main = get(port, "localhost", "/");
            assertThat(main.status()).isEqualTo(200);
            assertThat(main.body()).isEqualTo("main index\n");
            assertThat(main.header("X-Site")).isNull();

            Reply page = get(port, "localhost", "/page.html");
            assertThat(page.header("X-Html")).isEqualTo("1");
            assertThat(page.header("Accept-Ranges")).as("removed by the rule").isNull();
            assertThat(get(port, "localhost", "/page.txt").header("X-Html")).isNull();

            Reply guide = get(port, "localhost", "/docs/guide.txt");
            assertThat(guide.status()).isEqualTo(200);
            assertThat(guide.body()).isEqualTo("the guide\n");
            assertThat(guide.header("Cache-Control")).isEqualTo("max-age=60");
            assertThat(guide.header("X-Docs")).isEqualTo("yes");
            assertThat(guide.header("Content-Length")).isEqualTo("10");
            Reply missing = get(port, "localhost", "/docs/nope.txt");
            assertThat(missing.status()).isEqualTo(404);
            assertThat(missing.header("X-Docs")).as("rules apply to error responses too").isEqualTo("yes");

            for (String host : new String[] {"a.example", "A.EXAMPLE:" + port, "b.example."}) {
                Reply a = get(port, host, "/");
                assertThat(a.body()).as(host).isEqualTo("vhost a\n");
                assertThat(a.header("X-Site")).isEqualTo("a");
            }
            assertThat(get(port, "a.example", "/docs/guide.txt").status()).as("the vhost has its own routes").isEqualTo(404);
            assertThat(get(port, "c.example", "/").body()).as("other hosts: the server's root").isEqualTo("main index\n");
            assertThat(p.terminate()).isZero();
        }
    }

    @AllArchs
    void sighupSwapsRoutesWhileASlowExchangeFinishesOnTheOldOnes(Architecture arch) throws Exception {
        Path f = site();
        try (Backend a = Backend.start(o -> o.header("X-Backend", "A"));
             Backend b = Backend.start(o -> o.header("X-Backend", "B"))) {
            Files.writeString(f, "root = \"www\"\naccess-log = \"access.log\"\n"
                    + "[[proxy]]\nprefix = \"/p/\"\nupstreams = [\"" + a.url() + "/\"]\n");
            try (FlashProcess p = start(f, arch); var client = Http.client()) {
                int port = p.awaitListening();
                assertThat(get(port, "localhost", "/p/x").header("X-Backend")).isEqualTo("A");

                // An exchange in flight on A: the origin answers after 3 s.
                CompletableFuture<java.net.http.HttpResponse<String>> slow = client.sendAsync(
                        java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + "/p/slow?ms=3000")).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString());
                assertThat(Http.await(() -> a.received().stream().anyMatch(r -> r.path().equals("/slow")), 20_000)).isTrue();

                Files.writeString(f, "root = \"www\"\naccess-log = \"access.log\"\n"
                        + "[[proxy]]\nprefix = \"/p/\"\nupstreams = [\"" + b.url() + "/\"]\n"
                        + "[[headers]]\npath = \"/p/*\"\nset = { X-Reloaded = \"yes\" }\n");
                Path log = dir.resolve("access.log");
                assertThat(Http.await(() -> Files.exists(log) && size(log) > 0, 10_000)).isTrue();
                Files.move(log, dir.resolve("access.log.1")); // logrotate's rename; SIGHUP still reopens the log
                hup(p);
                assertThat(Http.await(() -> allFrom(port, "B", 6), 30_000)).as("new exchanges go to B").isTrue();
                Reply now = get(port, "localhost", "/p/x");
                assertThat(now.header("X-Reloaded")).isEqualTo("yes");
                assertThat(Http.await(() -> Files.exists(log) && size(log) > 0, 10_000)).as("a new log after the HUP").isTrue();

                var old = slow.get(30, TimeUnit.SECONDS);
                assertThat(old.statusCode()).as("the slow exchange was not dropped").isEqualTo(200);
                assertThat(old.body()).isEqualTo("slow\n");
                assertThat(old.headers().firstValue("X-Backend")).as("and finished on the old route").hasValue("A");
                assertThat(old.headers().firstValue("X-Reloaded")).as("with the old header rules").isEmpty();

                // A bad file: the error is logged and the running configuration stays.
                Files.writeString(f, "root = \"www\"\nport = 0\nbogus = 1\n");
                hup(p);
                assertThat(Http.await(() -> stderrContains(p, "reload failed"), 20_000)).isTrue();
                assertThat(get(port, "localhost", "/p/x").header("X-Backend")).isEqualTo("B");
                assertThat(p.terminate()).isZero();
                assertThat(String.join("\n", p.stderrLines())).contains("line 3: bogus: unknown key 'bogus'");
            }
        }
    }

    private static long size(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return 0;
        }
    }

    private static boolean allFrom(int port, String backend, int n) {
        try {
            for (int i = 0; i < n; i++) if (!backend.equals(get(port, "localhost", "/p/x").header("X-Backend"))) return false;
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean stderrContains(FlashProcess p, String s) {
        try {
            return p.stderrSoFar().contains(s);
        } catch (IOException e) {
            return false;
        }
    }

    private static void hup(FlashProcess p) throws Exception {
        Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(p.process().pid())).inheritIO().start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(kill.exitValue()).isZero();
    }
}
