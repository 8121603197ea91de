package flash.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One {@code --proxy PREFIX=URL[,URL...]} route. A URL is {@code http://host[:port][/path]} or
 * {@code unix:/path/to.sock}. Without a path the request target goes upstream unchanged; with one, PREFIX is
 * replaced by it ({@code /p/=http://h:9000/} maps {@code /p/x?q} to {@code /x?q}), as nginx's proxy_pass does.
 * Several URLs share the load round-robin and must name the same path.
 */
public record ProxyRoute(String prefix, List<Target> targets, String path) {
    /** An upstream as configured: a TCP host and port, or a Unix socket. */
    public record Target(String spec, String host, int port, Path unixSocket) {}

    public ProxyRoute {
        targets = List.copyOf(targets);
    }

    /** Parses a flag value; the message of the IllegalArgumentException names what is wrong. */
    public static ProxyRoute parse(String spec) {
        int eq = spec.indexOf('=');
        if (eq <= 0) throw new IllegalArgumentException("--proxy expects PREFIX=URL[,URL...], not '" + spec + "'");
        String prefix = spec.substring(0, eq);
        if (!prefix.startsWith("/")) throw new IllegalArgumentException("--proxy prefix must start with '/', not '" + prefix + "'");
        String[] urls = spec.substring(eq + 1).split(",", -1);
        List<Target> targets = new ArrayList<>();
        String path = null;
        for (int i = 0; i < urls.length; i++) {
            String u = urls[i].trim();
            if (u.isEmpty()) throw new IllegalArgumentException("--proxy " + prefix + ": empty upstream URL");
            String p;
            if (u.startsWith("unix:")) {
                String file = u.substring(5);
                if (!file.startsWith("/")) throw new IllegalArgumentException("--proxy " + prefix + ": unix socket path must be absolute: '" + u + "'");
                targets.add(new Target(u, null, 0, Path.of(file)));
                p = null;
            } else {
                URI uri;
                try {
                    uri = new URI(u);
                } catch (URISyntaxException e) {
                    throw new IllegalArgumentException("--proxy " + prefix + ": invalid URL '" + u + "': " + e.getReason());
                }
                if (!"http".equalsIgnoreCase(uri.getScheme())) {
                    throw new IllegalArgumentException("--proxy " + prefix + ": only http:// and unix: upstreams are supported, not '" + u + "'");
                }
                if (uri.getHost() == null) throw new IllegalArgumentException("--proxy " + prefix + ": no host in '" + u + "'");
                if (uri.getRawQuery() != null || uri.getRawFragment() != null || uri.getRawUserInfo() != null) {
                    throw new IllegalArgumentException("--proxy " + prefix + ": an upstream URL takes no user, query or fragment: '" + u + "'");
                }
                int port = uri.getPort() < 0 ? 80 : uri.getPort();
                String host = uri.getHost();
                if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
                targets.add(new Target(u, host, port, null));
                p = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? null : uri.getRawPath();
            }
            if (i == 0) path = p;
            else if (!java.util.Objects.equals(path, p)) {
                throw new IllegalArgumentException("--proxy " + prefix + ": every upstream of a route must have the same path");
            }
        }
        return new ProxyRoute(prefix, targets, path);
    }

    /** The flag value this route was parsed from (for mp workers, which get the configuration as arguments). */
    public String spec() {
        StringBuilder b = new StringBuilder(prefix).append('=');
        for (int i = 0; i < targets.size(); i++) {
            if (i > 0) b.append(',');
            b.append(targets.get(i).spec());
        }
        return b.toString();
    }
}
