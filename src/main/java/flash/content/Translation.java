package flash.content;

/** The outcome of translating a URL path against the document root. */
public sealed interface Translation {
    /** A regular file to serve. */
    record Found(FileEntry entry) implements Translation {}
    /** A directory named without its trailing slash: redirect so relative links resolve. */
    record Redirect(String location) implements Translation {}
    /** A directory listing (only with --list-dirs): its entries, drawn as HTML or JSON per request. */
    record Listing(DirectoryListing listing) implements Translation {}
    record NotFound() implements Translation {}
    record Forbidden() implements Translation {}
    /** An I/O error: 500 for this request only. */
    record Failed(String reason) implements Translation {}

    NotFound NOT_FOUND = new NotFound();
    Forbidden FORBIDDEN = new Forbidden();

    /** Negative and redirect results are small and immutable: they can be cached like files. */
    default boolean cacheable() { return !(this instanceof Failed); }
}
