package flash.dispatch;

import flash.config.ServerConfig;

import java.util.List;

/** Test access to the argv Prefork gives its workers. */
public final class PreforkArgs {
    private PreforkArgs() {}

    public static List<String> of(ServerConfig c) { return Prefork.workerArgs(c); }
}
