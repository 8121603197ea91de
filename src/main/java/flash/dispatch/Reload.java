package flash.dispatch;

import flash.config.ServerConfig;

import java.lang.reflect.RecordComponent;
import java.util.Map;
import java.util.logging.Logger;

/**
 * What a reload may change. Everything read per exchange (routes, virtual hosts, header rules, document root and
 * its settings, timeouts, limits, upstream and FastCGI timeouts, status path, max-connections, drain-timeout) takes
 * effect at once. What was bound or sized at start cannot change under a running server: those components keep their
 * old value, and the reload logs a warning naming the option.
 */
public final class Reload {
    private static final Logger LOG = Logger.getLogger(Reload.class.getName());

    /** ServerConfig components that need a restart, with the option that sets each. */
    public static final Map<String, String> RESTART_ONLY = Map.ofEntries(
            Map.entry("bind", "bind"), Map.entry("port", "port"), Map.entry("arch", "arch"),
            Map.entry("loops", "loops"), Map.entry("helpers", "helpers"), Map.entry("threads", "threads"),
            Map.entry("processes", "processes"), Map.entry("backlog", "backlog"), Map.entry("reusePort", "reuse-port"),
            Map.entry("pathCacheEntries", "path-cache"), Map.entry("headerCache", "no-header-cache"),
            Map.entry("fileCache", "no-file-cache"), Map.entry("cacheBytes", "cache-mb"),
            Map.entry("smallFileMax", "small-file-max"), Map.entry("headerAlign", "header-align"),
            Map.entry("accessLog", "access-log"), Map.entry("accessLogFormat", "access-log-format"),
            // pools are sized when a loop first uses an upstream, and kept across reloads
            Map.entry("upstreamKeepalive", "upstream-keepalive"), Map.entry("fastcgiConnections", "fastcgi-connections"),
            Map.entry("fastcgiQueue", "fastcgi-queue"),
            // the TLS engine and its contexts are made once, at start
            Map.entry("tlsEngine", "tls-engine"));

    private Reload() {}

    /** {@code requested}, with every restart-only component that differs from {@code running} put back. */
    public static ServerConfig keepRestartOnly(ServerConfig running, ServerConfig requested) {
        RecordComponent[] comps = ServerConfig.class.getRecordComponents();
        Object[] values = new Object[comps.length];
        Class<?>[] types = new Class<?>[comps.length];
        try {
            for (int i = 0; i < comps.length; i++) {
                String name = comps[i].getName();
                types[i] = comps[i].getType();
                Object now = comps[i].getAccessor().invoke(running);
                Object asked = comps[i].getAccessor().invoke(requested);
                String option = RESTART_ONLY.get(name);
                if (option != null && !java.util.Objects.equals(now, asked)) {
                    LOG.warning("reload: " + option + " changed (" + describe(now) + " -> " + describe(asked)
                            + ") but needs a restart; keeping " + describe(now));
                    values[i] = now;
                } else {
                    values[i] = asked;
                }
            }
            return ServerConfig.class.getDeclaredConstructor(types).newInstance(values);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot copy ServerConfig: " + e, e);
        }
    }

    private static String describe(Object v) {
        return v instanceof flash.config.Architecture a ? a.cliName() : String.valueOf(v);
    }
}
