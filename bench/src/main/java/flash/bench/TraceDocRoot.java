package flash.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns a CLF trace into a document root (each distinct URL a file of its logged size) and the request sequence
 * to replay, as the paper did with its Rice and ECE traces.
 */
public final class TraceDocRoot {
    /** The replay sequence plus what it took to build it. */
    public record Built(List<String> paths, int files, long bytes, int skippedLarge) {
    }

    private TraceDocRoot() {
    }

    /**
     * Maps a logged URL to a safe relative file path: query dropped, odd characters replaced, ".." removed, and
     * directory URLs served by index.html.
     */
    public static String sanitize(String url) {
        String p = url;
        int cut = indexOfAny(p, '?', '#');
        if (cut >= 0) {
            p = p.substring(0, cut);
        }
        if (p.startsWith("http://") || p.startsWith("https://")) {
            int slash = p.indexOf('/', p.indexOf("//") + 2);
            p = slash < 0 ? "/" : p.substring(slash);
        }
        boolean dir = p.isEmpty() || p.endsWith("/");
        List<String> segs = new ArrayList<>();
        for (String s : p.split("/")) {
            if (s.isEmpty() || s.equals(".") || s.equals("..")) {
                continue;
            }
            String clean = s.replaceAll("[^A-Za-z0-9._-]", "_");
            if (clean.startsWith(".")) {
                clean = "_" + clean.substring(1);
            }
            segs.add(clean.length() > 100 ? clean.substring(0, 100) : clean);
        }
        if (dir || segs.isEmpty()) {
            segs.add("index.html");
        }
        return "/" + String.join("/", segs);
    }

    private static int indexOfAny(String s, char a, char b) {
        int i = s.indexOf(a);
        int j = s.indexOf(b);
        return i < 0 ? j : j < 0 ? i : Math.min(i, j);
    }

    /**
     * Writes one file per distinct path (largest logged size wins) under root, skipping files above maxFileBytes.
     * A path that is also a directory of another path becomes PATH/index.html so both can exist.
     */
    public static Built build(List<ClfTrace.Request> trace, Path root, long maxFileBytes) throws IOException {
        Map<String, Long> sizes = new LinkedHashMap<>();
        List<String> sequence = new ArrayList<>(trace.size());
        for (ClfTrace.Request r : trace) {
            String p = sanitize(r.url());
            sizes.merge(p, r.size(), Math::max);
            sequence.add(p);
        }
        Set<String> dirs = new HashSet<>();
        for (String p : sizes.keySet()) {
            for (int i = p.indexOf('/', 1); i > 0; i = p.indexOf('/', i + 1)) {
                dirs.add(p.substring(0, i));
            }
        }
        Map<String, String> rename = new LinkedHashMap<>();
        long bytes = 0;
        int skipped = 0;
        for (Map.Entry<String, Long> e : sizes.entrySet()) {
            String p = dirs.contains(e.getKey()) ? e.getKey() + "/index.html" : e.getKey();
            if (e.getValue() > maxFileBytes) {
                skipped++;
                continue;
            }
            rename.put(e.getKey(), p);
            DocFiles.write(root.resolve(p.substring(1)), e.getValue());
            bytes += e.getValue();
        }
        List<String> replay = new ArrayList<>(sequence.size());
        for (String p : sequence) {
            String mapped = rename.get(p);
            if (mapped != null) {
                replay.add(mapped);
            }
        }
        return new Built(replay, rename.size(), bytes, skipped);
    }
}
