package flash.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * One byte-stream connection, over TCP or a Unix domain socket, with streams whose every read (and, for Unix
 * sockets, write) is bounded by a timeout. A Unix {@link SocketChannel} has no {@code SO_TIMEOUT}, so that side
 * runs non-blocking under a private selector instead.
 */
abstract sealed class Wire implements AutoCloseable {
    /** Over TCP: SO_TIMEOUT bounds reads; writes block until the peer reads or the socket is closed. */
    static Wire tcp(Socket s) throws IOException {
        s.setTcpNoDelay(true);
        return new Tcp(s);
    }

    static Wire unix(SocketChannel ch) throws IOException { return new Unix(ch); }

    static Wire connectTcp(int port) throws IOException {
        Socket s = new Socket();
        try {
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            return tcp(s);
        } catch (IOException e) {
            s.close();
            throw e;
        }
    }

    static Wire connectUnix(Path socketFile) throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.connect(UnixDomainSocketAddress.of(socketFile));
            return unix(ch);
        } catch (IOException e) {
            ch.close();
            throw e;
        }
    }

    abstract InputStream in();

    abstract OutputStream out();

    abstract void readTimeout(int millis) throws IOException;

    abstract void shutdownOutput() throws IOException;

    /** Aborts the connection: an RST on TCP (SO_LINGER 0); a Unix socket has no reset, so just a close. */
    abstract void reset() throws IOException;

    @Override
    public abstract void close();

    private static final class Tcp extends Wire {
        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;

        Tcp(Socket s) throws IOException {
            this.socket = s;
            this.in = s.getInputStream();
            this.out = s.getOutputStream();
        }

        @Override InputStream in() { return in; }

        @Override OutputStream out() { return out; }

        @Override void readTimeout(int millis) throws IOException { socket.setSoTimeout(millis); }

        @Override void shutdownOutput() throws IOException { socket.shutdownOutput(); }

        @Override
        void reset() throws IOException {
            socket.setSoLinger(true, 0);
            socket.close();
        }

        @Override
        public void close() {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing: nothing to report
            }
        }
    }

    private static final class Unix extends Wire {
        /** How often a waiting read or write looks at the closed flag: close() must end it promptly. */
        private static final long POLL_MS = 200;

        private final SocketChannel ch;
        private final Selector selector;
        private final SelectionKey key;
        private volatile int timeoutMs = 15_000;
        private volatile boolean closed;

        Unix(SocketChannel ch) throws IOException {
            this.ch = ch;
            ch.configureBlocking(false);
            this.selector = Selector.open();
            this.key = ch.register(selector, 0);
        }

        @Override
        InputStream in() {
            return new InputStream() {
                @Override
                public int read() throws IOException {
                    byte[] one = new byte[1];
                    int n = read(one, 0, 1);
                    return n < 0 ? -1 : one[0] & 0xff;
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    if (len == 0) return 0;
                    ByteBuffer bb = ByteBuffer.wrap(b, off, len);
                    long deadline = deadline();
                    while (true) {
                        int n = ch.read(bb);
                        if (n != 0) return n;
                        await(SelectionKey.OP_READ, deadline);
                    }
                }
            };
        }

        @Override
        OutputStream out() {
            return new OutputStream() {
                @Override
                public void write(int b) throws IOException { write(new byte[] {(byte) b}, 0, 1); }

                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    ByteBuffer bb = ByteBuffer.wrap(b, off, len);
                    long deadline = deadline();
                    while (bb.hasRemaining()) {
                        if (ch.write(bb) > 0) deadline = deadline(); // the peer is reading: keep going
                        else await(SelectionKey.OP_WRITE, deadline);
                    }
                }
            };
        }

        private long deadline() { return System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs); }

        private void await(int op, long deadline) throws IOException {
            try {
                key.interestOps(op);
                while (true) {
                    if (closed) throw new SocketException("connection closed");
                    long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                    if (left <= 0) throw new SocketTimeoutException("unix socket " + (op == SelectionKey.OP_READ ? "read" : "write") + " timed out");
                    if (selector.select(Math.min(left, POLL_MS)) > 0) {
                        selector.selectedKeys().clear();
                        return;
                    }
                }
            } catch (ClosedSelectorException | java.nio.channels.CancelledKeyException e) {
                throw new SocketException("connection closed");
            }
        }

        @Override void readTimeout(int millis) { timeoutMs = millis; }

        @Override void shutdownOutput() throws IOException { ch.shutdownOutput(); }

        @Override void reset() { close(); }

        @Override
        public void close() {
            closed = true;
            try {
                ch.close();
            } catch (IOException ignored) {
                // closing: nothing to report
            }
            try {
                selector.wakeup();
                selector.close();
            } catch (IOException ignored) {
                // closing: nothing to report
            }
        }
    }
}
