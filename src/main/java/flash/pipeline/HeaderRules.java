package flash.pipeline;

import flash.config.HeaderRule;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code [[headers]]} rules of one site, applied to every response whose normalised path matches a rule's
 * pattern, whatever handler produced it (static file, proxy, CGI, FastCGI, error page). Rules apply in file order,
 * so a later rule's value for a header wins. The response head is already encoded (and may be a cached, shared
 * buffer), so a matching response gets a new head: its lines are copied, minus the names a rule sets or removes,
 * and the rules' lines go before the blank line.
 */
public final class HeaderRules {
    private final HeaderRule[] rules;

    private HeaderRules(List<HeaderRule> rules) { this.rules = rules.toArray(HeaderRule[]::new); }

    /** Null when there are no rules: the connection then skips the check altogether. */
    public static HeaderRules of(List<HeaderRule> rules) {
        return rules.isEmpty() ? null : new HeaderRules(rules);
    }

    /** The response with this path's rules applied, or {@code r} itself when none matches. */
    public Response apply(String path, Response r) {
        if (path == null) return r;
        Map<String, String> set = null; // lower-case name -> "Name: value"
        List<String> removed = null;
        for (HeaderRule rule : rules) {
            if (!rule.matches(path)) continue;
            if (set == null) {
                set = new LinkedHashMap<>();
                removed = new ArrayList<>();
            }
            for (String n : rule.remove()) {
                String k = n.toLowerCase(Locale.ROOT);
                set.remove(k);
                removed.add(k);
            }
            for (var e : rule.set().entrySet()) set.put(e.getKey().toLowerCase(Locale.ROOT), e.getKey() + ": " + e.getValue());
        }
        if (set == null) return r;
        return new Response(r.status(), rewrite(r.head(), set, removed), r.body(), r.bodyLength(), r.close(), r.stream(),
                r.chunked());
    }

    private static ByteBuffer rewrite(ByteBuffer head, Map<String, String> set, List<String> removed) {
        ByteBuffer src = head.duplicate();
        byte[] bytes = new byte[src.remaining()];
        src.get(bytes);
        String text = new String(bytes, StandardCharsets.ISO_8859_1);
        int end = text.indexOf("\r\n\r\n");
        if (end < 0) return head; // not a head we understand: leave it alone
        String[] lines = text.substring(0, end).split("\r\n", -1);
        StringBuilder out = new StringBuilder(text.length() + 64).append(lines[0]).append("\r\n");
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            String name = colon < 0 ? "" : lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT);
            if (set.containsKey(name) || removed.contains(name)) continue;
            out.append(lines[i]).append("\r\n");
        }
        for (String line : set.values()) out.append(line).append("\r\n");
        out.append("\r\n").append(text, end + 4, text.length()); // anything after the head stays as it was
        return ByteBuffer.wrap(out.toString().getBytes(StandardCharsets.ISO_8859_1));
    }
}
