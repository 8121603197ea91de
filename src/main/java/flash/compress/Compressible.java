package flash.compress;

import java.util.Locale;
import java.util.Set;

/**
 * Which Content-Types gain from compression: text and text-like formats (markup, scripts, JSON, SVG, WebAssembly,
 * uncompressed font formats). Images, audio, video, archives and WOFF/WOFF2 fonts are compressed already: another
 * pass costs CPU and saves nothing.
 */
public final class Compressible {
    private static final Set<String> TYPES = Set.of(
            "application/javascript", "application/x-javascript", "application/ecmascript", "application/json",
            "application/xml", "application/wasm", "application/graphql", "application/toml", "application/x-sh",
            "application/vnd.ms-fontobject", "application/x-font-ttf", "font/ttf", "font/otf", "font/collection",
            "image/svg+xml", "image/x-icon", "image/vnd.microsoft.icon", "image/bmp");

    private Compressible() {}

    /** Whether a Content-Type (parameters allowed) is worth compressing. */
    public static boolean type(String contentType) {
        if (contentType == null) return false;
        int semi = contentType.indexOf(';');
        String t = (semi < 0 ? contentType : contentType.substring(0, semi)).trim().toLowerCase(Locale.ROOT);
        return t.startsWith("text/") || TYPES.contains(t) || t.endsWith("+xml") || t.endsWith("+json");
    }

    /** Whether a file with this name and type is worth compressing ({@code .svgz} is SVG already gzipped). */
    public static boolean file(String fileName, String contentType) {
        String name = fileName.toLowerCase(Locale.ROOT);
        return type(contentType) && !name.endsWith(".svgz") && !Coding.isSidecarName(name);
    }
}
