package flash.config;

import java.nio.file.Path;

/**
 * One {@code --fastcgi EXT=ADDRESS} mapping: a request whose path has a segment ending in EXT (say {@code .php})
 * runs on the FastCGI responder at ADDRESS, {@code unix:/path/to.sock} or {@code host:port}.
 */
public record FastCgiRoute(String ext, String address, String host, int port, Path unixSocket) {

    /** Parses a flag value; the message of the IllegalArgumentException names what is wrong. */
    public static FastCgiRoute parse(String spec) {
        int eq = spec.indexOf('=');
        if (eq <= 0) throw new IllegalArgumentException("--fastcgi expects EXT=ADDRESS (.php=unix:/run/php/php8.2-fpm.sock), not '" + spec + "'");
        String ext = spec.substring(0, eq);
        String addr = spec.substring(eq + 1).trim();
        if (!ext.startsWith(".") || ext.length() < 2 || ext.indexOf('/') >= 0 || ext.indexOf('.', 1) >= 0) {
            throw new IllegalArgumentException("--fastcgi extension must look like .php, not '" + ext + "'");
        }
        if (addr.startsWith("unix:")) {
            String file = addr.substring(5);
            if (!file.startsWith("/")) throw new IllegalArgumentException("--fastcgi " + ext + ": unix socket path must be absolute: '" + addr + "'");
            return new FastCgiRoute(ext, addr, null, 0, Path.of(file));
        }
        int colon = addr.lastIndexOf(':');
        if (colon <= 0) throw new IllegalArgumentException("--fastcgi " + ext + ": address must be unix:/path or host:port, not '" + addr + "'");
        String host = addr.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
        int port;
        try {
            port = Integer.parseInt(addr.substring(colon + 1));
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (port < 1 || port > 65535) throw new IllegalArgumentException("--fastcgi " + ext + ": invalid port in '" + addr + "'");
        return new FastCgiRoute(ext, addr, host, port, null);
    }

    /** The flag value this mapping was parsed from (for mp workers). */
    public String spec() { return ext + "=" + address; }
}
