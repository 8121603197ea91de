package flash.http;

import java.util.ArrayList;
import java.util.List;

/** Request header fields in arrival order; names compared case-insensitively. Small, so a list beats a map. */
public final class Headers {
    private final List<String> names = new ArrayList<>(16);
    private final List<String> values = new ArrayList<>(16);

    void add(String name, String value) {
        names.add(name);
        values.add(value);
    }

    public int size() { return names.size(); }
    public String name(int i) { return names.get(i); }
    public String value(int i) { return values.get(i); }

    /** The first value of a field, or null. */
    public String get(String name) {
        for (int i = 0; i < names.size(); i++) {
            if (names.get(i).equalsIgnoreCase(name)) return values.get(i);
        }
        return null;
    }

    public List<String> all(String name) {
        List<String> out = new ArrayList<>(1);
        for (int i = 0; i < names.size(); i++) {
            if (names.get(i).equalsIgnoreCase(name)) out.add(values.get(i));
        }
        return out;
    }

    public int count(String name) {
        int n = 0;
        for (String s : names) if (s.equalsIgnoreCase(name)) n++;
        return n;
    }
}
