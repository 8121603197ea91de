package flash.bench;

import java.util.ArrayList;
import java.util.List;

/** Progress to stderr, and notes worth repeating in summary.md. */
public final class BenchLog {
    private final List<String> notes = new ArrayList<>();

    public void info(String msg) {
        System.err.println(msg);
    }

    public synchronized void note(String msg) {
        notes.add(msg);
        System.err.println("NOTE: " + msg);
    }

    public synchronized List<String> notes() {
        return List.copyOf(notes);
    }
}
