package flash.handlers;

import flash.http.Head;
import flash.http.Headers;
import flash.http.Request;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Locale;
import java.util.List;

/**
 * The header rules of a forwarding proxy (RFC 9110 section 7.6, RFC 9112, RFC 7239). Hop-by-hop fields, and every
 * field the Connection header names, stop here in both directions; Via is appended; the client's address goes
 * into X-Forwarded-For and Forwarded; Host is preserved; the body is re-framed by us, so Content-Length and
 * Transfer-Encoding are always our own.
 */
final class ProxyHeaders {
    static final String VIA = "1.1 flash";

    // What a field is to a proxy. Classified by length and a case-insensitive compare, without lower-casing
    // every name: this runs for each field of every proxied request and response.
    private static final int OTHER = 0, HOP = 1, XFF = 2, FORWARDED = 3, VIA_FIELD = 4, XF_OURS = 5, ORIGIN_ONLY = 6;

    /**
     * HOP: RFC 9110 7.6.1's hop-by-hop fields and the de facto ones (Keep-Alive, Proxy-Connection), plus the
     * framing we redo ourselves (Content-Length); XF_OURS: X-Forwarded-Proto/Host, which we set; ORIGIN_ONLY: Date
     * and Server, which a response gets from us.
     */
    private static int kind(String n) {
        return switch (n.length()) {
            case 2 -> is(n, "te") ? HOP : OTHER;
            case 3 -> is(n, "via") ? VIA_FIELD : OTHER;
            case 4 -> is(n, "date") ? ORIGIN_ONLY : OTHER;
            case 6 -> is(n, "server") ? ORIGIN_ONLY : OTHER;
            case 7 -> is(n, "trailer") || is(n, "upgrade") ? HOP : OTHER;
            case 9 -> is(n, "forwarded") ? FORWARDED : OTHER;
            case 10 -> is(n, "connection") || is(n, "keep-alive") ? HOP : OTHER;
            case 14 -> is(n, "content-length") ? HOP : OTHER;
            case 15 -> is(n, "x-forwarded-for") ? XFF : OTHER;
            case 16 -> is(n, "proxy-connection") ? HOP : is(n, "x-forwarded-host") ? XF_OURS : OTHER;
            case 17 -> is(n, "transfer-encoding") ? HOP : is(n, "x-forwarded-proto") ? XF_OURS : OTHER;
            default -> OTHER;
        };
    }

    private static boolean is(String name, String lower) { return name.equalsIgnoreCase(lower); }

    /**
     * Whether the Connection header named this field (it is then hop-by-hop too). A scan of the few tokens, not a
     * set lookup: that would lower-case every field name of every response ("Connection: keep-alive" is common).
     */
    private static boolean named(List<String> named, String name) {
        for (int i = 0; i < named.size(); i++) if (named.get(i).equalsIgnoreCase(name)) return true;
        return false;
    }

    private ProxyHeaders() {}

