package flash.pipeline;

import flash.http.BadRequest;
import flash.http.Status;

import java.io.IOException;

/** A malformed or oversized request body, found while a handler reads it: it answers with {@link #status()}. */
public final class BadBodyException extends IOException {
    private final BadRequest failure;

    BadBodyException(BadRequest failure) {
        super("bad request body: " + failure.reason());
        this.failure = failure;
    }

    public Status status() { return failure.status(); }
}
