package flash.http;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Request header fields in arrival order; names compared case-insensitively. Small, so a list beats a map: names and
 * values alternate in one array, room for eight fields before it grows (two lists of sixteen were a tenth of what a
 * cached response allocated; docs/performance.md section 26).
 */
public final class Headers {
    private String[] fields = new String[16];
    private int size;

    void add(String name, String value) {
        int at = size * 2;
        if (at == fields.length) fields = Arrays.copyOf(fields, at * 2);
        fields[at] = name;
        fields[at + 1] = value;
        size++;
    }

    public int size() { return size; }

    public String name(int i) {
        return fields[2 * checked(i)];
    }

    public String value(int i) {
        return fields[2 * checked(i) + 1];
    }

    private int checked(int i) {
        if (i < 0 || i >= size) throw new IndexOutOfBoundsException("field " + i + " of " + size);
        return i;
    }

    /** The first value of a field, or null. */
    public String get(String name) {
        for (int i = 0; i < size; i++) {
            if (fields[2 * i].equalsIgnoreCase(name)) return fields[2 * i + 1];
        }
        return null;
    }

    public List<String> all(String name) {
        List<String> out = new ArrayList<>(1);
        for (int i = 0; i < size; i++) {
            if (fields[2 * i].equalsIgnoreCase(name)) out.add(fields[2 * i + 1]);
        }
        return out;
    }

    public int count(String name) {
        int n = 0;
        for (int i = 0; i < size; i++) if (fields[2 * i].equalsIgnoreCase(name)) n++;
        return n;
    }
}
