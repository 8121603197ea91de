package flash.pipeline;

import flash.net.Registration;
import flash.net.Transport;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A two-way byte tunnel after a {@code 101 Switching Protocols} (WebSocket and other upgrades): bytes read from
 * one end are written to the other, each direction with its own buffer, and a direction reads only once its
 * buffer has been written out (backpressure). An end that reaches EOF half-closes the other; when both
 * directions are done, or nothing moved for the idle timeout, the tunnel ends. On an event loop both directions
 * are driven by readiness; under a blocking driver the second direction runs on a thread of its own.
 */
public final class Tunnel {
    /** One side of the tunnel: its transport, its read buffer (write mode) and how to ask for readiness. */
    public interface End {
        Transport transport();

        ByteBuffer buffer();

        void interest(int ops);
    }

    /** One direction: bytes from {@code from}'s buffer go to {@code to}. */
    static final class Pump {
        final End from;
        final End to;
        boolean wantRead;
        boolean wantWrite;
        boolean eof;
        boolean done;

        Pump(End from, End to) {
            this.from = from;
            this.to = to;
        }

        /** Moves what it can; returns whether any byte moved. Blocking transports block in it. */
        boolean run() throws IOException {
            boolean moved = false;
            ByteBuffer buf = from.buffer();
            while (!done) {
                if (buf.position() > 0) {
                    buf.flip();
                    int w = to.transport().write(buf);
                    buf.compact();
                    if (w > 0) moved = true;
                    if (buf.position() > 0) {
                        wantWrite = true;
                        wantRead = false;
                        return moved;
                    }
                }
                wantWrite = false;
                if (eof) {
                    to.transport().shutdownOutput(); // pass the half-close on
                    done = true;
                    wantRead = false;
                    return moved;
                }
                int n = from.transport().read(buf);
                if (n < 0) {
                    eof = true;
                } else if (n == 0) {
                    wantRead = true;
                    return moved;
                } else {
                    moved = true;
                    if (from.transport().isBlocking()) return true; // one step per call: the caller loops
                }
            }
            return moved;
        }
    }

    private final End client;
    private final End peer;
    private final Pump up;    // client -> peer
    private final Pump down;  // peer -> client
    private final long idleNanos;
    private volatile long lastActivity = System.nanoTime();
    private volatile boolean failed;

    public Tunnel(End client, End peer, long idleNanos) {
        this.client = client;
        this.peer = peer;
        this.up = new Pump(client, peer);
        this.down = new Pump(peer, client);
        this.idleNanos = idleNanos;
    }

    /** The end the client's bytes go to. */
    public End peer() { return peer; }

    public boolean expired(long now) { return now - lastActivity - idleNanos > 0; }

    public boolean finished() { return failed || (up.done && down.done); }

    /** Event loops: something is ready on either end; move bytes both ways and ask for what comes next. */
    public void step() {
        try {
            boolean moved = up.run() | down.run();
            if (moved) lastActivity = System.nanoTime();
        } catch (IOException e) {
            failed = true;
            return;
        }
        client.interest((up.wantRead ? Registration.READ : 0) | (down.wantWrite ? Registration.WRITE : 0));
        peer.interest((down.wantRead ? Registration.READ : 0) | (up.wantWrite ? Registration.WRITE : 0));
    }

    /**
     * Blocking drivers: runs the peer -> client direction on a thread of its own (started with {@code spawn}),
     * and the client -> peer direction on the calling thread, until both are done or a transport fails.
     */
    public void runBlocking(java.util.function.Consumer<Runnable> spawn) {
        java.util.concurrent.CountDownLatch downDone = new java.util.concurrent.CountDownLatch(1);
        spawn.accept(() -> {
            try {
                while (!down.done) {
                    if (down.run()) lastActivity = System.nanoTime();
                }
            } catch (IOException e) {
                failed = true;
                client.transport().close(); // wake the other direction: the tunnel is over
                peer.transport().close();
            } finally {
                downDone.countDown();
            }
        });
        try {
            while (!up.done && !failed) {
                if (up.run()) lastActivity = System.nanoTime();
            }
        } catch (IOException e) {
            failed = true;
            client.transport().close();
            peer.transport().close();
        }
        try {
            downDone.await(); // the owner releases only once the other direction has let go of both ends
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
