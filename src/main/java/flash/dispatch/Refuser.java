package flash.dispatch;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Refuses connections past the limit with a 503 and a lingering close. Closing at once would lose the 503: the
 * client's request is still unread, and closing a socket with unread input sends RST, which destroys data the client
 * has not read yet. So the 503 is written, the output shut down, and the input drained by one small thread until the
 * client closes or a second passes. Bounded: past {@link #MAX_LINGERING} sockets, the oldest is closed outright.
 */
final class Refuser implements AutoCloseable {
    private static final long LINGER_NANOS = 1_000_000_000L;
    private static final int MAX_LINGERING = 1024;

    private final byte[] response;
    private final Selector selector;
    private final Queue<SocketChannel> incoming = new ConcurrentLinkedQueue<>();
    private final ArrayDeque<Lingering> lingering = new ArrayDeque<>();
    private final ByteBuffer sink = ByteBuffer.allocateDirect(4096);
    private final Thread thread;

    private record Lingering(SocketChannel ch, SelectionKey key, long deadline) { }

    Refuser(byte[] response) throws IOException {
        this.response = response;
        this.selector = Selector.open();
        this.thread = Thread.ofPlatform().name("flash-refuser").daemon(true).start(this::run);
    }

    /** Called by the acceptor: answers 503 now, closes later. Never blocks. */
    void refuse(SocketChannel ch) {
        try {
            ch.configureBlocking(false);
            ch.write(ByteBuffer.wrap(response)); // fits an empty socket buffer whole
            ch.shutdownOutput();
        } catch (IOException e) {
            closeQuietly(ch);
            return;
        }
        incoming.add(ch);
        selector.wakeup();
    }

    private void run() {
        while (!Thread.currentThread().isInterrupted() && selector.isOpen()) {
            try {
                // Nothing lingering: sleep until refuse() or close() wakes us, not five times a second on an idle
                // server; otherwise look at the lingering sockets' deadlines every 200 ms.
                selector.select(lingering.isEmpty() ? 0 : 200);
                for (SelectionKey k : selector.selectedKeys()) drain((SocketChannel) k.channel(), k);
                selector.selectedKeys().clear();
                for (SocketChannel ch; (ch = incoming.poll()) != null; ) {
                    if (lingering.size() >= MAX_LINGERING) finish(lingering.pollFirst());
                    lingering.addLast(new Lingering(ch, ch.register(selector, SelectionKey.OP_READ), System.nanoTime() + LINGER_NANOS));
                }
                long now = System.nanoTime();
                while (!lingering.isEmpty() && (now - lingering.peekFirst().deadline() > 0 || !lingering.peekFirst().ch().isOpen())) {
                    finish(lingering.pollFirst());
                }
            } catch (IOException | RuntimeException e) {
                if (!selector.isOpen()) return;
            }
        }
    }

    /** Discards what the client sends; at EOF (or an error) the socket can be closed without a reset. */
    private void drain(SocketChannel ch, SelectionKey key) {
        try {
            int n;
            do {
                sink.clear();
                n = ch.read(sink);
            } while (n > 0);
            if (n < 0) {
                key.cancel();
                closeQuietly(ch);
            }
        } catch (IOException e) {
            key.cancel();
            closeQuietly(ch);
        }
    }

    private static void finish(Lingering l) {
        l.key().cancel();
        closeQuietly(l.ch());
    }

    private static void closeQuietly(SocketChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // already gone
        }
    }

    @Override
    public void close() {
        thread.interrupt();
        try {
            thread.join(1000);
            selector.close();
        } catch (IOException | InterruptedException ignored) {
            // shutting down
        }
        for (Lingering l : lingering) closeQuietly(l.ch());
        for (SocketChannel ch; (ch = incoming.poll()) != null; ) closeQuietly(ch);
    }
}
