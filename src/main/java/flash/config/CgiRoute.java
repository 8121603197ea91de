package flash.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One {@code --cgi PREFIX=DIR} route: {@code PREFIX/name/extra?q} runs the program {@code DIR/name} with
 * {@code PATH_INFO=/extra}. {@code prefix} is kept without a trailing slash ({@code /cgi-bin}); {@code dir} is
 * absolute and real (symlinks resolved at start), so the per-request containment check compares real paths.
 */
public record CgiRoute(String prefix, Path dir) {
    /** Parses a flag value and resolves DIR; the message of the IllegalArgumentException names what is wrong. */
    public static CgiRoute parse(String spec) {
        int eq = spec.indexOf('=');
        if (eq <= 0 || eq == spec.length() - 1) throw new IllegalArgumentException("--cgi expects PREFIX=DIR, not '" + spec + "'");
        String prefix = spec.substring(0, eq);
        if (!prefix.startsWith("/")) throw new IllegalArgumentException("--cgi prefix must start with '/', not '" + prefix + "'");
        while (prefix.length() > 1 && prefix.endsWith("/")) prefix = prefix.substring(0, prefix.length() - 1);
        if (prefix.equals("/")) prefix = "";
        if (prefix.contains("//") || prefix.contains("/./") || prefix.contains("/../") || prefix.endsWith("/..")
                || prefix.endsWith("/.") || prefix.contains("?") || prefix.contains("%")) {
            throw new IllegalArgumentException("--cgi prefix must be a plain path, not '" + spec.substring(0, eq) + "'");
        }
        Path dir = Path.of(spec.substring(eq + 1));
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException("--cgi " + spec.substring(0, eq) + ": '" + dir + "' is not a directory");
        try {
            dir = dir.toRealPath();
        } catch (IOException e) {
            throw new IllegalArgumentException("--cgi " + spec.substring(0, eq) + ": cannot resolve '" + dir + "': " + e.getMessage());
        }
        return new CgiRoute(prefix, dir);
    }

    /** The flag value (for mp workers, which get the configuration as arguments). */
    public String spec() { return (prefix.isEmpty() ? "/" : prefix) + "=" + dir; }
}
