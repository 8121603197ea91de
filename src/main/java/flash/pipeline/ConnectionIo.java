package flash.pipeline;

import java.nio.ByteBuffer;

/**
 * What an architecture's driver gives a connection: read buffers, readiness interest, timers and
 * counters. The event loops implement it with a Selector; thread-per-connection drivers with blocking
 * sockets, where interest changes mean nothing.
 */
public interface ConnectionIo {
    /** A read buffer of at least the head limit; event loops pool them so idle connections hold none. */
    ByteBuffer acquireBuffer();

    void releaseBuffer(ByteBuffer buffer);

    /** A full read buffer holding part of a large head: a bigger one with the same contents (write mode). */
    default ByteBuffer grow(ByteBuffer full) {
        ByteBuffer bigger = ByteBuffer.allocate(full.capacity() * 2);
        full.flip();
        bigger.put(full);
        releaseBuffer(full);
        return bigger;
    }

    /** The connection wants to read ({@code read}) and/or write ({@code write}) next. */
    void interest(HttpConnection c, boolean read, boolean write);

    /** The connection is closed; forget it. */
    void closed(HttpConnection c);

    /** The counters this connection reports to (one set per event loop). */
    LoopStats stats();
}
