package flash.cli;

import flash.config.AccessLogFormat;
import flash.config.ServerConfig;
import flash.config.SiteRules;
import flash.dispatch.PreforkArgs;
import flash.testing.Fixtures;
import flash.testing.FlashProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The site-rule flags and jwebserver's aliases: what they put in the configuration, that mp workers get the same
 * configuration back from their argv, a real `flash serve -b -p -d -o` answering curl with the access log on stdout,
 * and one-line usage errors (exit 2) naming the option for bad values.
 */
class SiteOptionsTest {
    private static final String ROOT = Fixtures.root().toString();

    private static ServerConfig parse(String... args) throws Exception {
        ServeCommand cmd = new ServeCommand();
        new CommandLine(cmd).parseArgs(args);
        return cmd.config();
    }

    @Test
    void defaults() throws Exception {
        SiteRules s = parse(ROOT).site();
        assertThat(s).isEqualTo(SiteRules.DEFAULTS);
        assertThat(s.dotfilesAllow()).containsExactly("/.well-known/");
        assertThat(parse(ROOT).accessLog()).isNull();
    }

    @Test
    void flagsLandInTheConfigAndSurviveTheTripToMpWorkers() throws Exception {
        ServerConfig c = parse(ROOT, "--cache-control", "/assets/**=public, max-age=31536000, immutable",
                "--cache-control", "/**=no-cache", "--error-page", "404=/404.html", "--error-page", "500=/5xx.html",
                "--fallback", "/index.html", "--dotfiles-allow", "/.config/", "--mime", "md=text/markdown",
                "--arch", "mp", "--processes", "2");
        SiteRules s = c.site();
        assertThat(s.cacheControlFor("/assets/a/b.js")).isEqualTo("public, max-age=31536000, immutable");
        assertThat(s.cacheControlFor("/x.html")).isEqualTo("no-cache");
        assertThat(s.errorPageFor(404)).isEqualTo("/404.html");
        assertThat(s.errorPageFor(500)).isEqualTo("/5xx.html");
        assertThat(s.errorPageFor(403)).isNull();
        assertThat(s.fallback()).isEqualTo("/index.html");
        assertThat(s.dotfilesAllow()).containsExactly("/.well-known/", "/.config/");
        assertThat(s.mime()).extracting(m -> m.spec()).containsExactly("md=text/markdown");
        // an mp worker parses Prefork's argv: it must end up with the same rules
        List<String> argv = new ArrayList<>(PreforkArgs.of(c));
        ServerConfig worker = parse(argv.toArray(String[]::new));
        assertThat(worker.site().cacheControl()).extracting(r -> r.spec()).isEqualTo(s.cacheControl().stream().map(r -> r.spec()).toList());
        assertThat(worker.site().errorPages()).isEqualTo(s.errorPages());
        assertThat(worker.site().fallback()).isEqualTo(s.fallback());
        assertThat(worker.site().dotfilesAllow()).isEqualTo(s.dotfilesAllow());
        assertThat(worker.site().mime()).isEqualTo(s.mime());
        // 'none' clears the allow-list, ACME's default included
        assertThat(parse(ROOT, "--dotfiles-allow", "none").site().dotfilesAllow()).isEmpty();
    }

