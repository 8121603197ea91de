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

    /** Helper pool gauges, where the architecture has helpers. */
    default HelperPool helpers() { return null; }
}
