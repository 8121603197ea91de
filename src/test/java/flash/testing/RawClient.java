package flash.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** A raw-socket HTTP/1.1 client for tests: send exact bytes, read exact responses (Content-Length framed). */
public final class RawClient implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    public RawClient(int port) throws IOException { this(port, 0); }

    /**
     * With {@code receiveBuffer} > 0, a fixed SO_RCVBUF set before connecting (no autotuning): a client that stops
     * reading then fills its side within that many bytes, and the server's writes block soon after.
     */
    public RawClient(int port, int receiveBuffer) throws IOException {
        socket = new Socket();
        if (receiveBuffer > 0) socket.setReceiveBufferSize(receiveBuffer);
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        socket.setSoTimeout(15_000);
        socket.setTcpNoDelay(true);
        in = socket.getInputStream();
        out = socket.getOutputStream();
    }

    /** Over a socket connected (and maybe wrapped, as a TLS socket) by the caller. */
    public RawClient(Socket connected) throws IOException {
        socket = connected;
        socket.setSoTimeout(15_000);
        in = socket.getInputStream();
        out = socket.getOutputStream();
    }

    public Socket socket() { return socket; }

    public RawClient send(String s) throws IOException { return send(s.getBytes(StandardCharsets.ISO_8859_1)); }

    public RawClient send(byte[] b) throws IOException {
        out.write(b);
        out.flush();
        return this;
    }

    /** A parsed response: status, headers (lower-case names), body bytes. */
    public record Response(int status, String statusLine, Map<String, String> headers, byte[] body) {
        public String header(String name) { return headers.get(name.toLowerCase(Locale.ROOT)); }
        public String bodyText() { return new String(body, StandardCharsets.ISO_8859_1); }
    }

    /** Reads one response; {@code head} true for a response to HEAD (no body despite Content-Length). */
    public Response read(boolean head) throws IOException {
        String statusLine = line();
        if (statusLine == null) throw new IOException("connection closed before a response");
        Map<String, String> headers = new LinkedHashMap<>();
        for (String l; !(l = line()).isEmpty(); ) {
            int c = l.indexOf(':');
            headers.put(l.substring(0, c).trim().toLowerCase(Locale.ROOT), l.substring(c + 1).trim());
        }
        int status = Integer.parseInt(statusLine.split(" ")[1]);
        byte[] body = new byte[0];
        String cl = headers.get("content-length");
        boolean bodyless = head || status == 304 || status == 204 || status < 200;
        if (!bodyless && cl != null) body = in.readNBytes(Integer.parseInt(cl));
        else if (!bodyless && "chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) body = chunked();
        return new Response(status, statusLine, headers, body);
    }

    public Response read() throws IOException { return read(false); }

    /** A chunked body, decoded; the trailer section is read and dropped. */
    private byte[] chunked() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while (true) {
            String size = line();
            if (size == null) throw new IOException("EOF in chunked body");
            int semi = size.indexOf(';');
            int n = Integer.parseInt((semi < 0 ? size : size.substring(0, semi)).trim(), 16);
            if (n == 0) {
                for (String t; (t = line()) != null && !t.isEmpty(); ) { }
                return out.toByteArray();
            }
            out.write(in.readNBytes(n));
            line();
        }
    }

    /** Everything until the server closes (a close-delimited body). */
    public byte[] readToEnd() throws IOException { return in.readAllBytes(); }

    /** True if the server closed the connection (EOF) within the socket timeout. */
    public boolean closedByServer() throws IOException {
        try {
            return in.read() < 0;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset counts as closed
        }
    }

    /** The raw input, for bodies read by the test itself (after {@code read(true)} consumed only the head). */
    public InputStream input() { return in; }

    /** Reads and throws away up to {@code n} bytes; returns how many arrived before EOF. */
    public long discard(long n) throws IOException {
        byte[] buf = new byte[1 << 16];
        long got = 0;
        while (got < n) {
            int r = in.read(buf, 0, (int) Math.min(buf.length, n - got));
            if (r < 0) break;
            got += r;
        }
        return got;
    }

    public void timeout(int ms) throws IOException { socket.setSoTimeout(ms); }

    private String line() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\n') break;
            if (c != '\r') b.write(c);
        }
        if (c < 0 && b.size() == 0) return null;
        return b.toString(StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() throws IOException { socket.close(); }
}
