package flash.testing;

import flash.config.Architecture;
import flash.config.ServerConfig;
import flash.dispatch.Server;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;

/** A real Flash server on an ephemeral loopback port, in this JVM, for one test. */
public final class TestServer implements AutoCloseable {
    private final Server server;

    private TestServer(Server server) { this.server = server; }

    public static TestServer start(Path root, Architecture arch) { return start(root, arch, UnaryOperator.identity()); }

    public static TestServer start(Path root, Architecture arch, UnaryOperator<ServerConfig> tweak) {
        ServerConfig cfg = ServerConfig.defaults(root).withPort(0).withArch(arch).withLoops(2).withHelpers(4).withThreads(16)
                .withDrainTimeout(java.time.Duration.ofSeconds(2));
        try {
            return new TestServer(Server.start(tweak.apply(cfg)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The architectures under test: -Dflash.test.archs=amped,sped (default: all in-process ones). */
    public static List<Architecture> archs() {
        String s = System.getProperty("flash.test.archs", "amped,sped,mt,vt");
        return Arrays.stream(s.split(",")).map(String::trim).filter(x -> !x.isEmpty())
                .map(x -> Architecture.valueOf(x.toUpperCase())).filter(a -> a != Architecture.MP).toList();
    }

    public int port() { return server.port(); }
    public Server server() { return server; }
    public URI uri(String path) { return URI.create("http://127.0.0.1:" + port() + path); }

    @Override
    public void close() { server.close(); }
}
