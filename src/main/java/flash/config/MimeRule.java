package flash.config;

import java.util.Locale;

/**
 * One {@code --mime EXT=TYPE} rule: files whose name ends in {@code .EXT} are sent with Content-Type TYPE, ahead of
 * the built-in table. A textual TYPE without parameters gets {@code ; charset=utf-8}, as the built-in ones do.
 */
public record MimeRule(String ext, String type) {
    public static MimeRule parse(String spec) {
        int eq = spec.indexOf('=');
        if (eq <= 0 || eq == spec.length() - 1) throw new IllegalArgumentException("--mime expects EXT=TYPE, not '" + spec + "'");
        String ext = spec.substring(0, eq).strip();
        if (ext.startsWith(".")) ext = ext.substring(1);
        if (ext.isEmpty() || !ext.matches("[A-Za-z0-9_+\\-.]+") || ext.endsWith(".")) {
            throw new IllegalArgumentException("--mime extension must be letters, digits, '_', '+', '-' or '.', not '" + spec.substring(0, eq) + "'");
        }
        String type = spec.substring(eq + 1).strip();
        // type/subtype, optionally with parameters: tokens as in RFC 9110 section 8.3.1
        if (!type.matches("[A-Za-z0-9!#$&^_.+\\-]+/[A-Za-z0-9!#$&^_.+\\-]+(\\s*;\\s*[A-Za-z0-9!#$&^_.+\\-]+=[A-Za-z0-9!#$&^_.+\\-\"]+)*")) {
            throw new IllegalArgumentException("--mime ." + ext + ": '" + type + "' is not a media type such as text/markdown");
        }
        return new MimeRule(ext.toLowerCase(Locale.ROOT), type);
    }

    public String spec() { return ext + "=" + type; }
}
