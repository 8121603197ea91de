package flash.content;

import flash.sys.DiskGuard;
import flash.http.RequestTarget;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A directory listing (--list-dirs): the entries read once, where the architecture runs disk work (a helper under
 * AMPED), then drawn as an HTML page or a JSON array on request. Names are HTML-escaped and links percent-encoded:
 * a file name is data. Only entries a request would be served are listed: no dotfiles unless --dotfiles, no dead
 * symlinks, no symlinks out of the root unless --follow-symlinks, nothing but regular files and directories.
 *
 * <p>A listing is immutable and may sit in the path cache (shared by every loop); the few renderings a request can
 * ask for (three sort keys, two orders, two formats) are kept once made, so a hot listing is drawn once.
 */
public final class DirectoryListing {
    /** One listed entry; {@code size} is 0 for a directory. */
    public record Entry(String name, boolean dir, long size, long mtimeMillis) {}

    /** What the listing is sorted by; directories always come first. */
    public enum Key { NAME, SIZE, DATE }

    /** A sort key and direction, from the query ({@code ?sort=name|size|date&order=asc|desc}). */
    public record Sort(Key key, boolean desc) {
        public static final Sort DEFAULT = new Sort(Key.NAME, false);

        /** Unknown or missing parameters keep the default: a listing never fails on its query. */
        public static Sort parse(String query) {
            if (query == null || query.isEmpty()) return DEFAULT;
            Key key = Key.NAME;
            Boolean desc = null;
            for (String pair : query.split("&")) {
                int eq = pair.indexOf('=');
                String k = eq < 0 ? pair : pair.substring(0, eq), v = eq < 0 ? "" : pair.substring(eq + 1);
                if (k.equals("sort")) {
                    switch (v) {
                        case "name" -> key = Key.NAME;
                        case "size" -> key = Key.SIZE;
                        case "date", "mtime", "time" -> key = Key.DATE;
                        default -> { }
                    }
                } else if (k.equals("order")) {
                    if (v.equals("asc")) desc = false;
                    else if (v.equals("desc")) desc = true;
                }
            }
            return new Sort(key, desc != null && desc);
        }

        /** The query of this sort, as the column links write it. */
        String query() { return "?sort=" + key.name().toLowerCase(Locale.ROOT) + "&order=" + (desc ? "desc" : "asc"); }

        Comparator<Entry> comparator() {
            Comparator<Entry> byName = Comparator.comparing((Entry e) -> e.name().toLowerCase(Locale.ROOT))
                    .thenComparing(Entry::name);
            Comparator<Entry> c = switch (key) {
                case NAME -> byName;
                case SIZE -> Comparator.comparingLong(Entry::size).thenComparing(byName);
                case DATE -> Comparator.comparingLong(Entry::mtimeMillis).thenComparing(byName);
            };
            if (desc) c = c.reversed();
            return Comparator.comparing((Entry e) -> !e.dir()).thenComparing(c); // directories first, either order
        }
    }

    private static final DateTimeFormatter SHOWN = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm", Locale.ROOT)
            .withZone(ZoneOffset.UTC);

    private final String urlPath;
    private final List<Entry> entries;
    private final ConcurrentHashMap<String, byte[]> rendered = new ConcurrentHashMap<>();

    public DirectoryListing(String urlPath, List<Entry> entries) {
        this.urlPath = urlPath;
        this.entries = List.copyOf(entries);
    }

    public String urlPath() { return urlPath; }

    public List<Entry> entries() { return entries; }