    /**
     * The request head for the upstream. {@code bodyLength}: -1 for a chunked body, else the Content-Length
     * (0 for none); {@code upgrade}: the Upgrade value to pass on, or null; {@code upstreamAuthority}: the Host to
     * send when the client sent none.
     */
    static byte[] request(Request req, String target, String clientIp, long bodyLength, boolean chunked, String upgrade,
                          String upstreamAuthority) {
        Headers h = req.headers();
        List<String> named = connectionNamed(h);
        StringBuilder b = new StringBuilder(256 + 32 * h.size());
        b.append(req.methodToken()).append(' ').append(target).append(" HTTP/1.1\r\n");
        String xff = null, forwarded = null, via = null;
        String host = h.get("Host");
        for (int i = 0; i < h.size(); i++) {
            String name = h.name(i);
            int kind = kind(name);
            if (kind == HOP || named(named, name)) continue;
            switch (kind) {
                case XFF -> { xff = xff == null ? h.value(i) : xff + ", " + h.value(i); continue; }
                case FORWARDED -> { forwarded = forwarded == null ? h.value(i) : forwarded + ", " + h.value(i); continue; }
                case VIA_FIELD -> { via = via == null ? h.value(i) : via + ", " + h.value(i); continue; }
                case XF_OURS -> { continue; } // ours replace the client's claims
                default -> { }
            }
            b.append(name).append(": ").append(h.value(i)).append("\r\n");
        }
        if (host == null) {
            // An HTTP/1.0 client may send no Host; an HTTP/1.1 upstream needs one: name the upstream, as nginx does.
            host = "";
            b.append("Host: ").append(upstreamAuthority).append("\r\n");
        }
        String proto = "http";
        b.append("Via: ").append(via == null ? "" : via + ", ").append(req.http10() ? "1.0 flash" : VIA).append("\r\n");
        b.append("X-Forwarded-For: ").append(xff == null ? "" : xff + ", ").append(clientIp).append("\r\n");
        b.append("X-Forwarded-Proto: ").append(proto).append("\r\n");
        if (!host.isEmpty()) b.append("X-Forwarded-Host: ").append(host).append("\r\n");
        String node = clientIp.indexOf(':') >= 0 ? "\"[" + clientIp + "]\"" : clientIp;
        b.append("Forwarded: ").append(forwarded == null ? "" : forwarded + ", ").append("for=").append(node);
        if (!host.isEmpty()) b.append(";host=").append(quoteIfNeeded(host));
        b.append(";proto=").append(proto).append("\r\n");
        if (chunked) b.append("Transfer-Encoding: chunked\r\n");
        else if (bodyLength >= 0 && req.header("Content-Length") != null) b.append("Content-Length: ").append(bodyLength).append("\r\n");
        if (upgrade != null) b.append("Connection: upgrade\r\nUpgrade: ").append(upgrade).append("\r\n");
        b.append("\r\n");
        return b.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    /** The client's response head, built from the upstream's: hop-by-hop and our own fields dropped, Via added. */
    static Head response(int status, String reason, Headers h, boolean upgrade) {
        List<String> named = connectionNamed(h);
        Head out = new Head(status, reason);
        String via = null;
        for (int i = 0; i < h.size(); i++) {
            int kind = kind(h.name(i));
            if (kind == HOP || named(named, h.name(i))) continue;
            // Date and Server are ours, as nginx does by default (proxy_pass_header to keep them).
            if (kind == ORIGIN_ONLY) continue;
            if (kind == VIA_FIELD) {
                via = via == null ? h.value(i) : via + ", " + h.value(i);
                continue;
            }
            out.add(h.name(i), h.value(i));
        }
        out.add("Via", via == null ? VIA : via + ", " + VIA);
        if (upgrade) {
            out.add("Connection", "upgrade");
            String u = h.get("Upgrade");
            if (u != null) out.add("Upgrade", u);
        }
        return out;
    }

    /** The client asked to switch protocols: the Upgrade value, when Connection names upgrade; else null. */
    static String upgradeRequested(Request req) {
        String u = req.header("Upgrade");
        if (u == null || req.http10()) return null;
        return connectionNamed(req.headers()).contains("upgrade") ? u : null;
    }

    /** Lower-cased tokens of every Connection field. */
    private static List<String> connectionNamed(Headers h) {
        List<String> out = null;
        for (int i = 0; i < h.size(); i++) {
            if (!h.name(i).equalsIgnoreCase("Connection")) continue;
            for (String t : h.value(i).split(",")) {
                String tok = t.trim().toLowerCase(Locale.ROOT);
                if (tok.isEmpty()) continue;
                if (out == null) out = new ArrayList<>(2);
                if (!out.contains(tok)) out.add(tok);
            }
        }
        return out == null ? List.of() : out;
    }

    private static String quoteIfNeeded(String host) {
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            if (c == ':' || c == '[' || c == ']') return "\"" + host + "\"";
        }
        return host;
    }
}
