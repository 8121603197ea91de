package flash.cli;

import flash.config.Architecture;
import flash.config.ServerConfig;
import flash.testing.Fixtures;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The FastCGI flags land in the configuration; the defaults are the config record's. */
class FastCgiOptionsTest {
    private static ServerConfig parse(String... args) throws Exception {
        ServeCommand cmd = new ServeCommand();
        new CommandLine(cmd).parseArgs(args);
        return cmd.config();
    }

    @Test
    void defaults() throws Exception {
        ServerConfig c = parse(Fixtures.root().toString());
        assertThat(c.fastcgi()).isEmpty();
        assertThat(c.indexNames()).isEqualTo(ServerConfig.DEFAULT_INDEX);
        assertThat(c.fastcgiConnections()).isEqualTo(ServerConfig.DEFAULT_FASTCGI_CONNECTIONS);
        assertThat(c.fastcgiQueue()).isEqualTo(ServerConfig.DEFAULT_FASTCGI_QUEUE);
        assertThat(c.fastcgiTimeout()).isEqualTo(ServerConfig.DEFAULT_FASTCGI_TIMEOUT);
    }

    @Test
    void flagsReplaceTheDefaults() throws Exception {
        ServerConfig c = parse(Fixtures.root().toString(), "--fastcgi", ".php=unix:/run/php.sock", "--fastcgi",
                ".sh=127.0.0.1:9001", "--index", "index.php,index.html", "--fastcgi-connections", "8",
                "--fastcgi-queue", "0", "--fastcgi-timeout", "2.5", "--arch", "mt");
        assertThat(c.fastcgi()).extracting(f -> f.spec()).containsExactly(".php=unix:/run/php.sock", ".sh=127.0.0.1:9001");
        assertThat(c.indexNames()).containsExactly("index.php", "index.html");
        assertThat(c.fastcgiConnections()).isEqualTo(8);
        assertThat(c.fastcgiQueue()).isZero();
        assertThat(c.fastcgiTimeout()).isEqualTo(Duration.ofMillis(2500));
        assertThat(c.arch()).isEqualTo(Architecture.MT);
        assertThat(parse(Fixtures.root().toString(), "--index", "a.php", "--index", "b.html").indexNames())
                .isEqualTo(List.of("a.php", "b.html"));
    }
}
