package flash.fastcgi;

import flash.http.Headers;
import flash.http.Request;
import flash.pipeline.Exchange;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The params of a FastCGI request: the set nginx's {@code fastcgi.conf} sends, plus PATH_INFO, and one HTTP_*
 * per request header. Never HTTP_PROXY (httpoxy: a script's HTTP client would take the client's "Proxy" header
 * for its proxy setting); never a header whose name has an underscore (it would pass for the dash spelling of
 * another, and nginx drops them too); repeated headers are merged, Cookie with "; ", the rest with ", ".
 */
final class FastCgiParams {
    private FastCgiParams() {}

    static List<String[]> of(Exchange ex, FastCgiHandler.Settings s, FastCgiHandler.Found script, long contentLength) {
        Request req = ex.request();
        List<String[]> p = new ArrayList<>(24 + req.headers().size());
        String root = s.root().toString();
        add(p, "SCRIPT_FILENAME", script.file().toString());
        add(p, "SCRIPT_NAME", script.scriptName());
        add(p, "PATH_INFO", script.pathInfo());
        if (!script.pathInfo().isEmpty()) add(p, "PATH_TRANSLATED", root + script.pathInfo());
        add(p, "REQUEST_URI", req.target());
        add(p, "DOCUMENT_URI", ex.target().path());
        add(p, "DOCUMENT_ROOT", root);
        add(p, "QUERY_STRING", req.query() == null ? "" : req.query());
        add(p, "REQUEST_METHOD", req.methodToken());
        String type = req.header("Content-Type");
        add(p, "CONTENT_TYPE", type == null ? "" : type);
        add(p, "CONTENT_LENGTH", contentLength > 0 ? Long.toString(contentLength) : "");
        add(p, "SERVER_PROTOCOL", req.http10() ? "HTTP/1.0" : "HTTP/1.1");
        add(p, "REQUEST_SCHEME", "http");
        add(p, "GATEWAY_INTERFACE", "CGI/1.1");
        add(p, "SERVER_SOFTWARE", s.serverSoftware());
        add(p, "REMOTE_ADDR", ex.remoteAddress());
        add(p, "REMOTE_PORT", Integer.toString(ex.remotePort()));
        InetSocketAddress local = ex.localAddress();
        add(p, "SERVER_ADDR", local == null ? "" : local.getAddress().getHostAddress());
        add(p, "SERVER_PORT", local == null ? "" : Integer.toString(local.getPort()));
        add(p, "SERVER_NAME", serverName(req.header("Host"), local));
        add(p, "REDIRECT_STATUS", "200");
        headers(p, req.headers());
        return p;
    }

    /** The Host header's name without its port, else the local address. */
    static String serverName(String host, InetSocketAddress local) {
        if (host != null && !host.isBlank()) {
            String h = host.trim();
            if (h.startsWith("[")) {
                int end = h.indexOf(']');
                return end > 0 ? h.substring(0, end + 1) : h;
            }
            int colon = h.indexOf(':');
            return colon >= 0 ? h.substring(0, colon) : h;
        }
        return local == null ? "localhost" : local.getAddress().getHostAddress();
    }

    private static void headers(List<String[]> p, Headers h) {
        int first = p.size();
        for (int i = 0; i < h.size(); i++) {
            String name = h.name(i);
            if (name.indexOf('_') >= 0) continue;
            if (name.equalsIgnoreCase("Proxy")) continue;                  // httpoxy
            if (name.equalsIgnoreCase("Content-Type") || name.equalsIgnoreCase("Content-Length")) continue;
            String key = "HTTP_" + name.toUpperCase(Locale.ROOT).replace('-', '_');
            String value = h.value(i);
            boolean merged = false;
            for (int j = first; j < p.size(); j++) {
                if (p.get(j)[0].equals(key)) {
                    p.get(j)[1] = p.get(j)[1] + (key.equals("HTTP_COOKIE") ? "; " : ", ") + value;
                    merged = true;
                    break;
                }
            }
            if (!merged) add(p, key, value);
        }
    }

    private static void add(List<String[]> p, String name, String value) { p.add(new String[] {name, value}); }
}
