package flash.cli;

/** A problem with what the user asked for: printed as one line, exit status 2, no stack trace. */
public final class UsageError extends RuntimeException {
    public UsageError(String message) { super(message); }
}
