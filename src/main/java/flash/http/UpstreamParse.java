package flash.http;

/**
 * What {@link ResponseParser#parse} yields: an {@link UpstreamHead}, {@link #NEED_MORE}, or {@link Invalid}.
 * A sealed type rather than an exception, so the proxy's switch must handle every outcome.
 */
public sealed interface UpstreamParse permits UpstreamHead, UpstreamParse.NeedMore, UpstreamParse.Invalid {
    NeedMore NEED_MORE = new NeedMore();

    /** The head has not fully arrived; nothing was consumed. */
    final class NeedMore implements UpstreamParse {
        private NeedMore() {}
        @Override public String toString() { return "NEED_MORE"; }
    }

    /**
     * The upstream's response (or its framing) is malformed: a proxy answers its client 502 and must not reuse
     * the upstream connection, since it can no longer know where the next response starts.
     */
    record Invalid(String reason) implements UpstreamParse, UpstreamFraming {}
}
