package flash.hardening;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Collects what the server logs (java.util.logging) at WARNING and above while a test runs. The event loops
 * and blocking drivers log every exception that reaches their top: a test that expects clients to misbehave
 * harmlessly asserts that nothing arrived here.
 */
final class LogCapture extends Handler implements AutoCloseable {
    private final Logger root = Logger.getLogger("flash");
    private final List<LogRecord> records = new CopyOnWriteArrayList<>();

    LogCapture() {
        setLevel(Level.WARNING);
        root.addHandler(this);
    }

    @Override
    public void publish(LogRecord r) {
        if (r.getLevel().intValue() >= Level.WARNING.intValue()) records.add(r);
    }

    /** Everything logged at WARNING or above, one line each, with the exception if any. */
    List<String> problems() {
        return records.stream().map(r -> r.getLevel() + " " + r.getLoggerName() + ": " + r.getMessage()
                + (r.getThrown() == null ? "" : " -- " + r.getThrown())).toList();
    }

    @Override public void flush() { }

    @Override
    public void close() { root.removeHandler(this); }
}
