package flash.config;

import java.util.List;

/**
 * A name-based virtual host (a config file's {@code [[vhost]]} table): requests whose Host header (port and case
 * aside) is one of {@code names} are served by {@code site}'s document root and routes instead of the server's.
 * Only the per-site parts of {@code site} are used: root, list-dirs, follow-symlinks, dotfiles, index, and its
 * proxy, cgi, fastcgi, static and header routes; everything else is the server's.
 */
public record VirtualHost(List<String> names, ServerConfig site) {
    public VirtualHost {
        names = names.stream().map(VirtualHost::canonical).toList();
    }

    /** A Host header's name as vhosts are keyed: lower case, without the port or a trailing dot. */
    public static String canonical(String host) {
        String h = host.trim().toLowerCase(java.util.Locale.ROOT);
        if (h.startsWith("[")) {
            int close = h.indexOf(']');
            return close < 0 ? h : h.substring(0, close + 1);
        }
        int colon = h.indexOf(':');
        if (colon >= 0) h = h.substring(0, colon);
        if (h.endsWith(".")) h = h.substring(0, h.length() - 1);
        return h;
    }
}
