package flash.http;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * File extension to Content-Type, from the {@code mime.types} table shipped in the jar. Textual types carry
 * {@code charset=utf-8} so browsers never guess; unknown extensions are {@code application/octet-stream}.
 */
public final class MimeTypes {
    public static final String DEFAULT = "application/octet-stream";
    private static final Map<String, String> BY_EXTENSION = load();

    private MimeTypes() {}

    public static String forFileName(String name) {
        int dot = name.lastIndexOf('.');
        if (dot < 0 || dot == name.length() - 1) return DEFAULT;
        String type = BY_EXTENSION.get(name.substring(dot + 1).toLowerCase(Locale.ROOT));
        return type == null ? DEFAULT : type;
    }

    /**
     * The type for a file name, {@code --mime} rules first ({@code extra}: lower-case extension to type, as given),
     * then the built-in table. A rule's textual type without parameters gets {@code charset=utf-8}.
     */
    public static String forFileName(String name, Map<String, String> extra) {
        if (!extra.isEmpty()) {
            String lower = name.toLowerCase(Locale.ROOT);
            // The longest matching extension wins, so a rule for "tar.gz" beats one for "gz".
            String best = null;
            int bestLen = -1;
            for (Map.Entry<String, String> e : extra.entrySet()) {
                String ext = e.getKey();
                if (ext.length() > bestLen && lower.length() > ext.length() + 1 && lower.endsWith(ext)
                        && lower.charAt(lower.length() - ext.length() - 1) == '.') {
                    best = e.getValue();
                    bestLen = ext.length();
                }
            }
            if (best != null) return best.indexOf(';') < 0 && textual(best) ? best + "; charset=utf-8" : best;
        }
        return forFileName(name);
    }

    static boolean textual(String type) {
        return type.startsWith("text/") || type.equals("application/json") || type.equals("application/ld+json")
                || type.equals("application/manifest+json") || type.equals("image/svg+xml") || type.equals("application/xml")
                || type.endsWith("+xml") || type.equals("application/graphql") || type.equals("application/toml");
    }

    private static Map<String, String> load() {
        Map<String, String> map = new HashMap<>();
        try (InputStream in = MimeTypes.class.getResourceAsStream("mime.types")) {
            if (in == null) throw new IllegalStateException("mime.types missing from the jar");
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line; (line = r.readLine()) != null; ) {
                line = line.strip();
                if (line.isEmpty() || line.startsWith("#")) continue;
                String[] parts = line.split("\\s+");
                String type = textual(parts[0]) ? parts[0] + "; charset=utf-8" : parts[0];
                for (int i = 1; i < parts.length; i++) map.putIfAbsent(parts[i], type);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Map.copyOf(map);
    }
}
