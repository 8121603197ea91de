package flash.cgi;

import flash.config.CgiRoute;
import flash.http.HttpLimits;
import flash.pipeline.Exchange;
import flash.pipeline.Handler;

import java.nio.file.Path;
import java.time.Duration;

/**
 * {@code --cgi PREFIX=DIR}: {@code PREFIX/name/extra?q} runs the program {@code DIR/name} (CGI/1.1, RFC 3875)
 * with {@code PATH_INFO=/extra}, every method. Each request becomes a {@link CgiExchange}; the program's
 * environment is {@link CgiEnvironment}'s, its output is parsed by {@link CgiOutputParser}, and the process
 * itself is a {@link CgiProcess}.
 */
public final class CgiHandler implements Handler {
    /** What every exchange of this route shares. */
    record Settings(String prefix, Path dir, Path documentRoot, long timeoutNanos, int maxHeadBytes, long maxBody) {}

    private final Settings settings;

    public CgiHandler(CgiRoute route, Path documentRoot, Duration timeout, HttpLimits limits) {
        String unavailable = CgiProcess.unavailableReason();
        if (unavailable != null) throw new IllegalArgumentException("--cgi " + route.prefix() + ": " + unavailable);
        this.settings = new Settings(route.prefix(), route.dir(), documentRoot, timeout.toNanos(),
                limits.maxHeaderBytes(), limits.maxBody());
    }

    /** The route path for the router: everything under PREFIX/. */
    public static String routePath(CgiRoute route) { return route.prefix() + "/"; }

    @Override
    public void handle(Exchange ex) {
        new CgiExchange(ex, settings).start();
    }
}
