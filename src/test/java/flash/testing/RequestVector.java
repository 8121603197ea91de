package flash.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * One hostile (or valid) request vector from {@code src/test/resources/corpus/requests/}: the exact bytes to
 * send, the statuses of the responses that must come back in order, and whether the server must then close
 * the connection or keep it usable. The file format is documented in that folder's README.md.
 */
public record RequestVector(String name, byte[] bytes, List<Integer> statuses, boolean close, String why,
                            List<String> expectedHeaders) {

    private static final Pattern EXPECT = Pattern.compile("#\\s*expect:\\s*((?:\\d{3}\\s+)+)(close|keep)\\s*");
    private static final Pattern REPEAT = Pattern.compile("\\{\\{(\\d+)\\*(.*?)}}");

    @Override public String toString() { return name; }

    /** All vectors of a corpus folder on the test class path, e.g. {@code "/corpus/requests"}, sorted by name. */
    public static List<RequestVector> loadAll(String resourceDir) {
        try {
            Path dir = Path.of(RequestVector.class.getResource(resourceDir).toURI());
            try (Stream<Path> files = Files.list(dir)) {
                return files.filter(p -> p.getFileName().toString().endsWith(".http")).sorted()
                        .map(RequestVector::load).toList();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("corpus folder " + resourceDir + " not on the test class path", e);
        }
    }

    public static RequestVector load(Path file) {
        String name = file.getFileName().toString().replaceFirst("\\.http$", "");
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Integer> statuses = null;
        boolean close = false;
        String why = "";
        List<String> headers = new ArrayList<>();
        int i = 0;
        for (; i < lines.size() && lines.get(i).startsWith("#"); i++) {
            String l = lines.get(i);
            Matcher m = EXPECT.matcher(l);
            if (m.matches()) {
                statuses = Stream.of(m.group(1).trim().split("\\s+")).map(Integer::valueOf).toList();
                close = m.group(2).equals("close");
            } else if (l.matches("#\\s*why:.*")) {
                why = l.substring(l.indexOf(':') + 1).trim();
            } else if (l.matches("#\\s*header:.*")) {
                headers.add(l.substring(l.indexOf(':') + 1).trim());
            } else if (!l.matches("#\\s*(note:.*)?")) {
                throw new IllegalArgumentException(file + ": unknown directive line: " + l);
            }
        }
        if (statuses == null) throw new IllegalArgumentException(file + ": missing '# expect: <status...> close|keep' line");
        // Literal newlines of the file are layout only: every byte on the wire is written explicitly.
        StringBuilder raw = new StringBuilder();
        for (; i < lines.size(); i++) raw.append(lines.get(i));
        byte[] bytes = decode(expand(raw.toString()));
        if (bytes.length == 0) throw new IllegalArgumentException(file + ": empty request");
        return new RequestVector(name, bytes, statuses, close, why, List.copyOf(headers));
    }

    /** {@code {{N*text}}} repeats text N times (text may hold escapes); for absurdly long lines and many fields. */
    static String expand(String s) {
        Matcher m = REPEAT.matcher(s);
        StringBuilder out = new StringBuilder();
        while (m.find()) m.appendReplacement(out, Matcher.quoteReplacement(m.group(2).repeat(Integer.parseInt(m.group(1)))));
        m.appendTail(out);
        return out.toString();
    }

    /** C-style escapes: \r \n \t \v \f \0 \\ \xHH; any other character is sent as its UTF-8 bytes. */
    public static byte[] decode(String s) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\') {
                byte[] b = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                out.write(b, 0, b.length);
                continue;
            }
            if (++i >= s.length()) throw new IllegalArgumentException("dangling backslash in: " + s);
            char e = s.charAt(i);
            switch (e) {
                case 'r' -> out.write('\r');
                case 'n' -> out.write('\n');
                case 't' -> out.write('\t');
                case 'v' -> out.write(0x0b);
                case 'f' -> out.write(0x0c);
                case '0' -> out.write(0);
                case '\\' -> out.write('\\');
                case 'x' -> {
                    out.write(Integer.parseInt(s.substring(i + 1, i + 3), 16));
                    i += 2;
                }
                default -> throw new IllegalArgumentException("unknown escape \\" + e + " in: " + s);
            }
        }
        return out.toByteArray();
    }
}
