package flash.log;

import flash.config.AccessLogFormat;
import flash.http.Request;
import flash.pipeline.Completion;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * The access log: one line per exchange, from the completion point, so every exchange is logged exactly once
 * (answered, aborted, or refused with 400, 408 or 503). Lines are formatted on the connection's thread into a
 * per-thread {@link LogLine} and handed to an {@link AsyncLogWriter}; nothing here blocks.
 *
 * <p>{@code combined}: {@code REMOTE - - [02/Dec/2026:06:15:35 +0000] "GET /x HTTP/1.1" 200 1024 "REFERER" "UA"},
 * with nginx's \xHH escapes and "-" for what is missing. {@code json}: {@code time} (ISO-8601, UTC, ms),
 * {@code remote}, {@code method}, {@code target}, {@code protocol}, {@code status}, {@code bytes} (body bytes
 * actually sent), {@code duration_ms}, {@code referer}, {@code user_agent}, {@code aborted}, and {@code upstream_ms}
 * when proxied. An exchange aborted before any status was chosen (the client left first) is logged as 499, as
 * nginx does.
 */
public final class AccessLog implements Completion.Listener, AutoCloseable {
    private static final DateTimeFormatter CLF_TIME =
            DateTimeFormatter.ofPattern("'['dd/MMM/yyyy:HH:mm:ss Z']'", Locale.ROOT);
    private static final DateTimeFormatter ISO_SECOND = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss", Locale.ROOT);
    private static final ZoneId LOCAL = ZoneId.systemDefault();

    private final AccessLogFormat format;
    private final AsyncLogWriter writer;
    private final ThreadLocal<LogLine> lines = ThreadLocal.withInitial(LogLine::new);
    private volatile Stamp stamp = new Stamp(Long.MIN_VALUE, null, null);

    /** The time of the current second, formatted once per second rather than once per line. */
    private record Stamp(long second, byte[] clf, byte[] iso) {}

    /** {@code path}: the file to append to, or null for stdout. */
    public AccessLog(Path path, AccessLogFormat format) throws IOException {
        this.format = format;
        this.writer = new AsyncLogWriter(path, AsyncLogWriter.DEFAULT_BUFFER, "flash-access-log");
    }

    @Override
    public void completed(Completion c) {
        long now = System.currentTimeMillis();
        LogLine line = lines.get().reset();
        if (format == AccessLogFormat.JSON) json(c, now, line);
        else combined(c, now, line);
        if (format == AccessLogFormat.VERBOSE) requestHeaders(c, line);
        line.ch('\n');
        writer.offer(line.bytes(), line.length());
    }

    private static int status(Completion c) {
        return c.status() == 0 && c.aborted() ? 499 : c.status();
    }

    private void combined(Completion c, long now, LogLine l) {
        Request r = c.request();
        String remote = c.remote();
        l.clf(remote == null ? "-" : remote).ascii(" - - ").bytes(stamp(now).clf).ascii(" \"");
        if (r == null) {
            l.ch('-');
        } else {
            l.clf(r.methodToken()).ch(' ').clf(r.target()).ascii(r.http10() ? " HTTP/1.0" : " HTTP/1.1");
        }
        l.ascii("\" ").number(status(c)).ch(' ').number(c.bodyBytes()).ascii(" \"");
        String referer = r == null ? null : r.header("Referer");
        String agent = r == null ? null : r.header("User-Agent");
        l.clf(referer == null ? "-" : referer).ascii("\" \"").clf(agent == null ? "-" : agent).ch('"');
    }

    /** verbose: the request's header fields after the line, one per line, escaped as the combined fields are. */
    private static void requestHeaders(Completion c, LogLine l) {
        Request r = c.request();
        if (r == null) return;
        flash.http.Headers h = r.headers();
        for (int i = 0; i < h.size(); i++) l.ascii("\n> ").clf(h.name(i)).ascii(": ").clf(h.value(i));
    }

    private void json(Completion c, long now, LogLine l) {
        Request r = c.request();
        long ms = Math.floorMod(now, 1000L);
        l.ascii("{\"time\":\"").bytes(stamp(now).iso).ch('.')
                .ch((char) ('0' + ms / 100)).ch((char) ('0' + ms / 10 % 10)).ch((char) ('0' + ms % 10)).ascii("Z\"");
        l.ascii(",\"remote\":").json(c.remote());
        l.ascii(",\"method\":").json(r == null ? null : r.methodToken());
        l.ascii(",\"target\":").json(r == null ? null : r.target());
        l.ascii(",\"protocol\":").json(r == null ? null : r.http10() ? "HTTP/1.0" : "HTTP/1.1");
        l.ascii(",\"status\":").number(status(c));
        l.ascii(",\"bytes\":").number(c.bodyBytes());
        l.ascii(",\"duration_ms\":").millis(c.endNanos() - c.startNanos());
        l.ascii(",\"referer\":").json(r == null ? null : r.header("Referer"));
        l.ascii(",\"user_agent\":").json(r == null ? null : r.header("User-Agent"));
        l.ascii(",\"aborted\":").ascii(c.aborted() ? "true" : "false");
        if (c.upstreamNanos() >= 0) l.ascii(",\"upstream_ms\":").millis(c.upstreamNanos());
        l.ch('}');
    }

    private Stamp stamp(long nowMillis) {
        long second = Math.floorDiv(nowMillis, 1000L);
        Stamp s = stamp;
        if (s.second == second) return s;
        Instant t = Instant.ofEpochSecond(second);
        s = new Stamp(second, ZonedDateTime.ofInstant(t, LOCAL).format(CLF_TIME).getBytes(StandardCharsets.US_ASCII),
                ZonedDateTime.ofInstant(t, java.time.ZoneOffset.UTC).format(ISO_SECOND).getBytes(StandardCharsets.US_ASCII));
        stamp = s;
        return s;
    }

    /** Opens the file again (SIGHUP, SIGUSR1: logrotate moved it). */
    public void reopen() { writer.reopen(); }

    /** Lines lost because the writer fell behind (a stalled disk or pipe) or a write failed. */
    public long dropped() { return writer.dropped(); }

    @Override
    public void close() { writer.close(); }
}
