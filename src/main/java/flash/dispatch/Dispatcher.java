package flash.dispatch;

import flash.pipeline.LoopStats;

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

    /** Helper pool gauges, where the architecture has helpers. */
    default HelperPool helpers() { return null; }
}
