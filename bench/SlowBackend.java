import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;

/**
 * A slow HTTP/1.1 origin for bench/isolation.sh: every request is answered DELAY_MS after its head arrived, without
 * blocking anything else. One virtual thread per connection; Thread.sleep unmounts it, so a single carrier thread
 * keeps hundreds of connections waiting at once. Keep-alive (HTTP/1.1 unless "Connection: close"; HTTP/1.0 only
 * with "Connection: keep-alive") and pipelining; a Content-Length request body is read and discarded; a chunked
 * request body gets 501 and a close.
 *
 * usage: java bench/SlowBackend.java [PORT=0] [DELAY_MS=50] [BODY_BYTES=64]
 * Prints "slow backend listening on 127.0.0.1:PORT (...)" when ready; stops on SIGTERM.
 */
public class SlowBackend {
    static final int MAX_HEAD = 64 * 1024;

    public static void main(String[] args) throws Exception {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 0;
        long delayMs = args.length > 1 ? Long.parseLong(args[1]) : 50;
        int bodyBytes = args.length > 2 ? Integer.parseInt(args[2]) : 64;
        byte[] body = new byte[bodyBytes];
        Arrays.fill(body, (byte) 's');
        byte[] head = ("HTTP/1.1 200 OK\r\nServer: slow-backend\r\nContent-Type: application/octet-stream\r\nContent-Length: "
                + bodyBytes + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        byte[] response = new byte[head.length + body.length];
        System.arraycopy(head, 0, response, 0, head.length);
        System.arraycopy(body, 0, response, head.length, body.length);

        ServerSocket listener = new ServerSocket();
        listener.setReuseAddress(true);
        listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 4096);
        System.out.println("slow backend listening on 127.0.0.1:" + listener.getLocalPort() + " (delay " + delayMs
                + " ms, body " + bodyBytes + " bytes, virtual thread per connection)");
        System.out.flush();
        while (true) {
            Socket s = listener.accept();
            Thread.ofVirtual().start(() -> serve(s, delayMs, response));
        }
    }

    static void serve(Socket s, long delayMs, byte[] response) {
        try (s) {
            s.setTcpNoDelay(true);
            InputStream in = new BufferedInputStream(s.getInputStream(), 16 * 1024);
            OutputStream out = s.getOutputStream();
            while (true) {
                String requestLine = line(in);
                if (requestLine == null) return;
                if (requestLine.isEmpty()) continue; // stray CRLF between requests
                boolean keepAlive = !requestLine.endsWith("HTTP/1.0");
                long contentLength = 0;
                boolean chunked = false;
                int headBytes = requestLine.length();
                String field;
                while ((field = line(in)) != null && !field.isEmpty()) {
                    headBytes += field.length();
                    if (headBytes > MAX_HEAD) return;
                    int colon = field.indexOf(':');
                    if (colon < 0) continue;
                    String name = field.substring(0, colon).trim().toLowerCase(Locale.ROOT);
                    String value = field.substring(colon + 1).trim().toLowerCase(Locale.ROOT);
                    switch (name) {
                        case "content-length" -> contentLength = Long.parseLong(value);
                        case "transfer-encoding" -> chunked = true;
                        case "connection" -> {
                            if (value.contains("close")) keepAlive = false;
                            else if (value.contains("keep-alive")) keepAlive = true;
                        }
                        default -> { }
                    }
                }
                if (field == null) return;
                if (chunked) {
                    out.write("HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                            .getBytes(StandardCharsets.US_ASCII));
                    return;
                }
                in.skipNBytes(contentLength);
                Thread.sleep(delayMs); // unmounts the virtual thread: the carrier serves other connections meanwhile
                out.write(response);
                out.flush();
                if (!keepAlive) return;
            }
        } catch (IOException | InterruptedException | NumberFormatException e) {
            // the client went away or sent something this fixture does not speak: drop the connection
        }
    }

    /** One CRLF- (or LF-) terminated line in ISO-8859-1, without its terminator; null at EOF. */
    static String line(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder(128);
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\n') {
                int n = b.length();
                if (n > 0 && b.charAt(n - 1) == '\r') b.setLength(n - 1);
                return b.toString();
            }
            if (b.length() >= MAX_HEAD) throw new IOException("line too long");
            b.append((char) c);
        }
        return null;
    }
}