    /**
     * Blocking: reads {@code dir} (a real path under {@code realRoot}, or reached by a followed symlink) and stats each
     * entry. The default HTML page is drawn here too, off the loop, as most requests ask for it.
     */
    public static DirectoryListing read(Path dir, String urlPath, Path realRoot, boolean dotfiles, boolean followSymlinks)
            throws IOException {
        DiskGuard.check("list " + dir);
        List<Entry> entries = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                if (!dotfiles && n.startsWith(".")) continue;
                if (!servableName(n)) continue;
                Entry e = entry(p, n, realRoot, followSymlinks);
                if (e != null) entries.add(e);
            }
        }
        DirectoryListing l = new DirectoryListing(urlPath, entries);
        l.html(Sort.DEFAULT);
        return l;
    }

    /** The entry as a request for it would see it, or null when that request would not find it. */
    private static Entry entry(Path p, String name, Path realRoot, boolean followSymlinks) {
        try {
            BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (a.isSymbolicLink()) {
                Path real = p.toRealPath(); // a dead link or a loop throws: the request would get 404
                if (!followSymlinks && !real.startsWith(realRoot)) return null;
                a = Files.readAttributes(real, BasicFileAttributes.class);
            }
            if (a.isDirectory()) return new Entry(name, true, 0, a.lastModifiedTime().toMillis());
            if (a.isRegularFile()) return new Entry(name, false, a.size(), a.lastModifiedTime().toMillis());
            return null; // a FIFO, socket or device is never served
        } catch (IOException | SecurityException e) {
            return null; // vanished since the directory was read, or cannot be resolved
        }
    }

    /** Names a request path can carry: RequestTarget refuses control characters and backslashes. */
    private static boolean servableName(String n) {
        for (int i = 0; i < n.length(); i++) {
            char c = n.charAt(i);
            if (c < 0x20 || c == 0x7f || c == '\\' || c == '\uFFFD') return false; // U+FFFD: bytes that are not UTF-8
        }
        return true;
    }

    // ------------------------------------------------------------------ negotiation

    /**
     * Whether an Accept field asks for JSON rather than HTML: {@code application/json} named with a quality above
     * zero and above that of {@code text/html} (wildcards do not count, so a browser's {@code * / *} keeps HTML).
     */
    public static boolean wantsJson(String accept) {
        if (accept == null) return false;
        double json = 0, html = 0;
        for (String range : accept.split(",")) {
            String[] parts = range.split(";");
            String type = parts[0].trim().toLowerCase(Locale.ROOT);
            double q = 1;
            for (int i = 1; i < parts.length; i++) {
                String p = parts[i].trim();
                if (p.startsWith("q=") || p.startsWith("Q=")) {
                    try {
                        q = Double.parseDouble(p.substring(2));
                    } catch (NumberFormatException e) {
                        q = 0;
                    }
                }
            }
            if (type.equals("application/json")) json = Math.max(json, q);
            else if (type.equals("text/html")) html = Math.max(html, q);
        }
        return json > 0 && json > html;
    }

    // ------------------------------------------------------------------ HTML

    /** The HTML page, sorted as asked. */
    public byte[] html(Sort sort) {
        return rendered.computeIfAbsent("html" + sort.query(), k -> renderHtml(sort));
    }

    private List<Entry> sorted(Sort sort) {
        List<Entry> list = new ArrayList<>(entries);
        list.sort(sort.comparator());
        return list;
    }

    private static final String STYLE = """
            :root{color-scheme:light dark;--fg:#1f2328;--muted:#59636e;--bg:#fff;--line:#d1d9e0;--head:#f6f8fa;\
            --hover:#eef4ff;--link:#0550ae}
            @media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9198a1;--bg:#0d1117;--line:#30363d;\
            --head:#161b22;--hover:#1c2433;--link:#4493f8}}
            *{box-sizing:border-box}
            body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.45 system-ui,-apple-system,"Segoe UI",\
            Roboto,"Noto Sans","DejaVu Sans",sans-serif}
            main{max-width:960px;margin:0 auto;padding:24px 20px 40px}
            h1{font-size:20px;font-weight:600;margin:0 0 16px;word-break:break-all}
            h1 span{color:var(--muted);font-weight:400}
            table{width:100%;border-collapse:collapse;border:1px solid var(--line);border-radius:6px}
            th,td{padding:7px 12px;text-align:left;border-bottom:1px solid var(--line)}
            th{background:var(--head);font-weight:600;font-size:13px;white-space:nowrap}
            th a{color:var(--fg);text-decoration:none}
            th a:hover{text-decoration:underline}
            td.n{word-break:break-all}
            td.s,th.s{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums;width:8em}
            td.m,th.m{white-space:nowrap;font-variant-numeric:tabular-nums;width:11em;color:var(--muted)}
            tr:hover td{background:var(--hover)}
            a{color:var(--link);text-decoration:none}
            a:hover{text-decoration:underline}
            tr.d td.n a{font-weight:600}
            tr.d td.n a::before{content:"";display:inline-block;width:.8em;height:.65em;margin-right:.45em;\
            border-radius:2px;background:var(--link);opacity:.75}
            tr.f td.n a::before{content:"";display:inline-block;width:.6em;height:.75em;margin:0 .55em 0 .1em;\
            border:1.5px solid var(--muted);border-radius:1px;vertical-align:-1px}
            footer{margin-top:12px;color:var(--muted);font-size:13px}
            """;

    private byte[] renderHtml(Sort sort) {
        List<Entry> list = sorted(sort);
        StringBuilder sb = new StringBuilder(2048 + list.size() * 200);
        String title = escape(urlPath);
        sb.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
                .append("<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">")
                .append("<title>Index of ").append(title).append("</title>\n<style>\n").append(STYLE).append("</style></head>\n")
                .append("<body><main>\n<h1><span>Index of</span> ").append(title).append("</h1>\n<table>\n<thead><tr>")
                .append(column(sort, Key.NAME, "Name", "n"))
                .append(column(sort, Key.SIZE, "Size", "s"))
                .append(column(sort, Key.DATE, "Modified (UTC)", "m"))
                .append("</tr></thead>\n<tbody>\n");
        if (!urlPath.equals("/")) {
            sb.append("<tr class=\"d\"><td class=\"n\"><a href=\"../\">../</a></td><td class=\"s\">&mdash;</td><td class=\"m\"></td></tr>\n");
        }
        int dirs = 0, files = 0;
        for (Entry e : list) {
            if (e.dir()) dirs++;
            else files++;
            String encoded = RequestTarget.encodePath(e.name());
            // "a:b" as a relative link would read as a URL with scheme "a": "./a:b" is the same file, unambiguous.
            if (encoded.indexOf(':') >= 0) encoded = "./" + encoded;
            String link = escape(encoded + (e.dir() ? "/" : ""));
            sb.append("<tr class=\"").append(e.dir() ? 'd' : 'f').append("\"><td class=\"n\"><a href=\"").append(link)
                    .append("\">").append(escape(e.name())).append(e.dir() ? "/" : "").append("</a></td>");
            if (e.dir()) sb.append("<td class=\"s\">&mdash;</td>");
            else sb.append("<td class=\"s\" title=\"").append(e.size()).append(" bytes\">").append(humanSize(e.size())).append("</td>");
            Instant t = Instant.ofEpochMilli(e.mtimeMillis());
            sb.append("<td class=\"m\"><time datetime=\"").append(iso(e.mtimeMillis())).append("\">").append(SHOWN.format(t))
                    .append("</time></td></tr>\n");
        }
        sb.append("</tbody>\n</table>\n<footer>").append(dirs).append(dirs == 1 ? " directory, " : " directories, ")
                .append(files).append(files == 1 ? " file" : " files").append("</footer>\n</main></body></html>\n");
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    /**
     * A column header: a plain link that sorts by this column, ascending first for names and descending first for
     * sizes and dates (the largest, the newest); a second click on the sorted column reverses it.
     */
    private static String column(Sort current, Key key, String label, String cls) {
        boolean active = current.key() == key;
        boolean desc = active ? !current.desc() : key != Key.NAME;
        String arrow = !active ? "" : current.desc() ? " &#9660;" : " &#9650;";
        String aria = !active ? "" : current.desc() ? " aria-sort=\"descending\"" : " aria-sort=\"ascending\"";
        return "<th class=\"" + cls + "\"" + aria + "><a href=\"" + escape(new Sort(key, desc).query()) + "\">" + label + arrow + "</a></th>";
    }

    /** Bytes in IEC units: "512 B", "1.5 KiB", "23 KiB", "2.4 MiB". */
    public static String humanSize(long bytes) {
        if (bytes < 1024) return bytes + " B";
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return (v < 10 ? String.format(Locale.ROOT, "%.1f", v) : String.format(Locale.ROOT, "%.0f", v)) + " " + units[u];
    }

    private static String iso(long millis) {
        return Instant.ofEpochMilli(millis).truncatedTo(ChronoUnit.SECONDS).toString();
    }

    // ------------------------------------------------------------------ JSON

    /**
     * The JSON array, sorted as asked: {@code [{"name":"a.txt","type":"file","size":12,"mtime":"2021-03-04T05:06:07Z"}]},
     * type "file" or "dir", size in bytes (0 for a directory), mtime in ISO-8601 UTC to the second.
     */
    public byte[] json(Sort sort) {
        return rendered.computeIfAbsent("json" + sort.query(), k -> renderJson(sort));
    }

    private byte[] renderJson(Sort sort) {
        List<Entry> list = sorted(sort);
        StringBuilder sb = new StringBuilder(16 + list.size() * 96).append('[');
        for (int i = 0; i < list.size(); i++) {
            Entry e = list.get(i);
            if (i > 0) sb.append(',');
            sb.append("\n{\"name\":");
            jsonString(sb, e.name());
            sb.append(",\"type\":\"").append(e.dir() ? "dir" : "file").append("\",\"size\":").append(e.size())
                    .append(",\"mtime\":\"").append(iso(e.mtimeMillis())).append("\"}");
        }
        return sb.append(list.isEmpty() ? "]\n" : "\n]\n").toString().getBytes(StandardCharsets.UTF_8);
    }

    private static void jsonString(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                default -> {
                    // Control characters, and the line separators some JavaScript parsers choke on.
                    if (c < 0x20 || c == 0x7f || c == '\u2028' || c == '\u2029') sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        sb.append('"');
    }

    public static String escape(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '&' -> sb.append("&amp;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&#39;");
                default -> sb.append(c);
            }
        }
        return sb.toString();
    }
}
