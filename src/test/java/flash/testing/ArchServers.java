package flash.testing;

import flash.config.Architecture;

import java.util.EnumMap;
import java.util.Map;
import java.util.function.Function;

/** One server per architecture for the tests of one class (started on first use); close it in @AfterAll. */
public final class ArchServers implements AutoCloseable {
    private final Function<Architecture, TestServer> starter;
    private final Map<Architecture, TestServer> servers = new EnumMap<>(Architecture.class);

    public ArchServers(Function<Architecture, TestServer> starter) { this.starter = starter; }

    public synchronized TestServer get(Architecture arch) { return servers.computeIfAbsent(arch, starter); }

    @Override
    public synchronized void close() {
        servers.values().forEach(TestServer::close);
        servers.clear();
    }
}
