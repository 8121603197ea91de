package flash.pipeline;

import flash.http.Status;

/**
 * Why an exchange ended with a 5xx status: a fixed, bounded set (the {@code cause} label of
 * {@code flash_errors_total}), so that the status page never grows with what clients or upstreams send. Every 5xx
 * exchange has exactly one cause; the ones Flash produced because something failed ({@link #logged()}) also leave a
 * rate-limited line in the error log.
 */
public enum ErrorCause {
    /** 500: the path translation threw (on a helper under amped, inline elsewhere): a defect, never expected. */
    TRANSLATION("translation", true),
    /** 500: the file system answered an I/O error while a file was translated, opened or read (EIO, ...). */
    FILE_IO("file_io", true),
    /** 500: bringing a mapped body into memory failed before any byte was sent (the file shrank under the mapping). */
    FILE_READ("file_read", true),
    /** 502: no upstream could be reached, or the one reached failed or answered something that is not HTTP. */
    UPSTREAM("upstream", true),
    /** 504: an upstream did not connect or answer in time. */
    UPSTREAM_TIMEOUT("upstream_timeout", true),
    /** An upstream's own 5xx, passed on unchanged: not Flash's failure, so not logged. */
    UPSTREAM_STATUS("upstream_status", false),
    /** 501 and 505: the client asked for a method or protocol version Flash does not implement; not logged. */
    UNSUPPORTED("unsupported", false),
    /** 500, 502, 504: a CGI program could not start, failed, went silent past --cgi-timeout or wrote malformed output. */
    CGI("cgi", true),
    /** 502, 504: a FastCGI backend could not be reached, failed, timed out or answered malformed records. */
    FASTCGI("fastcgi", true),
    /** 503: a bounded queue was full (FastCGI requests waiting for a backend connection): overload, not a failure. */
    OVERLOAD("overload", false),
    /**
     * 500: an embedding application's handler (flash.embed) threw before its response began; 503: it was still running
     * when the server stopped (a blocking driver's connection thread was waiting for it).
     */
    EMBED("embed", true),
    /** 503: the health path (--health-path) while the server drains: the answer a load balancer asked for; not logged. */
    DRAINING("draining", false),
    /** Any other 5xx, for which no cause was recorded (a path these causes do not cover yet): logged. */
    OTHER("other", true);

    private final String label;
    private final boolean logged;

    ErrorCause(String label, boolean logged) {
        this.label = label;
        this.logged = logged;
    }

    /** The metric label value. */
    public String label() { return label; }

    /** Whether Flash failed (an error-log line is due), rather than passing on a status it was asked for. */
    public boolean logged() { return logged; }

    /** The cause of a 5xx for which none was recorded where it was decided. */
    public static ErrorCause unrecorded(int status) {
        return status == Status.NOT_IMPLEMENTED.code() || status == Status.HTTP_VERSION_NOT_SUPPORTED.code()
                ? UNSUPPORTED : OTHER;
    }

    /**
     * A throwable in one line: its class and message, where it was thrown and, when that is outside Flash (inside the
     * JDK's TimSort, say), the first Flash frame that led there. What the error log needs to find a defect.
     */
    public static String describe(Throwable t) {
        if (t == null) return "no exception";
        StringBuilder sb = new StringBuilder(t.toString());
        StackTraceElement[] st = t.getStackTrace();
        if (st.length > 0) {
            sb.append(" at ").append(st[0]);
            if (!st[0].getClassName().startsWith("flash.")) {
                for (StackTraceElement e : st) {
                    if (e.getClassName().startsWith("flash.")) {
                        sb.append(" via ").append(e);
                        break;
                    }
                }
            }
        }
        if (t.getCause() != null && t.getCause() != t) sb.append("; caused by ").append(t.getCause());
        return sb.toString();
    }
}
