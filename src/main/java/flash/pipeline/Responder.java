package flash.pipeline;

import flash.content.ChunkCache;
import flash.content.FileEntry;
import flash.content.FileHandle;
import flash.content.HeaderCache;
import flash.content.Translation;
import flash.http.BadRequest;
import flash.http.ByteRange;
import flash.http.Conditionals;
import flash.http.Method;
import flash.http.Ranges;
import flash.http.Request;
import flash.http.RequestTarget;
import flash.http.ResponseHead;
import flash.http.Status;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Decides every response: which status, which headers, which body. Pure protocol logic over a request and
 * a translation; it never touches a socket and never blocks (the translation already did the disk work).
 */
public final class Responder {
    private final HeaderCache headerCache;
    private final ChunkCache chunkCache; // null when the file cache is off
    private volatile BodyPath bodyPath = BodyPath.fromSystemProperties();

    public Responder(HeaderCache headerCache) { this(headerCache, null); }

    public Responder(HeaderCache headerCache, ChunkCache chunkCache) {
        this.headerCache = headerCache;
        this.chunkCache = chunkCache;
    }

    /** How file bodies leave (mapped chunks or sendfile), by size and transport. */
    public BodyPath bodyPath() { return bodyPath; }

    /** Replaces the body-path rule (tests: the mapped path on plain sockets); responses already built keep theirs. */
    public void bodyPath(BodyPath p) { this.bodyPath = p; }

    /**
     * First step, before any disk work: returns an immediate {@link Response} (refused method, bad path), or
     * the {@link RequestTarget.Normalized} path to translate.
     */
    public Object begin(Request req) {
        Response refused = refuseMethod(req);
        if (refused != null) return refused;
        Object n = RequestTarget.normalize(req.rawPath());
        if (n instanceof BadRequest) return error(Status.BAD_REQUEST, req, !req.keepAlive());
        return n;
    }

    /** For GET/HEAD-only handlers: answers 405 or 501 and returns true, or returns false when the method is allowed. */
    public static boolean refused(Exchange ex) {
        Response r = refuseMethod(ex.request());
        if (r != null) ex.respond(r);
        return r != null;
    }

    /** Files are GET and HEAD: a known other method is 405 with Allow, an unknown one 501; null if allowed. */
    public static Response refuseMethod(Request req) {
        if (req.method() == Method.UNKNOWN) return error(Status.NOT_IMPLEMENTED, req, !req.keepAlive());
        if (!req.method().servesFiles()) return error(Status.METHOD_NOT_ALLOWED, req, !req.keepAlive());
        return null;
    }

    /** A response whose file body, if any, is mapped (as for a transport without sendfile). */
    public Response respond(Request req, Translation t) { return respond(req, t, false); }

    /**
     * {@code sendfile}: the connection's transport prefers file bodies as regions of the open file
     * ({@link BodyPath#prefersSendfile}); otherwise bodies the mapped-file cache covers are sent from its chunks.
     */
    public Response respond(Request req, Translation t, boolean sendfile) {
        boolean close = !req.keepAlive();
        return switch (t) {
            case Translation.Found f -> file(req, f.entry(), close, sendfile);
            case Translation.Redirect r -> redirect(req, r.location(), close);
            case Translation.Listing l -> listing(req, l.listing(), close);
            case Translation.NotFound nf -> error(Status.NOT_FOUND, req, close);
            case Translation.Forbidden fb -> error(Status.FORBIDDEN, req, close);
            case Translation.Failed f -> error(Status.INTERNAL_SERVER_ERROR, req, close);
        };
    }

    // ------------------------------------------------------------------ files

