package flash.fastcgi;

import java.nio.ByteBuffer;

/**
 * Walks the records a FastCGI responder sends, in place in the connection's read buffer (read mode): STDOUT
 * content is handed out as a count of bytes ready at the buffer's position (the caller takes them as a view, so
 * a body is never copied), STDERR content and END_REQUEST go to a {@link Sink}, padding and other records are
 * skipped. Never throws; a malformed stream is reported as {@link #FAILED}.
 */
public final class RecordReader {
    /** STDOUT bytes are not here yet: read more. */
    public static final int NEED_MORE = 0;
    /** END_REQUEST came: the response is complete. */
    public static final int ENDED = -1;
    /** Not FastCGI: a bad version, or an END_REQUEST of the wrong size. */
    public static final int FAILED = -2;

    /** What is not response body. */
    public interface Sink {
        /** A piece of STDERR content (a view valid during the call). */
        void stderr(ByteBuffer piece);

        void end(int appStatus, int protocolStatus);
    }

    private boolean inHeader = true;
    private int type;
    private int id;
    private int contentLeft;
    private int paddingLeft;
    private boolean ended;
    private String failure;

    public boolean ended() { return ended; }

    public String failure() { return failure; }

    /** Whether the reader stands at a record boundary (nothing half-read). */
    public boolean atBoundary() { return inHeader; }

    /**
     * Advances through {@code buf} until STDOUT content is at its position (returns how many bytes of it are
     * there), the response ended ({@link #ENDED}), more input is needed ({@link #NEED_MORE}), or the stream is
     * malformed ({@link #FAILED}). Consumed bytes are skipped (position moves).
     */
    public int next(ByteBuffer buf, Sink sink) {
        if (failure != null) return FAILED;
        while (true) {
            if (ended) return ENDED;
            if (inHeader) {
                if (buf.remaining() < Records.HEADER) return NEED_MORE;
                int p = buf.position();
                int version = buf.get(p) & 0xff;
                if (version != Records.VERSION) {
                    failure = "FastCGI version " + version;
                    return FAILED;
                }
                type = buf.get(p + 1) & 0xff;
                id = ((buf.get(p + 2) & 0xff) << 8) | (buf.get(p + 3) & 0xff);
                contentLeft = ((buf.get(p + 4) & 0xff) << 8) | (buf.get(p + 5) & 0xff);
                paddingLeft = buf.get(p + 6) & 0xff;
                buf.position(p + Records.HEADER);
                inHeader = false;
                if (id == Records.REQUEST_ID && type == Records.END_REQUEST && contentLeft != 8) {
                    failure = "END_REQUEST of " + contentLeft + " bytes";
                    return FAILED;
                }
            }
            if (contentLeft > 0) {
                if (!buf.hasRemaining()) return NEED_MORE;
                boolean ours = id == Records.REQUEST_ID;
                if (ours && type == Records.STDOUT) return Math.min(contentLeft, buf.remaining());
                if (ours && type == Records.END_REQUEST) {
                    if (buf.remaining() < 8) return NEED_MORE;
                    int p = buf.position();
                    int app = buf.getInt(p);
                    int proto = buf.get(p + 4) & 0xff;
                    buf.position(p + 8);
                    contentLeft = 0;
                    ended = true;
                    skipPadding(buf);
                    sink.end(app, proto);
                    return ENDED;
                }
                int n = Math.min(contentLeft, buf.remaining());
                if (ours && type == Records.STDERR) sink.stderr(buf.slice(buf.position(), n));
                buf.position(buf.position() + n);
                contentLeft -= n;
                if (contentLeft > 0) return NEED_MORE;
            }
            if (!skipPadding(buf)) return NEED_MORE;
        }
    }

    /**
     * Looks ahead without consuming anything: when every record from the buffer's position up to and including
     * END_REQUEST (and its padding) is in {@code buf}, the number of STDOUT bytes among them (0 or more); otherwise
     * -1 (the response goes on past the buffer, or the stream is malformed, which {@link #next} then reports). A
     * small response usually arrives whole in one read: the caller can then take it at once and free the
     * connection before the client has it.
     */
    public int wholeStdout(ByteBuffer buf) {
        if (failure != null || ended) return -1;
        int p = buf.position();
        int limit = buf.limit();
        boolean header = inHeader;
        int t = type, i = id, content = contentLeft, padding = paddingLeft;
        long total = 0;
        while (true) {
            if (header) {
                if (limit - p < Records.HEADER || (buf.get(p) & 0xff) != Records.VERSION) return -1;
                t = buf.get(p + 1) & 0xff;
                i = ((buf.get(p + 2) & 0xff) << 8) | (buf.get(p + 3) & 0xff);
                content = ((buf.get(p + 4) & 0xff) << 8) | (buf.get(p + 5) & 0xff);
                padding = buf.get(p + 6) & 0xff;
                p += Records.HEADER;
            }
            header = true;
            if (limit - p < content + padding) return -1;
            boolean ours = i == Records.REQUEST_ID;
            if (ours && t == Records.END_REQUEST) return content == 8 && total <= Integer.MAX_VALUE ? (int) total : -1;
            if (ours && t == Records.STDOUT) total += content;
            p += content + padding;
        }
    }

    /** STDOUT bytes the caller took from the position of the buffer last passed to {@link #next}. */
    public void consume(ByteBuffer buf, int n) {
        buf.position(buf.position() + n);
        contentLeft -= n;
        if (contentLeft == 0) skipPadding(buf);
    }

    private boolean skipPadding(ByteBuffer buf) {
        int n = Math.min(paddingLeft, buf.remaining());
        buf.position(buf.position() + n);
        paddingLeft -= n;
        if (paddingLeft == 0 && contentLeft == 0) {
            inHeader = true;
            return true;
        }
        return false;
    }
}
