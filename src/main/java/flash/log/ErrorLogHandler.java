package flash.log;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The error log: every java.util.logging record of the server, one line each ({@code 2026-12-02 11:15:35.123 WARN
 * flash.dispatch.ErrorLog: message}, a stack trace below it when there is one), handed to an {@link AsyncLogWriter} so that a loop that logs
 * never waits on stderr or a disk. Installed by {@code flash serve}, in place of JUL's console handler, which writes
 * synchronously.
 */
public final class ErrorLogHandler extends Handler {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS", Locale.ROOT);

    private final AsyncLogWriter writer;

    private ErrorLogHandler(AsyncLogWriter writer) {
        this.writer = writer;
        setFormatter(new LineFormatter());
    }

    /** The short level names of --log-level, and the JUL levels they stand for. */
    public static Level level(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "error" -> Level.SEVERE;
            case "warn" -> Level.WARNING;
            case "info" -> Level.INFO;
            case "debug" -> Level.FINE;
            default -> throw new IllegalArgumentException("unknown log level '" + name + "' (choose error, warn, info or debug)");
        };
    }

    /** Routes the root logger to {@code path} (null: stderr) at {@code level}; returns the handler (to reopen). */
    public static ErrorLogHandler install(Path path, Level level) throws IOException {
        AsyncLogWriter w = new AsyncLogWriter(path, 256 * 1024, "flash-error-log", path == null);
        ErrorLogHandler h = new ErrorLogHandler(w);
        h.setLevel(level);
        LogManager.getLogManager().reset();
        Logger root = Logger.getLogger("");
        root.setLevel(level);
        root.addHandler(h);
        return h;
    }

    @Override
    public void publish(LogRecord r) {
        if (!isLoggable(r)) return;
        byte[] line = getFormatter().format(r).getBytes(StandardCharsets.UTF_8);
        writer.offer(line, line.length);
    }

    public void reopen() { writer.reopen(); }

    public long dropped() { return writer.dropped(); }

    @Override
    public void flush() { }

    @Override
    public void close() { writer.close(); }

    private static String levelName(Level l) {
        int v = l.intValue();
        if (v >= Level.SEVERE.intValue()) return "ERROR";
        if (v >= Level.WARNING.intValue()) return "WARN";
        if (v >= Level.INFO.intValue()) return "INFO";
        return "DEBUG";
    }

    /** time, level, logger, message (and the throwable's trace, indented below), one record per line. */
    static final class LineFormatter extends Formatter {
        @Override
        public String format(LogRecord r) {
            StringBuilder b = new StringBuilder(128);
            b.append(LocalDateTime.ofInstant(r.getInstant(), ZoneId.systemDefault()).format(TIME)).append(' ')
                    .append(levelName(r.getLevel())).append(' ')
                    .append(r.getLoggerName() == null ? "flash" : r.getLoggerName()).append(": ").append(formatMessage(r));
            if (r.getThrown() != null) {
                java.io.StringWriter sw = new java.io.StringWriter();
                r.getThrown().printStackTrace(new java.io.PrintWriter(sw));
                b.append('\n').append(sw.toString().stripTrailing().replace("\n", "\n    "));
            }
            return b.append('\n').toString();
        }
    }
}
