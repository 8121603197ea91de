package flash.testing;

import flash.config.Architecture;

import java.util.EnumMap;
import java.util.Map;

/**
 * One default-configured server per architecture over {@link Fixtures#root()}, shared by every test that needs
 * nothing special: starting MP's worker JVMs once, not once per test class, keeps the suite fast. Tests using
 * it must close their connections (an MP worker serves one connection at a time). Stopped at JVM exit.
 */
public final class SharedServers {
    private static final Map<Architecture, TestServer> SERVERS = new EnumMap<>(Architecture.class);

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(SharedServers::closeAll));
    }

    private SharedServers() {}

    public static synchronized TestServer get(Architecture arch) {
        return SERVERS.computeIfAbsent(arch, a -> TestServer.start(Fixtures.root(), a));
    }

    private static synchronized void closeAll() {
        SERVERS.values().forEach(TestServer::close);
        SERVERS.clear();
    }
}
