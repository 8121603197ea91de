package flash.cgi;

import flash.http.Headers;
import flash.http.Request;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A CGI program's whole environment (RFC 3875 section 4.1), built from nothing: none of the server's own
 * environment is inherited, only a fixed {@code PATH}.
 *
 * <ul>
 *   <li>The RFC's meta-variables: {@code GATEWAY_INTERFACE}, {@code SERVER_NAME} (the Host field's name, else the
 *       local address), {@code SERVER_PORT}, {@code SERVER_PROTOCOL}, {@code SERVER_SOFTWARE},
 *       {@code REQUEST_METHOD}, {@code QUERY_STRING} (always, {@code ""} without a query), {@code SCRIPT_NAME},
 *       {@code PATH_INFO} and {@code PATH_TRANSLATED} (both only when there is extra path: the RFC's NULL is
 *       unset), {@code CONTENT_LENGTH} and {@code CONTENT_TYPE} (only with a body), {@code REMOTE_ADDR},
 *       {@code REMOTE_PORT}, and one {@code HTTP_*} per request field, repeated fields merged with {@code ", "}
 *       ({@code "; "} for Cookie).</li>
 *   <li>Also {@code REQUEST_URI}, {@code SCRIPT_FILENAME}, {@code DOCUMENT_ROOT} and {@code REDIRECT_STATUS=200}
 *       (which PHP's CGI binary insists on).</li>
 *   <li>Security: no {@code HTTP_PROXY} ever (httpoxy: a client's {@code Proxy} field would become the script's
 *       proxy); no field whose name has {@code _} (it would collide with the {@code -} of another, and some
 *       servers' mapping let a client spoof a trusted variable); no {@code Authorization} or
 *       {@code Proxy-Authorization} (the credentials stay with the server); no {@code HTTP_CONTENT_LENGTH} or
 *       {@code HTTP_CONTENT_TYPE} (they are {@code CONTENT_*}).</li>
 * </ul>
 */
final class CgiEnvironment {
    static final String PATH = "/usr/local/bin:/usr/bin:/bin";
    static final String SOFTWARE = "flash";

    private CgiEnvironment() {}

    /**
     * @param scriptName    the URL path of the program ({@code /cgi-bin/hello})
     * @param pathInfo      the decoded extra path ({@code /extra}), or "" for none
     * @param program       the program's file
     * @param documentRoot  the server's document root (PATH_TRANSLATED maps PATH_INFO under it)
     * @param contentLength the body's length, or -1 for none
     */
    static Map<String, String> build(Request req, String scriptName, String pathInfo, Path program, Path documentRoot,
                                     long contentLength, String remoteAddr, int remotePort, String localHost,
                                     int localPort) {
        Map<String, String> env = new LinkedHashMap<>(48);
        env.put("PATH", PATH);
        env.put("GATEWAY_INTERFACE", "CGI/1.1");
        env.put("SERVER_NAME", serverName(req.header("Host"), localHost));
        env.put("SERVER_PORT", Integer.toString(localPort));
        env.put("SERVER_PROTOCOL", req.http10() ? "HTTP/1.0" : "HTTP/1.1");
        env.put("SERVER_SOFTWARE", SOFTWARE);
        env.put("REQUEST_METHOD", req.methodToken());
        env.put("QUERY_STRING", req.query() == null ? "" : req.query());
        env.put("SCRIPT_NAME", scriptName);
        if (!pathInfo.isEmpty()) {
            env.put("PATH_INFO", pathInfo);
            env.put("PATH_TRANSLATED", documentRoot + pathInfo);
        }
        if (contentLength >= 0) {
            env.put("CONTENT_LENGTH", Long.toString(contentLength));
            String type = req.header("Content-Type");
            if (type != null) env.put("CONTENT_TYPE", type);
        }
        env.put("REMOTE_ADDR", remoteAddr);
        env.put("REMOTE_PORT", Integer.toString(remotePort));
        env.put("REQUEST_URI", req.target());
        env.put("SCRIPT_FILENAME", program.toString());
        env.put("DOCUMENT_ROOT", documentRoot.toString());
        env.put("REDIRECT_STATUS", "200");
        Headers h = req.headers();
        for (int i = 0; i < h.size(); i++) {
            String name = h.name(i);
            if (!passed(name)) continue;
            String key = "HTTP_" + name.toUpperCase(Locale.ROOT).replace('-', '_');
            String prev = env.get(key);
            String sep = name.equalsIgnoreCase("Cookie") ? "; " : ", ";
            env.put(key, prev == null ? h.value(i) : prev + sep + h.value(i));
        }
        return env;
    }

    /** Whether a request field becomes an {@code HTTP_*} variable. */
    static boolean passed(String name) {
        if (name.indexOf('_') >= 0) return false;
        return !(name.equalsIgnoreCase("Proxy") || name.equalsIgnoreCase("Authorization")
                || name.equalsIgnoreCase("Proxy-Authorization") || name.equalsIgnoreCase("Content-Length")
                || name.equalsIgnoreCase("Content-Type"));
    }

    /** The Host field without its port (an IPv6 literal keeps its brackets), else the local address. */
    static String serverName(String host, String localHost) {
        if (host == null || host.isEmpty()) return localHost;
        if (host.startsWith("[")) {
            int end = host.indexOf(']');
            return end > 0 ? host.substring(0, end + 1) : host;
        }
        int colon = host.indexOf(':');
        return colon < 0 ? host : host.substring(0, colon);
    }
}