    private Response file(Request req, FileEntry e, boolean close, boolean sendfile) {
        boolean http10 = req.http10();
        switch (Conditionals.evaluate(req, e.etag(), e.lastModifiedSeconds())) {
            case NOT_MODIFIED -> {
                byte[] h = HeaderCache.fileHead(Status.NOT_MODIFIED, e, null).encode(http10, -1, false, close);
                return new Response(Status.NOT_MODIFIED, wrap(h), List.of(), 0, close);
            }
            case PRECONDITION_FAILED -> { return error(Status.PRECONDITION_FAILED, req, close); }
            case PROCEED -> { }
        }
        String range = req.header("Range");
        if (range != null && req.method() == Method.GET && Conditionals.rangeApplies(req, e.etag(), e.lastModifiedSeconds())) {
            switch (Ranges.evaluate(range, e.size())) {
                case Ranges.Unsatisfiable u -> {
                    ResponseHead h = errorHead(Status.RANGE_NOT_SATISFIABLE, http10, close, ErrorPages.body(Status.RANGE_NOT_SATISFIABLE).length)
                            .header("Content-Range", "bytes */" + e.size());
                    byte[] body = ErrorPages.body(Status.RANGE_NOT_SATISFIABLE);
                    return new Response(Status.RANGE_NOT_SATISFIABLE, wrap(h.finish()), List.of(bytes(body)), body.length, close);
                }
                case Ranges.Satisfiable s when s.ranges().size() == 1 -> { return singleRange(req, e, s.ranges().getFirst(), close, sendfile); }
                case Ranges.Satisfiable s -> { return multiRange(req, e, s.ranges(), close, sendfile); }
                case Ranges.Ignore i -> { }
            }
        }
        ByteBuffer head = headerCache.fullResponseHead(e, http10, close);
        return new Response(Status.OK, head, body(e, 0, e.size(), sendfile), e.size(), close);
    }

    private Response singleRange(Request req, FileEntry e, ByteRange r, boolean close, boolean sendfile) {
        byte[] h = HeaderCache.fileHead(Status.PARTIAL_CONTENT, e, e.contentType())
                .add("Content-Range", r.contentRange(e.size()))
                .encode(req.http10(), r.length(), false, close);
        return new Response(Status.PARTIAL_CONTENT, wrap(h), body(e, r.first(), r.length(), sendfile), r.length(), close);
    }

