package flash.dispatch;

import flash.net.LoopStats;

import java.nio.channels.SocketChannel;
import java.util.List;

/** An architecture: where accepted connections run and where their disk work runs. */
public interface Dispatcher {
    void start();

    /** Takes ownership of an accepted connection. */
    void adopt(SocketChannel ch);

    /** Graceful: stop new work, let in-flight responses finish. */
    void drain();

    /** Connections still open (for the drain wait). */
    int openConnections();

    /** Hard stop after the drain timeout. */
    void stop();

    List<LoopStats> stats();

    /**
     * Connections this architecture can serve at once. The acceptor takes a new connection only while fewer are
     * open, so the rest wait in the kernel's listen backlog (bounded) rather than in a queue inside the server.
     */
    default int capacity() { return Integer.MAX_VALUE; }

    /**
     * Called by the acceptor while a connection waits for the capacity: the connection idle longest between
     * requests, if any has been idle a while, is marked to be closed by the timer that enforces idle timeouts, so
     * that the waiting one gets its place. Returns it (null: none), to see whether its close is still to come
     * ({@link flash.net.IoHandler#shedPending}: a request arriving first cancels it). Only where idle connections
     * hold the capacity (mt's threads).
     */
    default flash.net.IoHandler shedIdle() { return null; }

    /** Helper pool gauges, where the architecture has helpers. */
    default HelperPool helpers() { return null; }
}
