package flash.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One {@code --static PREFIX=DIR} route: {@code PREFIX/rest} is the file {@code DIR/rest}, served as the document
 * root's files are (nginx's {@code alias}). {@code prefix} is kept without a trailing slash ({@code /docs}) and
 * matches {@code /docs/...}; {@code dir} is real (symlinks resolved at start).
 */
public record StaticRoute(String prefix, Path dir) {
    /** Parses a flag value and resolves DIR; the message of the IllegalArgumentException names what is wrong. */
    public static StaticRoute parse(String spec) {
        int eq = spec.indexOf('=');
        if (eq <= 0 || eq == spec.length() - 1) throw new IllegalArgumentException("--static expects PREFIX=DIR, not '" + spec + "'");
        String given = spec.substring(0, eq);
        String prefix = given;
        if (!prefix.startsWith("/")) throw new IllegalArgumentException("--static prefix must start with '/', not '" + given + "'");
        while (prefix.endsWith("/")) prefix = prefix.substring(0, prefix.length() - 1);
        if (prefix.isEmpty()) throw new IllegalArgumentException("--static prefix '/' is the document root itself: give DIR as the root instead");
        if (prefix.contains("//") || prefix.contains("/./") || prefix.contains("/../") || prefix.endsWith("/..")
                || prefix.endsWith("/.") || prefix.contains("?") || prefix.contains("%")) {
            throw new IllegalArgumentException("--static prefix must be a plain path, not '" + given + "'");
        }
        Path dir = Path.of(spec.substring(eq + 1));
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException("--static " + given + ": '" + dir + "' is not a directory");
        try {
            dir = dir.toRealPath();
        } catch (IOException e) {
            throw new IllegalArgumentException("--static " + given + ": cannot resolve '" + dir + "': " + e.getMessage());
        }
        return new StaticRoute(prefix, dir);
    }

    /** The flag value (for mp workers, which get the configuration as arguments). */
    public String spec() { return prefix + "=" + dir; }
}
