package flash.http;

/** What {@link RequestParser#parse} yields: a {@link Request}, a {@link BadRequest}, or {@link #NEED_MORE}. */
public sealed interface ParseResult permits Request, BadRequest, ParseResult.NeedMore {
    NeedMore NEED_MORE = new NeedMore();

    final class NeedMore implements ParseResult {
        private NeedMore() {}
        @Override public String toString() { return "NEED_MORE"; }
    }
}
