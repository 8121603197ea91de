package flash.testing;

import flash.testing.RequestParser.BadRequest;
import flash.testing.RequestParser.Body;
import flash.testing.RequestParser.Head;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.URLDecoder;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A real HTTP/1.1 origin server for the reverse proxy's tests, on raw sockets so the test decides every byte it
 * sends (malformed ones included, which no real server would produce) and sees every request exactly as it
 * arrived. One platform thread per connection, keep-alive, strict request parsing ({@link RequestParser}).
 * <p>
 * Routes, by path prefix (query parameters in brackets):
 * <ul>
 * <li>{@code /echo} [status, close, drop=1, header=Name:value...]: 200 (or {@code status}) with a JSON description of
 *     the request, see {@link Echo}; 204 and 304 carry no body and no Content-Length. {@code drop=1}: framed for
 *     keep-alive, without {@code Connection: close}, yet the connection is closed right after (as a server at its
 *     keep-alive limit does): a proxy that pooled it finds it dead on its next request.</li>
 * <li>{@code /chunked} [n, size, delay (ms), trailer=1]: n chunks of size bytes of the {@link #pattern}.</li>
 * <li>{@code /bytes} [size]: Content-Length framed pattern, streamed (any size, 2^31 and beyond).</li>
 * <li>{@code /close-delimited} [size, hint=0]: no framing, the body ends at the close.</li>
 * <li>{@code /slow} [ms]: waits, then a small 200.</li>
 * <li>{@code /slow-read} [ms]: reads the request body in pieces of at most 64 KiB with {@code ms} (default 1)
 *     between them, then the echo: an origin slower than the client, for upload backpressure tests.</li>
 * <li>{@code /reset}: no response, an RST. {@code /reset-mid} [size]: head and at most half the body, then an RST.</li>
 * <li>{@code /hang}: no response, the connection stays open until the client or {@link #close()} ends it.</li>
 * <li>{@code /lie/both}, {@code /lie/cl-conflict}, {@code /lie/short}, {@code /lie/bad-chunk},
 *     {@code /lie/garbage}: broken responses, then a close.</li>
 * <li>{@code /continue}: 100 Continue (before the body is read), 103 Early Hints, then the echo.</li>
 * <li>{@code /ws}: a WebSocket echo (RFC 6455). {@code /upgrade-raw}: 101 to "echo", then a byte echo.</li>
 * <li>anything else: 404.</li>
 * </ul>
 * The {@code header} parameter adds a response field to any route that answers with a head of its own.
 */
public final class Backend implements AutoCloseable {
    public static final String SERVER = "flash-test-backend";
    /** Pattern bodies repeat with this period: prime, so no power-of-two chunking lines up with it. */
    public static final int PATTERN_PERIOD = 251;
    private static final int PIECE = 1 << 16;
    private static final byte[] PATTERN = new byte[PIECE + PATTERN_PERIOD];
    private static final int ECHO_BODY_LIMIT = 64 * 1024;
    private static final Map<Integer, String> REASONS = Map.ofEntries(Map.entry(200, "OK"), Map.entry(201, "Created"),
            Map.entry(202, "Accepted"), Map.entry(204, "No Content"), Map.entry(206, "Partial Content"),
            Map.entry(301, "Moved Permanently"), Map.entry(302, "Found"), Map.entry(304, "Not Modified"),
            Map.entry(307, "Temporary Redirect"), Map.entry(400, "Bad Request"), Map.entry(401, "Unauthorized"),
            Map.entry(403, "Forbidden"), Map.entry(404, "Not Found"), Map.entry(413, "Content Too Large"),
            Map.entry(426, "Upgrade Required"), Map.entry(500, "Internal Server Error"), Map.entry(502, "Bad Gateway"),
            Map.entry(503, "Service Unavailable"), Map.entry(504, "Gateway Timeout"));

    static {
        for (int i = 0; i < PATTERN.length; i++) PATTERN[i] = (byte) (i % PATTERN_PERIOD);
    }

    /** One header (or trailer) field, name as sent. */
    public record Header(String name, String value) {
        public Header {
            Objects.requireNonNull(name);
            Objects.requireNonNull(value);
        }

        /** Parses "Name: value". */
        public static Header parse(String line) {
            int c = line.indexOf(':');
            if (c <= 0) throw new IllegalArgumentException("not a header line: " + line);
            return new Header(line.substring(0, c).trim(), line.substring(c + 1).trim());
        }

        @Override public String toString() { return name + ": " + value; }
    }

    /**
     * One request as the backend received it: on which connection (numbered from 1 in accept order), its request
     * line, fields in order with their original case, the decoded body (the first {@link Options#recordBodyLimit}
     * bytes; length and SHA-256 always cover all of it), whether it came chunked, its trailer fields, and the
     * head as sent (request line and field lines, CRLF-terminated).
     */
    public record Received(int connection, String method, String target, String version, List<Header> headers,
                           byte[] body, long bodyLength, String bodySha256, boolean chunked, List<Header> trailers,
                           String rawHead) {
        /** The target's path, without the query. */
        public String path() { return pathOf(target); }

        /** The first field of that name (case-insensitive), or null. */
        public String header(String name) { return first(headers, name); }

        public List<String> headerValues(String name) { return all(headers, name); }

        public String bodyText() { return new String(body, StandardCharsets.ISO_8859_1); }

        @Override public String toString() { return "Received[#" + connection + " " + method + " " + target + " " + headers + "]"; }
    }

    /** The JSON body of {@code /echo}, parsed back: what the backend saw, as seen from the other side of a proxy. */
    public record Echo(String method, String target, String version, int connection, List<Header> headers,
                       List<Header> trailers, long bodyLength, String bodySha256, byte[] body) {
        public static Echo parse(byte[] json) { return parse(new String(json, StandardCharsets.UTF_8)); }

        @SuppressWarnings("unchecked")
        public static Echo parse(String json) {
            Map<String, Object> m = (Map<String, Object>) Json.parse(json);
            return new Echo((String) m.get("method"), (String) m.get("target"), (String) m.get("version"),
                    ((Long) m.get("connection")).intValue(), fields(m.get("headers")), fields(m.get("trailers")),
                    (Long) m.get("body_length"), (String) m.get("body_sha256"),
                    ((String) m.get("body")).getBytes(StandardCharsets.ISO_8859_1));
        }

        @SuppressWarnings("unchecked")
        private static List<Header> fields(Object list) {
            List<Header> h = new ArrayList<>();
            for (Object pair : (List<Object>) list) {
                List<Object> p = (List<Object>) pair;
                h.add(new Header((String) p.get(0), (String) p.get(1)));
            }
            return List.copyOf(h);
        }

        public String header(String name) { return first(headers, name); }

        public List<String> headerValues(String name) { return all(headers, name); }

        public String bodyText() { return new String(body, StandardCharsets.ISO_8859_1); }
    }

    /** Start-up options: {@code Backend.start(o -> o.holdConnectionsOpen().headers("X-A: 1"))}. */
    public static final class Options {
        private boolean holdConnectionsOpen;
        private final List<Header> extraHeaders = new ArrayList<>();
        private Duration idleTimeout = Duration.ofSeconds(60);
        private boolean answerExpectContinue = true;
        private int recordBodyLimit = 16 << 20;

        private Options() {}

        /**
         * Never close a connection on the backend's own initiative: not on a request's {@code Connection: close},
         * not on HTTP/1.0, not when idle. Any close a test then observes was the proxy's doing. (An explicit
         * {@code ?close=1}, a reset or a lie still closes.)
         */
        public Options holdConnectionsOpen(boolean hold) {
            this.holdConnectionsOpen = hold;
            return this;
        }

        public Options holdConnectionsOpen() { return holdConnectionsOpen(true); }

        /** Fields added to every final response the backend frames itself (not to 1xx, 101 or the lies). */
        public Options extraResponseHeaders(List<String> lines) {
            for (String l : lines) extraHeaders.add(Header.parse(l));
            return this;
        }

        public Options headers(String... lines) { return extraResponseHeaders(List.of(lines)); }

        public Options header(String name, String value) {
            extraHeaders.add(new Header(name, value));
            return this;
        }

        /** An idle keep-alive connection is closed after this (default 60 s): for stale-pooled-connection tests. */
        public Options idleTimeout(Duration d) {
            if (d.isNegative() || d.isZero() || d.toMillis() > Integer.MAX_VALUE) throw new IllegalArgumentException("idle timeout " + d);
            this.idleTimeout = d;
            return this;
        }

        /** Whether a request with {@code Expect: 100-continue} and a body gets a 100 before the body is read (default yes). */
        public Options answerExpectContinue(boolean answer) {
            this.answerExpectContinue = answer;
            return this;
        }

        /** How many body bytes of each request {@link Received#body()} keeps (default 16 MiB). */
        public Options recordBodyLimit(int bytes) {
            this.recordBodyLimit = bytes;
            return this;
        }
    }

    private final Options options;
    private final ServerSocket tcp;           // one of these two
    private final ServerSocketChannel unix;
    private final Path socketFile;
    private final Thread acceptor;
    private final Set<Wire> wires = ConcurrentHashMap.newKeySet();
    private final Set<Thread> threads = ConcurrentHashMap.newKeySet();
    private final List<Received> received = Collections.synchronizedList(new ArrayList<>());
    private final List<String> protocolErrors = Collections.synchronizedList(new ArrayList<>());
    private final AtomicInteger accepted = new AtomicInteger();
    private final AtomicInteger open = new AtomicInteger();
    private volatile boolean closed;

    private Backend(Options options, ServerSocket tcp, ServerSocketChannel unix, Path socketFile) {
        this.options = options;
        this.tcp = tcp;
        this.unix = unix;
        this.socketFile = socketFile;
        this.acceptor = Thread.ofPlatform().daemon().name("backend-accept").unstarted(this::acceptLoop);
        acceptor.start();
    }

    /** A backend on an ephemeral port of 127.0.0.1. */
    public static Backend start() { return start(o -> {}); }

    public static Backend start(Consumer<Options> configure) {
        Options o = new Options();
        configure.accept(o);
        try {
            ServerSocket ss = new ServerSocket();
            ss.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 128);
            return new Backend(o, ss, null, null);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A backend on a Unix domain socket at {@code socketFile} (replaced if it exists; deleted by close()). */
    public static Backend startUnix(Path socketFile) { return startUnix(socketFile, o -> {}); }

    public static Backend startUnix(Path socketFile, Consumer<Options> configure) {
        Options o = new Options();
        configure.accept(o);
        try {
            Files.deleteIfExists(socketFile);
            ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            ch.bind(UnixDomainSocketAddress.of(socketFile), 128);
            return new Backend(o, null, ch, socketFile);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public int port() {
        if (tcp == null) throw new IllegalStateException("a Unix-socket backend has no port");
        return tcp.getLocalPort();
    }

    /** The Unix socket path, or null for a TCP backend. */
    public Path socketFile() { return socketFile; }

    /** "http://127.0.0.1:PORT", the base of a {@code --proxy PREFIX=URL}. */
    public String url() { return "http://127.0.0.1:" + port(); }

    public URI uri(String pathAndQuery) { return URI.create(url() + pathAndQuery); }

    /** Every request received so far, in arrival order (a snapshot). */
    public List<Received> received() {
        synchronized (received) {
            return List.copyOf(received);
        }
    }

    /** The latest request; fails if there was none. */
    public Received lastReceived() {
        synchronized (received) {
            if (received.isEmpty()) throw new AssertionError("the backend received no request");
            return received.getLast();
        }
    }

    /** Waits (bounded) until at least {@code n} requests have arrived; whether they did. */
    public boolean awaitReceived(int n, long timeoutMs) throws InterruptedException {
        return Http.await(() -> received.size() >= n, timeoutMs);
    }

    public void clearReceived() { received.clear(); }

    public int connectionsAccepted() { return accepted.get(); }

    public int openConnections() { return open.get(); }

    /** Malformed requests refused with a 400 (and any accept failure), one line each: a proxy should cause none. */
    public List<String> protocolErrors() {
        synchronized (protocolErrors) {
            return List.copyOf(protocolErrors);
        }
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        try {
            if (tcp != null) tcp.close();
            else unix.close();
        } catch (IOException ignored) {
            // closing: nothing to report
        }
        wires.forEach(Wire::close);
        threads.forEach(Thread::interrupt);
        try {
            acceptor.join(5000);
            for (Thread t : threads) t.join(5000);
            if (socketFile != null) Files.deleteIfExists(socketFile);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException ignored) {
            // a leftover socket file in a temp directory
        }
    }

    // ---- pattern bodies ---------------------------------------------------------------------------------------

    /** The byte at {@code offset} of every body the backend generates. */
    public static byte patternByte(long offset) { return (byte) (offset % PATTERN_PERIOD); }

    public static byte[] pattern(long offset, int length) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) b[i] = patternByte(offset + i);
        return b;
    }

    /** Fails at the first byte of {@code data} that is not the pattern at {@code offset + i}. */
    public static void assertPattern(byte[] data, long offset) {
        for (int i = 0; i < data.length; i++) {
            if (data[i] != patternByte(offset + i)) {
                throw new AssertionError("body byte " + (offset + i) + " is " + (data[i] & 0xff) + ", expected " + (patternByte(offset + i) & 0xff));
            }
        }
    }

    /** Reads {@code in} to its end checking the pattern from offset 0; returns the byte count (any size, never held). */
    public static long verifyPattern(InputStream in) throws IOException {
        byte[] buf = new byte[PIECE];
        long pos = 0;
        for (int n; (n = in.read(buf)) >= 0; pos += n) {
            int off = (int) (pos % PATTERN_PERIOD);
            if (!Arrays.equals(buf, 0, n, PATTERN, off, off + n)) {
                assertPattern(Arrays.copyOf(buf, n), pos);
            }
        }
        return pos;
    }

    private static void writePattern(OutputStream out, long from, long count) throws IOException {
        while (count > 0) {
            int n = (int) Math.min(PIECE, count);
            out.write(PATTERN, (int) (from % PATTERN_PERIOD), n);
            from += n;
            count -= n;
        }
    }

    // ---- connections ------------------------------------------------------------------------------------------

    private void acceptLoop() {
        while (!closed) {
            Wire w;
            try {
                w = tcp != null ? Wire.tcp(tcp.accept()) : Wire.unix(unix.accept());
            } catch (IOException e) {
                if (!closed) protocolErrors.add("accept failed: " + e);
                return;
            }
            int n = accepted.incrementAndGet();
            open.incrementAndGet();
            wires.add(w);
            Thread t = Thread.ofPlatform().daemon().name("backend-conn-" + n).unstarted(() -> serve(w, n));
            threads.add(t);
            if (closed) w.close(); // close() may have swept the set before this one joined it
            t.start();
        }
    }

    /** What one exchange needs: the request, its query, and the connection. */
    private record Exchange(Received r, Head head, Map<String, List<String>> query, Wire wire, InputStream in,
                            OutputStream out, boolean close) {
        String param(String name) {
            List<String> v = query.get(name);
            return v == null ? null : v.getFirst();
        }

        long num(String name, long dflt) {
            String v = param(name);
            if (v == null) return dflt;
            try {
                long n = Long.parseLong(v);
                if (n < 0) throw new IllegalArgumentException("negative " + name + ": " + v);
                return n;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad " + name + ": " + v);
            }
        }

        boolean isHead() { return head.method().equals("HEAD"); }
    }

    private void serve(Wire wire, int connection) {
        OutputStream out = null;
        try {
            wire.readTimeout((int) options.idleTimeout.toMillis());
            InputStream in = new BufferedInputStream(wire.in(), PIECE);
            out = new BufferedOutputStream(wire.out(), PIECE);
            while (!closed) {
                // Idle between requests: with holdConnectionsOpen only the client or close() ends the wait.
                if (!awaitData(in, options.holdConnectionsOpen)) return;
                Head head = RequestParser.readHead(in);
                if (head == null) return;
                String path = pathOf(head.target());
                boolean expects = head.tokens("Expect").contains("100-continue") && RequestParser.hasBody(head);
                if (path.startsWith("/continue") || expects && options.answerExpectContinue) {
                    out.write(ascii("HTTP/1.1 100 Continue\r\n\r\n"));
                    out.flush();
                }
                InputStream bodyIn = path.startsWith("/slow-read") ? new SlowInput(in, query(head.target())) : in;
                Body body = RequestParser.readBody(bodyIn, head, options.recordBodyLimit);
                Received r = new Received(connection, head.method(), head.target(), head.version(), head.headers(),
                        body.kept(), body.length(), body.sha256(), body.chunked(), body.trailers(), head.raw());
                received.add(r);
                List<String> conn = head.tokens("Connection");
                boolean close = !options.holdConnectionsOpen
                        && (conn.contains("close") || !head.http11() && !conn.contains("keep-alive"));
                Exchange x = new Exchange(r, head, query(head.target()), wire, in, out, close);
                boolean keep;
                try {
                    keep = route(x, path);
                } catch (IllegalArgumentException e) { // a test's bad query parameter, not the proxy's fault
                    byte[] msg = ascii(e.getMessage() + "\n");
                    out.write(ascii("HTTP/1.1 400 Bad Request\r\nServer: " + SERVER + "\r\nContent-Type: text/plain\r\n"
                            + "Content-Length: " + msg.length + "\r\n" + (close ? "Connection: close\r\n" : "") + "\r\n"));
                    if (!x.isHead()) out.write(msg);
                    keep = !close;
                }
                out.flush();
                if (!keep) return;
            }
        } catch (BadRequest e) {
            protocolErrors.add("connection " + connection + ": " + e.getMessage());
            try {
                out.write(ascii("HTTP/1.1 400 Bad Request\r\nServer: " + SERVER + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
                out.flush();
            } catch (IOException ignored) {
                // the client may be gone already
            }
        } catch (IOException e) {
            // The peer closed or reset, an idle timeout, or close(): all ordinary endings for an origin server.
        } finally {
            wire.close();
            wires.remove(wire);
            threads.remove(Thread.currentThread());
            open.decrementAndGet();
        }
    }

    /** Waits for the next byte without consuming it: false at EOF; a read timeout ends the wait unless patient. */
    private boolean awaitData(InputStream in, boolean patient) throws IOException {
        while (true) {
            try {
                in.mark(1);
                int b = in.read();
                if (b < 0) return false;
                in.reset();
                return true;
            } catch (SocketTimeoutException e) {
                if (!patient || closed) throw e;
            }
        }
    }

    private boolean route(Exchange x, String path) throws IOException {
        if (path.startsWith("/echo")) return echo(x, (int) x.num("status", 200));
        if (path.startsWith("/chunked")) return chunked(x);
        if (path.startsWith("/bytes")) return bytes(x);
        if (path.startsWith("/close-delimited")) return closeDelimited(x);
        if (path.startsWith("/slow-read")) return echo(x, 200); // the body was read slowly (SlowInput)
        if (path.startsWith("/slow")) return slow(x);
        if (path.startsWith("/reset-mid")) return resetMid(x);
        if (path.startsWith("/reset")) {
            x.wire().reset();
            return false;
        }
        if (path.startsWith("/hang")) return hang(x);
        if (path.startsWith("/lie/")) return lie(x, path.substring("/lie/".length()));
        if (path.startsWith("/continue")) {
            x.out().write(ascii("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n\r\n"));
            x.out().flush();
            return echo(x, 200);
        }
        if (path.startsWith("/ws")) return WebSocketEcho.serve(x, this);
        if (path.startsWith("/upgrade-raw")) return rawUpgrade(x);
        return simple(x, 404, "not found\n");
    }

    // ---- routes -----------------------------------------------------------------------------------------------

    private boolean echo(Exchange x, int status) throws IOException {
        if (status < 200 || status > 599) throw new IllegalArgumentException("bad status: " + status);
        boolean close = x.close() || "1".equals(x.param("close"));
        boolean drop = "1".equals(x.param("drop"));
        if (status == 204 || status == 304) {
            head(x, status, List.of(), close);
            return !close && !drop;
        }
        byte[] json = ascii(echoJson(x.r()));
        head(x, status, List.of(new Header("Content-Type", "application/json"),
                new Header("Content-Length", Integer.toString(json.length))), close);
        if (!x.isHead()) x.out().write(json);
        return !close && !drop;
    }

    static String echoJson(Received r) {
        StringBuilder j = new StringBuilder("{");
        j.append("\"method\":").append(Json.quote(r.method()));
        j.append(",\"target\":").append(Json.quote(r.target()));
        j.append(",\"version\":").append(Json.quote(r.version()));
        j.append(",\"connection\":").append(r.connection());
        j.append(",\"headers\":").append(pairs(r.headers()));
        j.append(",\"trailers\":").append(pairs(r.trailers()));
        j.append(",\"body_length\":").append(r.bodyLength());
        j.append(",\"body_sha256\":").append(Json.quote(r.bodySha256()));
        int shown = Math.min(r.body().length, ECHO_BODY_LIMIT);
        j.append(",\"body\":").append(Json.quote(new String(r.body(), 0, shown, StandardCharsets.ISO_8859_1)));
        return j.append("}").toString();
    }

    private static String pairs(List<Header> fields) {
        StringBuilder j = new StringBuilder("[");
        for (Header h : fields) {
            if (j.length() > 1) j.append(',');
            j.append('[').append(Json.quote(h.name())).append(',').append(Json.quote(h.value())).append(']');
        }
        return j.append(']').toString();
    }

    private boolean chunked(Exchange x) throws IOException {
        long n = x.num("n", 3), size = x.num("size", 1000), delay = x.num("delay", 0);
        if (size < 1) throw new IllegalArgumentException("chunk size must be at least 1 (0 is the last chunk)");
        boolean trailer = "1".equals(x.param("trailer"));
        List<Header> f = new ArrayList<>(List.of(new Header("Content-Type", "application/octet-stream"),
                new Header("Transfer-Encoding", "chunked")));
        if (trailer) f.add(new Header("Trailer", "X-Trailer"));
        head(x, 200, f, x.close());
        if (x.isHead()) return !x.close();
        OutputStream out = x.out();
        for (long i = 0; i < n; i++) {
            out.write(ascii(Long.toHexString(size) + "\r\n"));
            writePattern(out, i * size, size);
            out.write(ascii("\r\n"));
            out.flush(); // each chunk on the wire by itself, so a delay shows as a gap between chunks
            if (delay > 0 && i + 1 < n) sleep(delay);
        }
        out.write(ascii("0\r\n" + (trailer ? "X-Trailer: done\r\n" : "") + "\r\n"));
        return !x.close();
    }

    private boolean bytes(Exchange x) throws IOException {
        long size = x.num("size", 1024);
        head(x, 200, List.of(new Header("Content-Type", "application/octet-stream"),
                new Header("Content-Length", Long.toString(size))), x.close());
        if (!x.isHead()) writePattern(x.out(), 0, size);
        return !x.close();
    }

    private boolean closeDelimited(Exchange x) throws IOException {
        long size = x.num("size", 1024);
        // RFC 9112 9.6 asks for "Connection: close" here; hint=0 leaves it out, so the close alone frames the body.
        List<Header> f = new ArrayList<>(List.of(new Header("Content-Type", "application/octet-stream")));
        if (!"0".equals(x.param("hint"))) f.add(new Header("Connection", "close"));
        head(x, 200, f, false, false);
        if (!x.isHead()) writePattern(x.out(), 0, size);
        x.out().flush();
        return false;
    }

    private boolean slow(Exchange x) throws IOException {
        sleep(x.num("ms", 1000));
        return simple(x, 200, "slow\n");
    }

    private boolean resetMid(Exchange x) throws IOException {
        long size = x.num("size", 100_000);
        head(x, 200, List.of(new Header("Content-Type", "application/octet-stream"),
                new Header("Content-Length", Long.toString(size))), false);
        writePattern(x.out(), 0, size / 2);
        x.out().flush();
        // An RST discards whatever is still queued to send: give loopback a moment to deliver the half body first.
        // The peer may still see less than half if it was not reading; it never sees all of it.
        sleep(50);
        x.wire().reset();
        return false;
    }

    private boolean hang(Exchange x) throws IOException {
        byte[] buf = new byte[PIECE];
        while (readPatiently(x.in(), buf) >= 0) {
            // swallow anything more the client sends; never answer
        }
        return false;
    }

    private boolean lie(Exchange x, String which) throws IOException {
        String response = switch (which) {
            case "both" -> "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
            case "cl-conflict" -> "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!";
            case "short" -> "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000\r\n\r\n0123456789";
            case "bad-chunk" -> "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n";
            case "garbage" -> "SSH-2.0-OpenSSH_9.6\r\n\r\n";
            default -> null;
        };
        if (response == null) return simple(x, 404, "no such lie\n");
        x.out().write(ascii(response));
        x.out().flush();
        return false;
    }

    private boolean rawUpgrade(Exchange x) throws IOException {
        OutputStream out = x.out();
        out.write(ascii("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n"));
        out.flush();
        byte[] buf = new byte[PIECE];
        for (int n; (n = readPatiently(x.in(), buf)) >= 0; ) {
            out.write(buf, 0, n);
            out.flush();
        }
        x.wire().shutdownOutput(); // pass the client's half-close on, as a tunnel would
        return false;
    }

    /** A small text/plain response. */
    private boolean simple(Exchange x, int status, String text) throws IOException {
        byte[] b = ascii(text);
        head(x, status, List.of(new Header("Content-Type", "text/plain"), new Header("Content-Length", Integer.toString(b.length))), x.close());
        if (!x.isHead()) x.out().write(b);
        return !x.close();
    }

    private void head(Exchange x, int status, List<Header> fields, boolean close) throws IOException {
        head(x, status, fields, close, true);
    }

    /**
     * Writes a final response head: the route's fields, then the {@code header} query parameters and the
     * configured extra fields, then (if {@code connectionField}) the Connection field framing demands.
     */
    private void head(Exchange x, int status, List<Header> fields, boolean close, boolean connectionField) throws IOException {
        StringBuilder h = new StringBuilder("HTTP/1.1 ").append(status).append(' ')
                .append(REASONS.getOrDefault(status, "Status")).append("\r\n");
        h.append("Server: ").append(SERVER).append("\r\n");
        for (Header f : fields) h.append(f).append("\r\n");
        for (String l : x.query().getOrDefault("header", List.of())) h.append(Header.parse(l)).append("\r\n");
        for (Header f : options.extraHeaders) h.append(f).append("\r\n");
        if (connectionField && close) h.append("Connection: close\r\n");
        else if (connectionField && !x.head().http11()) h.append("Connection: keep-alive\r\n");
        x.out().write(ascii(h.append("\r\n").toString()));
    }

    // ---- helpers ----------------------------------------------------------------------------------------------

    /** A read that outlasts idle timeouts (an upgraded or hanging connection may idle): ends at EOF or close(). */
    int readPatiently(InputStream in, byte[] buf) throws IOException {
        while (true) {
            try {
                return in.read(buf);
            } catch (SocketTimeoutException e) {
                if (closed) throw e;
            }
        }
    }

    /** Like {@link #awaitData} for the WebSocket echo: waits out idle timeouts until a frame starts. */
    boolean awaitFrame(InputStream in) throws IOException { return awaitData(in, true); }

    private static void sleep(long ms) throws InterruptedIOException {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            throw new InterruptedIOException("backend closing");
        }
    }

    static byte[] ascii(String s) { return s.getBytes(StandardCharsets.ISO_8859_1); }

    static String pathOf(String target) {
        String t = target;
        if (t.regionMatches(true, 0, "http://", 0, 7) || t.regionMatches(true, 0, "https://", 0, 8)) {
            int slash = t.indexOf('/', t.indexOf("//") + 2);
            t = slash < 0 ? "/" : t.substring(slash);
        }
        int q = t.indexOf('?');
        return q < 0 ? t : t.substring(0, q);
    }

    /** Query parameters, percent-decoded where that is possible (a test's odd encoding stays as it was). */
    static Map<String, List<String>> query(String target) {
        Map<String, List<String>> m = new LinkedHashMap<>();
        int q = target.indexOf('?');
        if (q < 0) return m;
        for (String kv : target.substring(q + 1).split("&")) {
            if (kv.isEmpty()) continue;
            int e = kv.indexOf('=');
            String k = e < 0 ? kv : kv.substring(0, e), v = e < 0 ? "" : kv.substring(e + 1);
            m.computeIfAbsent(decode(k), x -> new ArrayList<>()).add(decode(v));
        }
        return m;
    }

    private static String decode(String s) {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return s;
        }
    }

    private static String first(List<Header> fields, String name) {
        for (Header h : fields) if (h.name().equalsIgnoreCase(name)) return h.value();
        return null;
    }

    private static List<String> all(List<Header> fields, String name) {
        return fields.stream().filter(h -> h.name().equalsIgnoreCase(name)).map(Header::value).toList();
    }

    /** {@code /slow-read}'s body source: at most {@link #PIECE} bytes per read, each after a pause of {@code ms}. */
    private static final class SlowInput extends java.io.FilterInputStream {
        private final long ms;

        SlowInput(InputStream in, Map<String, List<String>> query) {
            super(in);
            List<String> v = query.get("ms");
            this.ms = v == null || !v.getFirst().matches("\\d{1,9}") ? 1 : Long.parseLong(v.getFirst());
        }

        /** Bulk reads (the body's data) are the slow ones; single bytes (chunk-size lines) are not paced. */
        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            sleep(ms);
            return super.read(b, off, Math.min(len, PIECE));
        }
    }

    /** The WebSocket handshake and echo loop of {@code /ws}. */
    private static final class WebSocketEcho {
        static boolean serve(Exchange x, Backend b) throws IOException {
            Head h = x.head();
            String key = first(h.headers(), "Sec-WebSocket-Key");
            String refusal = null;
            if (!h.method().equals("GET") || !h.http11()) refusal = "a websocket handshake is an HTTP/1.1 GET";
            else if (!h.tokens("Upgrade").contains("websocket")) refusal = "no Upgrade: websocket";
            else if (!h.tokens("Connection").contains("upgrade")) refusal = "no Connection: upgrade";
            else if (key == null || !validKey(key)) refusal = "bad Sec-WebSocket-Key: " + key;
            if (refusal != null) return b.simple(x, 400, refusal + "\n");
            if (!"13".equals(first(h.headers(), "Sec-WebSocket-Version"))) {
                b.head(x, 426, List.of(new Header("Sec-WebSocket-Version", "13"), new Header("Content-Length", "0")), x.close());
                return !x.close();
            }
            StringBuilder r = new StringBuilder("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n");
            r.append("Sec-WebSocket-Accept: ").append(WebSocketClient.acceptFor(key)).append("\r\n");
            List<String> protocols = h.tokens("Sec-WebSocket-Protocol");
            if (!protocols.isEmpty()) r.append("Sec-WebSocket-Protocol: ").append(protocols.getFirst()).append("\r\n");
            OutputStream out = x.out();
            out.write(ascii(r.append("\r\n").toString()));
            out.flush();
            while (b.awaitFrame(x.in())) {
                WebSocketClient.Frame f;
                try {
                    f = WebSocketClient.readFrame(x.in(), WebSocketClient.MAX_PAYLOAD);
                } catch (java.net.ProtocolException e) {
                    closeWith(out, 1002, e.getMessage());
                    return false;
                }
                if (!f.masked()) { // RFC 6455 5.1: a server must close on an unmasked client frame
                    closeWith(out, 1002, "client frames must be masked");
                    return false;
                }
                switch (f.opcode()) {
                    case WebSocketClient.TEXT, WebSocketClient.BINARY, WebSocketClient.CONTINUATION ->
                            WebSocketClient.writeFrame(out, f.fin(), f.opcode(), f.payload(), false);
                    case WebSocketClient.PING -> WebSocketClient.writeFrame(out, true, WebSocketClient.PONG, f.payload(), false);
                    case WebSocketClient.PONG -> { }
                    case WebSocketClient.CLOSE -> {
                        byte[] p = f.payload().length == 1 ? closePayload(1002, "one-byte close payload") : f.payload();
                        WebSocketClient.writeFrame(out, true, WebSocketClient.CLOSE, p, false);
                        out.flush();
                        return false;
                    }
                    default -> {
                        closeWith(out, 1002, "unknown opcode " + f.opcode());
                        return false;
                    }
                }
                out.flush();
            }
            return false;
        }

        private static boolean validKey(String key) {
            try {
                return Base64.getDecoder().decode(key).length == 16;
            } catch (IllegalArgumentException e) {
                return false;
            }
        }

        private static void closeWith(OutputStream out, int code, String reason) throws IOException {
            WebSocketClient.writeFrame(out, true, WebSocketClient.CLOSE, closePayload(code, reason), false);
            out.flush();
        }

        private static byte[] closePayload(int code, String reason) {
            byte[] r = reason.getBytes(StandardCharsets.UTF_8);
            byte[] p = new byte[2 + Math.min(r.length, 123)];
            p[0] = (byte) (code >> 8);
            p[1] = (byte) code;
            System.arraycopy(r, 0, p, 2, p.length - 2);
            return p;
        }
    }
}
