package flash.dispatch;

import flash.http.HttpLimits;
import flash.http.ParseResult;
import flash.http.Request;
import flash.http.RequestParser;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * {@code --http-redirect-port}: a plain HTTP listener that answers every request with a 301 to the same host, path
 * and query on https (the TLS port), then closes. It carries no content, so it runs apart from the architecture: a
 * virtual thread per connection, a bounded number at once, each bounded by the header timeout.
 */
public final class HttpsRedirect implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(HttpsRedirect.class.getName());
    /** Connections handled at once; past that, new ones wait in the backlog. */
    private static final int MAX_OPEN = 1024;

    private final ServerSocketChannel listener;
    private final String fallbackHost;
    private final int httpsPort;
    private final Duration timeout;
    private final Semaphore slots = new Semaphore(MAX_OPEN);
    private final Thread acceptor;
    private volatile boolean closed;

    private HttpsRedirect(ServerSocketChannel listener, String fallbackHost, int httpsPort, Duration timeout) {
        this.listener = listener;
        this.fallbackHost = fallbackHost;
        this.httpsPort = httpsPort;
        this.timeout = timeout;
        this.acceptor = Thread.ofPlatform().name("flash-https-redirect").daemon(true).unstarted(this::acceptLoop);
    }

    /** Binds {@code bind:port} (0: any free port) and starts answering. */
    public static HttpsRedirect start(String bind, int port, int httpsPort, Duration timeout) throws IOException {
        ServerSocketChannel ssc = ServerSocketChannel.open();
        try {
            ssc.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            ssc.bind(new InetSocketAddress(bind, port), 128);
        } catch (IOException | RuntimeException e) {
            ssc.close();
            throw e;
        }
        HttpsRedirect r = new HttpsRedirect(ssc, bind, httpsPort, timeout);
        r.acceptor.start();
        return r;
    }

    public int port() {
        try {
            return ((InetSocketAddress) listener.getLocalAddress()).getPort();
        } catch (IOException e) {
            return -1;
        }
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                slots.acquire();
            } catch (InterruptedException e) {
                return;
            }
            SocketChannel ch;
            try {
                ch = listener.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                slots.release();
                LOG.log(Level.WARNING, "redirect listener: accept failed: " + e.getMessage());
                try {
                    Thread.sleep(50);
                } catch (InterruptedException ie) {
                    return;
                }
                continue;
            }
            Thread.ofVirtual().name("flash-https-redirect-conn").start(() -> {
                try {
                    serve(ch);
                } finally {
                    slots.release();
                }
            });
        }
    }

    private void serve(SocketChannel ch) {
        try (ch; var socket = ch.socket()) {
            socket.setSoTimeout((int) Math.max(1, timeout.toMillis()));
            var in = socket.getInputStream();
            RequestParser parser = new RequestParser(HttpLimits.DEFAULTS);
            ByteBuffer buf = ByteBuffer.allocate(HttpLimits.DEFAULTS.maxHeadBytes());
            while (true) {
                int n = in.read(buf.array(), buf.position(), buf.remaining());
                if (n < 0) return;
                buf.position(buf.position() + n);
                buf.flip();
                ParseResult r = parser.parse(buf);
                buf.compact();
                switch (r) {
                    case Request req -> {
                        answer(ch, location(req.header("Host"), req.rawPath() + (req.query() == null ? "" : "?" + req.query())));
                        return;
                    }
                    case ParseResult.NeedMore nm -> {
                        if (!buf.hasRemaining()) return;
                    }
                    default -> {
                        answer400(ch);
                        return;
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            // a client that went away, sent nothing in time, or sent garbage: nothing to redirect
        }
    }

    /** https://HOST[:PORT]TARGET: the host the client named (without its port), else the address we listen on. */
    String location(String hostHeader, String target) {
        String host = hostHeader == null || hostHeader.isBlank() ? fallbackHost : hostHeader.trim();
        if (host.startsWith("[")) {
            int end = host.indexOf(']');
            host = end < 0 ? fallbackHost : host.substring(0, end + 1);
        } else {
            int colon = host.indexOf(':');
            if (colon >= 0) host = host.substring(0, colon);
            if (host.contains(":")) host = "[" + host + "]";
        }
        if (!host.matches("[A-Za-z0-9.\\-\\[\\]:]+")) host = fallbackHost; // never echo odd bytes into a header
        String path = target.startsWith("/") ? target : "/";
        return "https://" + host + (httpsPort == 443 ? "" : ":" + httpsPort) + path;
    }

    private static void answer(SocketChannel ch, String location) throws IOException {
        String body = "<html><body><a href=\"" + location.replace("&", "&amp;").replace("\"", "&quot;").replace("<", "&lt;")
                + "\">Moved Permanently</a></body></html>\n";
        String head = "HTTP/1.1 301 Moved Permanently\r\nLocation: " + location + "\r\nContent-Type: text/html\r\n"
                + "Content-Length: " + body.length() + "\r\nConnection: close\r\n\r\n";
        write(ch, head + body);
    }

    private static void answer400(SocketChannel ch) throws IOException {
        write(ch, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    }

    private static void write(SocketChannel ch, String s) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(s.getBytes(StandardCharsets.ISO_8859_1));
        while (b.hasRemaining()) ch.write(b);
        ch.shutdownOutput();
    }

    @Override
    public void close() {
        closed = true;
        try {
            listener.close();
        } catch (IOException ignored) {
            // only stops new connections
        }
        acceptor.interrupt();
    }
}
