package flash.cli;

import flash.config.HeaderRule;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The config file's errors and check-config, run in-process through the real command line: every problem is one
 * line naming the file, the line and the key, with exit status 2; a good file checks with exit 0.
 */
class ConfigFileTest {
    @TempDir Path dir;

    /** Exit status, stdout and stderr of {@code flash ARGS}. */
    record Run(int status, String out, String err) {
        List<String> errLines() { return err.isEmpty() ? List.of() : List.of(err.strip().split("\n")); }
    }

    static Run flash(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        var cl = FlashMain.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int status = cl.execute(args);
        return new Run(status, out.toString(), err.toString());
    }

    private Path file(String toml) throws Exception {
        Files.createDirectories(dir.resolve("www"));
        Path f = dir.resolve("flash.toml");
        Files.writeString(f, toml);
        return f;
    }

    /** Both ways in: check-config and serve --config fail the same way, before listening. */
    private void assertOneLineError(String toml, String... expected) throws Exception {
        Path f = file(toml);
        for (String[] args : List.of(new String[] {"check-config", f.toString()}, new String[] {"serve", "--config", f.toString()})) {
            Run r = flash(args);
            assertThat(r.status()).as(String.join(" ", args) + ": " + r).isEqualTo(2);
            assertThat(r.errLines()).as(r.err()).hasSize(1);
            assertThat(r.errLines().getFirst()).startsWith("flash: " + f + " ").contains(expected);
        }
    }

    @Test
    void unknownKeyNamesItsLine() throws Exception {
        assertOneLineError("""
                root = "www"
                port = 0
                # a comment

                prot = 8080
                """, "line 5: prot: unknown key 'prot'");
    }

    @Test
    void badValuesNameTheirLine() throws Exception {
        assertOneLineError("root = \"www\"\nport = 70000\n", "line 2: port: --port must be between 0 and 65535, not 70000");
        assertOneLineError("root = \"www\"\n\nport = \"eighty\"\n", "line 3: port: ", "'eighty' is not an int");
        assertOneLineError("root = \"www\"\nlist-dirs = \"yes\"\n", "line 2: list-dirs: list-dirs is a switch");
        assertOneLineError("root = \"www\"\nbind = [\"a\", \"b\"]\n", "line 2: bind: bind takes one value, not a list");
        assertOneLineError("root = \"www\"\nidle-timeout = -1\n", "line 2: idle-timeout: --idle-timeout must be more than 0");
        assertOneLineError("root = \"no-such-dir\"\n", "line 1: root: document root", "does not exist");
        assertOneLineError("root = \"www\"\naccess-log-format = \"xml\"\n", "line 2: access-log-format:", "'xml'");
        assertOneLineError("root = \"www\"\nbind = \"nosuchhost.invalid\"\n", "line 2: bind: --bind 'nosuchhost.invalid' is not an address");
    }

    @Test
    void badTablesNameTheirLine() throws Exception {
        assertOneLineError("""
                root = "www"

                [[proxy]]
                prefix = "/api/"
                upstreams = ["ftp://example.com"]
                """, "line 3: proxy[0]: ", "ftp://example.com");
        assertOneLineError("""
                root = "www"
                [[proxy]]
                prefix = "/api/"
                upstream = "http://127.0.0.1:9"
                weight = 3
                """, "line 5: proxy[0].weight: unknown key 'weight' in a [[proxy]]");
        assertOneLineError("""
                root = "www"
                [[headers]]
                path = "/a/*"
                set = { "Bad Name" = "x" }
                """, "line 2: headers[0]: 'Bad Name' is not a valid header name");
        assertOneLineError("""
                root = "www"
                [[vhost]]
                host = "a.example"
                root = "www"
                port = 81
                """, "line 5: vhost[0].port: 'port' is server-wide");
        assertOneLineError("""
                root = "www"
                [[vhost]]
                host = "a.example"
                root = "missing"
                """, "line 4: vhost[0].root: document root", "does not exist");
        assertOneLineError("""
                root = "www"
                [[vhost]]
                host = "a.example"
                root = "www"
                [[vhost]]
                host = "A.example"
                root = "www"
                """, "line 6: vhost[1].host: host 'A.example' is already another [[vhost]]'s");
    }

