package flash.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

/** Common Log Format reader: keeps successful GETs (status 200 with a byte count), in log order. */
public final class ClfTrace {
    /** One replayable request: the URL path as logged and the response size. */
    public record Request(String url, long size) {
    }

    // host ident user [date] "METHOD URL [PROTO]" status size
    private static final Pattern LINE = Pattern.compile(
            "^\\S+ \\S+ \\S+ \\[[^\\]]*\\] \"(\\S+) (\\S+)(?: [^\"]*)?\" (\\d{3}) (\\d+|-)\\s*$");

    private ClfTrace() {
    }

    /** Null when the line is malformed or not a 200 GET with a size. */
    public static Request parseLine(String line) {
        Matcher m = LINE.matcher(line);
        if (!m.matches() || !m.group(1).equals("GET") || !m.group(3).equals("200") || m.group(4).equals("-")) {
            return null;
        }
        return new Request(m.group(2), Long.parseLong(m.group(4)));
    }

    /** Reads up to maxRequests kept requests from a plain or .gz log. */
    public static List<Request> read(Path log, int maxRequests) throws IOException {
        List<Request> out = new ArrayList<>();
        try (InputStream raw = Files.newInputStream(log);
             InputStream in = log.toString().endsWith(".gz") ? new GZIPInputStream(raw, 1 << 16) : raw;
             BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.ISO_8859_1))) {
            String line;
            while ((line = r.readLine()) != null && out.size() < maxRequests) {
                Request req = parseLine(line);
                if (req != null) {
                    out.add(req);
                }
            }
        }
        return out;
    }
}