    private Response multiRange(Request req, FileEntry e, List<ByteRange> ranges, boolean close, boolean sendfile) {
        String boundary = Long.toHexString(ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE);
        List<Segment> parts = new ArrayList<>(ranges.size() * 2 + 1);
        long length = 0;
        for (int i = 0; i < ranges.size(); i++) {
            ByteRange r = ranges.get(i);
            byte[] partHead = ((i == 0 ? "" : "\r\n") + "--" + boundary + "\r\nContent-Type: " + e.contentType()
                    + "\r\nContent-Range: " + r.contentRange(e.size()) + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
            parts.add(bytes(partHead));
            parts.addAll(body(e, r.first(), r.length(), sendfile));
            length += partHead.length + r.length();
        }
        byte[] tail = ("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII);
        parts.add(bytes(tail));
        length += tail.length;
        byte[] h = HeaderCache.fileHead(Status.PARTIAL_CONTENT, e, "multipart/byteranges; boundary=" + boundary)
                .encode(req.http10(), length, false, close);
        return new Response(Status.PARTIAL_CONTENT, wrap(h), parts, length, close);
    }

    /** The whole body of a file, as a 200 sends it (one reference each; a custom error page's body). */
    public List<Segment> fileBody(FileEntry e) { return body(e, 0, e.size(), false); }

    /** As {@link #fileBody(FileEntry)}, as a region of the open file when {@code sendfile} ({@link BodyPath}). */
    public List<Segment> fileBody(FileEntry e, boolean sendfile) { return body(e, 0, e.size(), sendfile); }

    /**
     * The body of a file range: a slice of the in-memory copy, mapped chunks, or a region of the open file (one
     * reference each); {@link BodyPath} chooses between the last two.
     */
    private List<Segment> body(FileEntry e, long offset, long length, boolean sendfile) {
        if (length == 0) return List.of();
        ByteBuffer mem = e.body();
        if (mem != null) {
            // The whole file (the common case) needs no second view of the fresh duplicate.
            ByteBuffer part = offset == 0 && length == mem.remaining() ? mem : mem.slice((int) offset, (int) length);
            return List.of(new Segment.Bytes(part, null, e.retainBody()));
        }
        if (bodyPath.mapped(chunkCache, e, sendfile)) {
            List<ChunkCache.Chunk> chunks = chunkCache.acquire(e, offset, length);
            if (chunks != null) {
                List<Segment> out = new ArrayList<>(chunks.size());
                for (ChunkCache.Chunk c : chunks) {
                    long from = Math.max(offset, c.fileOffset());
                    long to = Math.min(offset + length, c.fileOffset() + c.length());
                    out.add(new Segment.Bytes(c.view(from, to - from), c));
                }
                return out;
            }
        }
        FileHandle fh = e.handle();
        if (!fh.retain()) throw new IllegalStateException("file handle closed under a live entry");
        return List.of(new Segment.FileRegion(fh, offset, length, e.residentChecked()));
    }

    // ------------------------------------------------------------------ other responses

    private Response redirect(Request req, String location, boolean close) {
        String loc = req.query() == null ? location : location + "?" + req.query();
        byte[] body = ErrorPages.body(Status.MOVED_PERMANENTLY);
        ResponseHead h = errorHead(Status.MOVED_PERMANENTLY, req.http10(), close, body.length).header("Location", loc);
        return new Response(Status.MOVED_PERMANENTLY, wrap(h.finish()), List.of(bytes(body)), body.length, close);
    }

    /** A listing as HTML, or as JSON when Accept asks for it; the query chooses the order (CPU only: read already). */
    private Response listing(Request req, flash.content.DirectoryListing l, boolean close) {
        boolean json = flash.content.DirectoryListing.wantsJson(req.header("Accept"));
        var sort = flash.content.DirectoryListing.Sort.parse(req.query());
        byte[] body = json ? l.json(sort) : l.html(sort);
        ResponseHead h = new ResponseHead(Status.OK, req.http10())
                .header("Content-Type", json ? "application/json" : "text/html; charset=utf-8")
                .header("Content-Length", body.length)
                .header("Vary", "Accept")
                .header("Cache-Control", "no-cache");
        return new Response(Status.OK, wrap(h.connection(req.http10(), close).finish()), List.of(bytes(body)), body.length, close);
    }

    /** An error response for a parsed request. */
    public static Response error(Status status, Request req, boolean close) {
        return error(status, req != null && req.http10(), close);
    }

    /** An error response with one more field (503 with Retry-After). */
    public static Response error(Status status, Request req, boolean close, String name, String value) {
        boolean http10 = req != null && req.http10();
        byte[] body = ErrorPages.body(status);
        ResponseHead h = new ResponseHead(status, http10)
                .header("Content-Type", "text/html; charset=utf-8")
                .header(name, value)
                .header("Content-Length", body.length);
        return new Response(status, wrap(h.connection(http10, close).finish()), List.of(bytes(body)), body.length, close);
    }

    /** An error response; also used when no request could be parsed. */
    public static Response error(Status status, boolean http10, boolean close) {
        byte[] body = ErrorPages.body(status);
        ResponseHead h = errorHead(status, http10, close, body.length);
        if (status == Status.METHOD_NOT_ALLOWED) h.header("Allow", Method.ALLOW);
        return new Response(status, wrap(h.finish()), List.of(bytes(body)), body.length, close);
    }

    private static ResponseHead errorHead(Status status, boolean http10, boolean close, int length) {
        ResponseHead h = new ResponseHead(status, http10)
                .header("Content-Type", "text/html; charset=utf-8")
                .header("Content-Length", length);
        return h.connection(http10, close);
    }

    private static Segment bytes(byte[] b) { return new Segment.Bytes(ByteBuffer.wrap(b)); }

    private static ByteBuffer wrap(byte[] b) { return ByteBuffer.wrap(b); }
}