    @Test
    void syntaxErrorNamesItsLine() throws Exception {
        assertOneLineError("root = \"www\"\nport = = 8\n", "line 2: not valid TOML");
    }

    @Test
    void missingFileIsOneLine() {
        Run r = flash("check-config", dir.resolve("nope.toml").toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.errLines()).containsExactly("flash: config file '" + dir.resolve("nope.toml") + "' does not exist");
    }

    @Test
    void checkConfigSummarisesAGoodFile() throws Exception {
        Files.createDirectories(dir.resolve("docs"));
        Path f = file("""
                port = 8081
                root = "www"
                list-dirs = true
                index = ["index.html", "index.htm"]
                fastcgi = [".php=127.0.0.1:9000"]

                [[proxy]]
                prefix = "/api/"
                upstreams = ["http://127.0.0.1:9001", "http://127.0.0.1:9002"]

                [[static]]
                prefix = "/docs/"
                root = "docs"

                [[headers]]
                path = "/assets/*"
                set = { "Cache-Control" = "max-age=3600" }

                [[vhost]]
                hosts = ["a.example", "www.a.example"]
                root = "docs"
                """);
        Run r = flash("check-config", f.toString());
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out().strip()).isEqualTo(f + ": OK: http://127.0.0.1:8081/ (arch=amped, root="
                + dir.resolve("www").toRealPath() + "), 3 route(s), 1 header rule(s), 1 vhost(s)");
    }

    @Test
    void theSampleInDocsChecks() {
        Path sample = Path.of("docs/flash.toml");
        assertThat(sample).exists();
        Run r = flash("check-config", sample.toString());
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).contains(": OK: ");
    }

    @Test
    void commandLineOptionsWinOverTheFile() throws Exception {
        Path f = file("""
                root = "www"
                port = 70000
                index = ["nothere.html"]
                list-dirs = true
                """);
        var cl = FlashMain.commandLine();
        var pr = cl.parseArgs("serve", "--config", f.toString(), "--port", "0", "--index", "a.html,b.html");
        var serve = pr.subcommand();
        var loaded = ConfigFile.read(f).load(ServeCommand.commandLineArgs(serve));
        assertThat(loaded.config().port()).as("the file's bad port is replaced, not checked").isZero();
        assertThat(loaded.config().indexNames()).as("a repeated option replaces the file's list").containsExactly("a.html", "b.html");
        assertThat(loaded.config().listDirs()).as("the file's own keys stay").isTrue();
    }

    @Test
    void keyLinesFollowTablesAndArraysOfTables() {
        KeyLines k = KeyLines.of("""
                port = 1          # 1
                s = \"\"\"
                fake = 2
                \"\"\"
                [[vhost]]         # 5
                host = "a"
                [[vhost.proxy]]   # 7
                prefix = "/x"
                [[vhost]]         # 9
                root = "r"
                [[headers]]       # 11
                set = { A = "1",
                        B = "2" }
                """);
        assertThat(k.line("port")).isEqualTo(1);
        assertThat(k.line("fake")).isZero();
        assertThat(k.line("vhost[0].host")).isEqualTo(6);
        assertThat(k.line("vhost[0].proxy[0].prefix")).isEqualTo(8);
        assertThat(k.line("vhost[1].root")).isEqualTo(10);
        assertThat(k.line("vhost[1]")).isEqualTo(9);
        assertThat(k.line("headers[0].set.B")).isEqualTo(13);
        assertThat(k.line("headers[0].set.C")).as("unknown: the enclosing key's line").isEqualTo(12);
    }

    @Test
    void headerPatternsAreGlobs() {
        HeaderRule r = new HeaderRule("/assets/*", Map.of("X", "1"), List.of());
        assertThat(r.matches("/assets/a/b.css")).isTrue();
        assertThat(r.matches("/assets/")).isTrue();
        assertThat(r.matches("/assets")).isFalse();
        assertThat(new HeaderRule("*.css", Map.of("X", "1"), List.of()).matches("/a/b.css")).isTrue();
        assertThat(new HeaderRule("/", Map.of("X", "1"), List.of()).matches("/a")).isFalse();
    }
}
