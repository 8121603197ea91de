package flash.bench;

import java.nio.file.Path;

/** What wrk asks for: one fixed path, or a path list replayed by {@link PathListScript}. */
public record Target(String path, Path pathList, Path script) {

    public static Target fixed(String path) {
        return new Target(path, null, null);
    }

    public static Target list(Path pathList, Path script) {
        return new Target("/", pathList, script);
    }
}
