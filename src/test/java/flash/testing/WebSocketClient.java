package flash.testing;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ProtocolException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A minimal blocking RFC 6455 client over a plain socket, for tests: one handshake, then whole frames in and out.
 * It answers nothing by itself (no automatic pong), so a test sees every frame the server sends. The frame codec
 * ({@link #readFrame}, {@link #writeFrame}) is shared with {@link Backend}'s {@code /ws} echo.
 */
public final class WebSocketClient implements AutoCloseable {
    public static final int CONTINUATION = 0x0, TEXT = 0x1, BINARY = 0x2, CLOSE = 0x8, PING = 0x9, PONG = 0xA;
    static final String GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    /** Big enough for any test message, small enough that a corrupt length cannot exhaust the heap. */
    static final int MAX_PAYLOAD = 16 << 20;

    /** One frame as it was on the wire ({@code masked} says whether it came masked); payload already unmasked. */
    public record Frame(boolean fin, int opcode, boolean masked, byte[] payload) {
        public String text() { return new String(payload, StandardCharsets.UTF_8); }

        /** The status code of a close frame, or 1005 ("no status received") if it has none. */
        public int closeCode() { return payload.length >= 2 ? (payload[0] & 0xff) << 8 | payload[1] & 0xff : 1005; }

        public String closeReason() {
            return payload.length > 2 ? new String(payload, 2, payload.length - 2, StandardCharsets.UTF_8) : "";
        }

        @Override public String toString() { return "Frame[fin=" + fin + ", opcode=" + opcode + ", length=" + payload.length + "]"; }
    }

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final String head;
    private final int status;
    private final Map<String, String> headers;
    private boolean closeSent;

    private WebSocketClient(Socket socket, InputStream in, String head) {
        this.socket = socket;
        this.in = in;
        this.head = head;
        String[] lines = head.split("\r\n");
        String[] statusLine = lines[0].split(" ", 3);
        this.status = statusLine.length >= 2 && statusLine[1].matches("\\d{3}") ? Integer.parseInt(statusLine[1]) : -1;
        Map<String, String> h = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int c = lines[i].indexOf(':');
            if (c > 0) h.putIfAbsent(lines[i].substring(0, c).trim().toLowerCase(Locale.ROOT), lines[i].substring(c + 1).trim());
        }
        this.headers = h;
        try {
            this.out = socket.getOutputStream();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Handshake on 127.0.0.1; fails unless the answer is a valid 101. */
    public static WebSocketClient connect(int port, String path, String... headers) throws IOException {
        return connect("127.0.0.1", port, path, headers);
    }

    /**
     * Handshake against {@code host:port} and {@code path}; fails unless the answer is 101 with the right
     * {@code Sec-WebSocket-Accept}. {@code headers} ("Name: value") are added, replacing a default of the same name.
     */
    public static WebSocketClient connect(String host, int port, String path, String... headers) throws IOException {
        WebSocketClient c = attempt(host, port, path, headers);
        if (c.status != 101) {
            c.socket.close();
            throw new ProtocolException("websocket handshake refused: " + c.head);
        }
        return c;
    }

    /**
     * Handshake that returns whatever came back: a test of a refused upgrade reads {@link #status()} and
     * {@link #head()} (and any body from {@link #input()}). A 101 is still checked for the right accept key.
     */
    public static WebSocketClient attempt(String host, int port, String path, String... headers) throws IOException {
        Socket s = new Socket();
        try {
            s.connect(new InetSocketAddress(host, port), 5000);
            s.setSoTimeout(15_000);
            s.setTcpNoDelay(true);
            byte[] nonce = new byte[16];
            ThreadLocalRandom.current().nextBytes(nonce);
            String key = Base64.getEncoder().encodeToString(nonce);
            Map<String, String> h = new LinkedHashMap<>();
            h.put("Host", host + ":" + port);
            h.put("Upgrade", "websocket");
            h.put("Connection", "Upgrade");
            h.put("Sec-WebSocket-Key", key);
            h.put("Sec-WebSocket-Version", "13");
            for (String line : headers) {
                int c = line.indexOf(':');
                if (c <= 0) throw new IllegalArgumentException("not a header line: " + line);
                String name = line.substring(0, c).trim();
                h.keySet().removeIf(k -> k.equalsIgnoreCase(name));
                h.put(name, line.substring(c + 1).trim());
            }
            StringBuilder req = new StringBuilder("GET " + path + " HTTP/1.1\r\n");
            h.forEach((n, v) -> req.append(n).append(": ").append(v).append("\r\n"));
            s.getOutputStream().write(req.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
            // Buffered, and kept: frames the server sends right after the 101 may already be in the buffer.
            InputStream in = new BufferedInputStream(s.getInputStream(), 1 << 16);
            WebSocketClient c = new WebSocketClient(s, in, readHead(in));
            if (c.status == 101) {
                String accept = c.header("Sec-WebSocket-Accept");
                if (!acceptFor(h.getOrDefault("Sec-WebSocket-Key", key)).equals(accept)) {
                    throw new ProtocolException("wrong Sec-WebSocket-Accept " + accept + " in: " + c.head);
                }
            }
            return c;
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    /** The {@code Sec-WebSocket-Accept} value for a key (RFC 6455 4.2.2). */
    public static String acceptFor(String key) {
        try {
            byte[] sha1 = MessageDigest.getInstance("SHA-1").digest((key + GUID).getBytes(StandardCharsets.ISO_8859_1));
            return Base64.getEncoder().encodeToString(sha1);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The handshake response head: status line and fields, CRLF-separated, without the blank line. */
    public String head() { return head; }

    public int status() { return status; }

    /** A response field of the handshake (first one, name case-insensitive), or null. */
    public String header(String name) { return headers.get(name.toLowerCase(Locale.ROOT)); }

    public Socket socket() { return socket; }

    /** The buffered input after the handshake head, e.g. for the body of a refused handshake. */
    public InputStream input() { return in; }

    public void sendText(String text) throws IOException { send(true, TEXT, text.getBytes(StandardCharsets.UTF_8)); }

    public void sendBinary(byte[] data) throws IOException { send(true, BINARY, data); }

    public void ping(byte[] data) throws IOException { send(true, PING, data); }

    public void pong(byte[] data) throws IOException { send(true, PONG, data); }

    /** Any frame, masked as a client must: for fragmentation and protocol-violation tests. */
    public void send(boolean fin, int opcode, byte[] payload) throws IOException {
        writeFrame(out, fin, opcode, payload, true);
        out.flush();
    }

    /** Sends a close frame with a status code and reason (once). */
    public void sendClose(int code, String reason) throws IOException {
        byte[] r = reason.getBytes(StandardCharsets.UTF_8);
        byte[] p = new byte[2 + r.length];
        p[0] = (byte) (code >> 8);
        p[1] = (byte) code;
        System.arraycopy(r, 0, p, 2, r.length);
        closeSent = true;
        send(true, CLOSE, p);
    }

    /** The next frame from the server, whatever its opcode (bounded by the socket timeout). */
    public Frame receive() throws IOException { return readFrame(in, MAX_PAYLOAD); }

    /**
     * Close handshake with status 1000 (unless a close was already sent, or the upgrade was refused): sends close,
     * waits (bounded) for the server's close frame, then closes the socket.
     */
    @Override
    public void close() throws IOException {
        try {
            if (status == 101 && !closeSent && !socket.isClosed()) { // no close handshake on a refused upgrade
                sendClose(1000, "");
                socket.setSoTimeout(5000);
                for (int i = 0; i < 1000; i++) {
                    if (receive().opcode() == CLOSE) break;
                }
            }
        } catch (IOException ignored) {
            // the server may already have gone: closing the socket is all that is left to do
        } finally {
            socket.close();
        }
    }

    // ---- frame codec, shared with Backend -------------------------------------------------------------------

    /** Reads one frame (RFC 6455 5.2), unmasking it; fails on RSV bits, oversized or fragmented control frames. */
    static Frame readFrame(InputStream in, int maxPayload) throws IOException {
        int b0 = readByte(in), b1 = readByte(in);
        if ((b0 & 0x70) != 0) throw new ProtocolException("RSV bits set without an extension");
        boolean fin = (b0 & 0x80) != 0, masked = (b1 & 0x80) != 0;
        int opcode = b0 & 0x0F;
        long len = b1 & 0x7F;
        if (len == 126) len = readBig(in, 2);
        else if (len == 127) len = readBig(in, 8);
        if (len < 0 || len > maxPayload) throw new ProtocolException("frame payload too large: " + len);
        if (opcode >= 0x8 && (len > 125 || !fin)) throw new ProtocolException("invalid control frame");
        byte[] mask = masked ? readExactly(in, 4) : null;
        byte[] payload = readExactly(in, (int) len);
        if (masked) for (int i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3];
        return new Frame(fin, opcode, masked, payload);
    }

    /** Writes one frame; {@code mask} true for client frames (a fresh random key each, RFC 6455 5.3). */
    static void writeFrame(OutputStream out, boolean fin, int opcode, byte[] payload, boolean mask) throws IOException {
        ByteArrayOutputStream h = new ByteArrayOutputStream(14);
        h.write((fin ? 0x80 : 0) | opcode);
        int m = mask ? 0x80 : 0;
        if (payload.length < 126) {
            h.write(m | payload.length);
        } else if (payload.length < 65536) {
            h.write(m | 126);
            h.write(payload.length >> 8);
            h.write(payload.length);
        } else {
            h.write(m | 127);
            for (int shift = 56; shift >= 0; shift -= 8) h.write((int) ((long) payload.length >> shift));
        }
        byte[] body = payload;
        if (mask) {
            byte[] key = new byte[4];
            ThreadLocalRandom.current().nextBytes(key);
            h.write(key, 0, 4);
            body = payload.clone();
            for (int i = 0; i < body.length; i++) body[i] ^= key[i & 3];
        }
        out.write(h.toByteArray());
        out.write(body);
    }

    private static int readByte(InputStream in) throws IOException {
        int b = in.read();
        if (b < 0) throw new EOFException("connection closed mid-frame or before one");
        return b;
    }

    private static long readBig(InputStream in, int n) throws IOException {
        long v = 0;
        for (int i = 0; i < n; i++) v = v << 8 | readByte(in);
        return v;
    }

    private static byte[] readExactly(InputStream in, int n) throws IOException {
        byte[] b = in.readNBytes(n);
        if (b.length != n) throw new EOFException("connection closed mid-frame");
        return b;
    }

    /** Reads a response head up to and excluding the blank line, byte by byte so no frame byte is consumed. */
    private static String readHead(InputStream in) throws IOException {
        List<String> lines = new ArrayList<>();
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        while (true) {
            int c = in.read();
            if (c < 0) throw new EOFException("connection closed during the handshake response; got " + lines);
            if (c != '\n') {
                if (line.size() > 65536) throw new ProtocolException("handshake response line too long");
                line.write(c);
                continue;
            }
            String l = line.toString(StandardCharsets.ISO_8859_1);
            if (l.endsWith("\r")) l = l.substring(0, l.length() - 1);
            line.reset();
            if (l.isEmpty()) {
                if (lines.isEmpty()) continue;
                return String.join("\r\n", lines);
            }
            lines.add(l);
        }
    }
}