    @Test
    void jwebserverAliases() throws Exception {
        ServerConfig c = parse("-b", "127.0.0.2", "-p", "8000", "-d", ROOT, "-o", "info");
        assertThat(c.bind()).isEqualTo("127.0.0.2");
        assertThat(c.port()).isEqualTo(8000);
        assertThat(c.root()).isEqualTo(Path.of(ROOT).toRealPath());
        assertThat(c.accessLog()).isEqualTo("-");
        assertThat(c.accessLogFormat()).isEqualTo(AccessLogFormat.COMBINED);
        ServerConfig v = parse("--bind-address", "::1", "--directory", ROOT, "--output", "verbose");
        assertThat(v.bind()).isEqualTo("::1");
        assertThat(v.accessLogFormat()).isEqualTo(AccessLogFormat.VERBOSE);
        assertThat(parse("-d", ROOT, "-o", "none").accessLog()).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"amped", "mp"})
    void jwebserverHabitsWorkUnchanged(String arch) throws Exception {
        try (FlashProcess p = FlashProcess.start("serve", "-b", "127.0.0.1", "-p", "0", "-d", ROOT, "-o", "verbose",
                "--arch", arch, "--processes", "2")) {
            int port = p.awaitListening();
            Process curl = new ProcessBuilder("curl", "-s", "-H", "X-Verbose-Check: yes", "http://127.0.0.1:" + port + "/hello.txt")
                    .redirectErrorStream(true).start();
            String body = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(curl.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(body).isEqualTo(Fixtures.HELLO);
            String line = p.readLine();
            assertThat(line).contains("\"GET /hello.txt HTTP/1.1\" 200 ").contains("curl/");
            List<String> headers = new ArrayList<>();
            for (int i = 0; i < 4; i++) headers.add(p.readLine());
            assertThat(headers).contains("> X-Verbose-Check: yes").anyMatch(h -> h.startsWith("> Host: 127.0.0.1:"));
            assertThat(p.terminate()).isZero();
        }
    }

    @Test
    void badValuesAreOneLineAndStatus2() throws Exception {
        assertUsageError(List.of("serve", ROOT, "--port", "0", "-o", "loud"), "-o/--output");
        assertUsageError(List.of("serve", ROOT, "--port", "0", "-o", "info", "--access-log", ROOT + "/x.log"), "--access-log");
        assertUsageError(List.of("serve", ROOT, "--port", "0", "-d", ROOT), "-d/--directory");
        assertUsageError(List.of("serve", ROOT, "--port", "0", "--cache-control", "/assets/*"), "--cache-control");
        assertUsageError(List.of("serve", ROOT, "--port", "0", "--cache-control", "assets/*=no-cache"), "--cache-control");
        assertUsageError(List.of("serve", ROOT, "--port", "0", "--error-page", "200=/ok.html"), "--error-page");
        assertUsageError(List.of("serve", ROOT, "--port", "0", "--error-page", "abc=/x.html"), "--error-page");
        assertUsageError(List.of("serve", ROOT, "--port", "0", "--error-page", "404=x.html"), "--error-page");
        assertUsageError(List.of("serve", ROOT, "--port", "0", "--error-page", "404=/a.html", "--error-page", "404=/b.html"), "--error-page 404");
        assertUsageError(List.of("serve", ROOT, "--port", "0", "--fallback", "index.html"), "--fallback");
        assertUsageError(List.of("serve", ROOT, "--port", "0", "--fallback", "/../etc/passwd"), "--fallback");
        assertUsageError(List.of("serve", ROOT, "--port", "0", "--mime", "md"), "--mime");
        assertUsageError(List.of("serve", ROOT, "--port", "0", "--mime", "md=markdown"), "--mime");
        assertUsageError(List.of("serve", ROOT, "--port", "0", "--mime", "a/b=text/plain"), "--mime");
        assertUsageError(List.of("serve", ROOT, "--port", "0", "--dotfiles-allow", ".well-known"), "--dotfiles-allow");
    }

    private static void assertUsageError(List<String> args, String named) throws Exception {
        try (FlashProcess p = FlashProcess.start(args.toArray(String[]::new))) {
            List<String> err = p.stderrLines();
            assertThat(p.exitCode()).as("exit status; stderr %s", err).isEqualTo(2);
            assertThat(err).as("stderr").hasSize(1);
            assertThat(err.getFirst()).startsWith("flash: ").contains(named)
                    .doesNotContain("Exception").doesNotContain("\tat ");
            assertThat(p.remainingStdout()).isEmpty();
        }
    }
}
