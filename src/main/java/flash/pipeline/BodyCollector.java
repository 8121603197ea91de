package flash.pipeline;

import flash.http.Status;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Reads a whole request body into memory, up to a bound. CGI (RFC 3875 section 4.1.2) and FastCGI responders must be
 * told CONTENT_LENGTH before they read their input, so a chunked body has to be collected first; past the bound it
 * gets 411, which says what would work (a Content-Length, streamed) where the connection's own check would say 413.
 * Runs on the exchange's thread, resuming through {@link Exchange#onBody} as the client delivers.
 */
public final class BodyCollector {

    /** Where the collection ends: exactly one of these is called, once. */
    public interface Done {
        void collected(byte[] body);

        void refused(Status status, String why);

        /** The client went away mid-body. */
        void gone();
    }

    private final Exchange ex;
    private final long max;
    private final Done done;
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private boolean finished;

    private BodyCollector(Exchange ex, long max, Done done) {
        this.ex = ex;
        this.max = max;
        this.done = done;
    }

    /** Starts collecting {@code ex}'s body, at most {@code max} bytes. */
    public static void collect(Exchange ex, long max, Done done) {
        new BodyCollector(ex, max, done).step();
    }

    private void step() {
        if (finished) return;
        try {
            while (true) {
                ByteBuffer piece = ex.bodyNext();
                if (piece != null) {
                    int n = piece.remaining();
                    if (bytes.size() + (long) n > max) {
                        finish();
                        done.refused(Status.LENGTH_REQUIRED, "chunked request body larger than --max-body");
                        return;
                    }
                    byte[] b = new byte[n];
                    piece.get(b);
                    bytes.write(b, 0, n);
                    ex.bodyConsumed(n);
                } else if (ex.bodyEnded()) {
                    finish();
                    done.collected(bytes.toByteArray());
                    return;
                } else {
                    ex.onBody(this::step);
                    return;
                }
            }
        } catch (BadBodyException e) {
            finish();
            done.refused(e.status() == Status.CONTENT_TOO_LARGE ? Status.LENGTH_REQUIRED : e.status(), e.getMessage());
        } catch (IOException e) {
            finish();
            done.gone();
        }
    }

    private void finish() { finished = true; }
}
