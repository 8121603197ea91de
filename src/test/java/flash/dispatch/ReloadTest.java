package flash.dispatch;

import flash.config.Architecture;
import flash.config.ServerConfig;
import flash.config.StaticRoute;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** What a reload may change: restart-only components keep the running value, everything else takes the new one. */
class ReloadTest {
    @Test
    void restartOnlyOptionsKeepTheirValueAndTheRestChanges() {
        ServerConfig running = ServerConfig.defaults(Path.of("/a")).withPort(8080).withArch(Architecture.AMPED).withLoops(2)
                .withCacheBytes(1 << 20);
        ServerConfig requested = ServerConfig.defaults(Path.of("/b")).withPort(9090).withArch(Architecture.MT).withLoops(4)
                .withCacheBytes(2 << 20).withTimeouts(Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(3))
                .withStatics(List.of(new StaticRoute("/docs", Path.of("/d")))).withListDirs(true);
        ServerConfig next = Reload.keepRestartOnly(running, requested);
        assertThat(next.port()).isEqualTo(8080);
        assertThat(next.arch()).isEqualTo(Architecture.AMPED);
        assertThat(next.loops()).isEqualTo(2);
        assertThat(next.cacheBytes()).isEqualTo(1 << 20);
        assertThat(next.root()).isEqualTo(Path.of("/b"));
        assertThat(next.idleTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(next.statics()).hasSize(1);
        assertThat(next.listDirs()).isTrue();
    }

    @Test
    void everyRestartOnlyNameIsAComponent() {
        var names = java.util.Arrays.stream(ServerConfig.class.getRecordComponents()).map(c -> c.getName()).toList();
        assertThat(names).containsAll(Reload.RESTART_ONLY.keySet());
    }
}
