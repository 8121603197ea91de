package flash.cli;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The line each key of a TOML document is on, so an error can say where. Jackson's TOML parser checks the syntax
 * and builds the values, but keeps no positions; this scanner walks a document that parsed and records, for each
 * key path, the line of its first occurrence. Paths read as the values do: {@code port}, {@code vhost[0].root},
 * {@code vhost[1].proxy[0].prefix}, {@code headers[0].set.Cache-Control}.
 */
final class KeyLines {
    private final String s;
    private int pos;
    private int line = 1;
    private final Map<String, Integer> lines = new HashMap<>();
    private final Map<String, Integer> arrays = new HashMap<>(); // array-of-tables path -> tables seen so far

    private KeyLines(String text) { this.s = text; }

    static KeyLines of(String text) {
        KeyLines k = new KeyLines(text);
        try {
            k.document();
        } catch (RuntimeException e) {
            // only a locator: a document Jackson accepted but this scanner misreads loses line numbers, not values
        }
        return k;
    }

    /** The line of {@code path}, or of its nearest enclosing key or table; 0 when unknown. */
    int line(String path) {
        String p = path;
        while (true) {
            Integer n = lines.get(p);
            if (n != null) return n;
            int cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
            if (cut <= 0) return 0;
            p = p.substring(0, cut);
        }
    }

    private void document() {
        String table = "";
        while (pos < s.length()) {
            char c = s.charAt(pos);
            if (c == '\n') {
                line++;
                pos++;
            } else if (c == ' ' || c == '\t' || c == '\r') {
                pos++;
            } else if (c == '#') {
                skipComment();
            } else if (c == '[') {
                boolean array = pos + 1 < s.length() && s.charAt(pos + 1) == '[';
                pos += array ? 2 : 1;
                int at = line;
                List<String> comps = key();
                pos += array ? 2 : 1; // ]] or ]
                String resolved;
                if (array) {
                    String parent = resolve(comps.subList(0, comps.size() - 1));
                    String base = (parent.isEmpty() ? "" : parent + ".") + comps.getLast();
                    int n = arrays.merge(base, 1, Integer::sum);
                    resolved = base + "[" + (n - 1) + "]";
                } else {
                    resolved = resolve(comps);
                }
                lines.putIfAbsent(resolved, at);
                table = resolved;
            } else {
                int at = line;
                String path = join(table, key());
                lines.putIfAbsent(path, at);
                skipBlanks();
                pos++; // '='
                value(path);
            }
        }
    }

    private String resolve(List<String> comps) {
        String p = "";
        for (String c : comps) {
            p = p.isEmpty() ? c : p + "." + c;
            Integer n = arrays.get(p);
            if (n != null) p = p + "[" + (n - 1) + "]";
        }
        return p;
    }

    private static String join(String table, List<String> comps) {
        StringBuilder b = new StringBuilder(table);
        for (String c : comps) {
            if (!b.isEmpty()) b.append('.');
            b.append(c);
        }
        return b.toString();
    }

    /** A dotted key: bare, "basic" or 'literal' parts. */
    private List<String> key() {
        List<String> comps = new ArrayList<>();
        while (true) {
            skipBlanks();
            char c = s.charAt(pos);
            if (c == '"' || c == '\'') {
                int start = pos + 1;
                skipString();
                comps.add(s.substring(start, pos - 1));
            } else {
                int start = pos;
                while (pos < s.length() && (Character.isLetterOrDigit(s.charAt(pos)) || s.charAt(pos) == '-' || s.charAt(pos) == '_')) pos++;
                comps.add(s.substring(start, pos));
            }
            skipBlanks();
            if (pos < s.length() && s.charAt(pos) == '.') {
                pos++;
                continue;
            }
            return comps;
        }
    }

    private void value(String path) {
        skipBlanks();
        char c = s.charAt(pos);
        if (c == '"' || c == '\'') {
            skipString();
        } else if (c == '[') {
            pos++;
            int i = 0;
            while (true) {
                skipSpaceAndComments();
                if (s.charAt(pos) == ']') {
                    pos++;
                    return;
                }
                String elem = path + "[" + i++ + "]";
                lines.putIfAbsent(elem, line);
                value(elem);
                skipSpaceAndComments();
                if (s.charAt(pos) == ',') pos++;
            }
        } else if (c == '{') {
            pos++;
            while (true) {
                skipSpaceAndComments();
                if (s.charAt(pos) == '}') {
                    pos++;
                    return;
                }
                int at = line;
                String inner = join(path, key());
                lines.putIfAbsent(inner, at);
                skipBlanks();
                pos++; // '='
                value(inner);
                skipSpaceAndComments();
                if (s.charAt(pos) == ',') pos++;
            }
        } else {
            while (pos < s.length() && ",]}\n#".indexOf(s.charAt(pos)) < 0) pos++;
        }
    }

    private void skipString() {
        char q = s.charAt(pos);
        boolean multi = s.startsWith(String.valueOf(q).repeat(3), pos);
        pos += multi ? 3 : 1;
        while (pos < s.length()) {
            char c = s.charAt(pos);
            if (c == '\n') line++;
            if (c == '\\' && q == '"') {
                if (pos + 1 < s.length() && s.charAt(pos + 1) == '\n') line++;
                pos += 2;
                continue;
            }
            if (c == q) {
                if (!multi) {
                    pos++;
                    return;
                }
                if (s.startsWith(String.valueOf(q).repeat(3), pos)) {
                    pos += 3;
                    while (pos < s.length() && s.charAt(pos) == q) pos++; // up to two quotes may end the content
                    return;
                }
            }
            pos++;
        }
    }

    private void skipBlanks() {
        while (pos < s.length() && (s.charAt(pos) == ' ' || s.charAt(pos) == '\t')) pos++;
    }

    private void skipSpaceAndComments() {
        while (pos < s.length()) {
            char c = s.charAt(pos);
            if (c == '\n') {
                line++;
                pos++;
            } else if (c == ' ' || c == '\t' || c == '\r') {
                pos++;
            } else if (c == '#') {
                skipComment();
            } else {
                return;
            }
        }
    }

    private void skipComment() {
        while (pos < s.length() && s.charAt(pos) != '\n') pos++;
    }
}
