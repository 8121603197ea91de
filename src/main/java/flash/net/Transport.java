package flash.net;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SelectableChannel;

/**
 * The byte pipe under an HTTP connection. The codec above reads and writes only through it, so a TLS transport
 * can replace the plain one without touching HTTP code (nginx swaps a connection's send and recv functions the
 * same way). Works on blocking and non-blocking channels alike: a non-blocking call that cannot move bytes
 * returns 0.
 */
public interface Transport {
    /** Returned by {@link #sendFile} when this transport cannot send file data without copying it (TLS). */
    long UNSUPPORTED = -2;

    /** Reads into {@code dst}: bytes read, 0 when nothing is ready (non-blocking), -1 at end of stream. */
    int read(ByteBuffer dst) throws IOException;

    /** One gathering write of {@code srcs[offset, offset + length)}: bytes written (0 when the socket is full). */
    long write(ByteBuffer[] srcs, int offset, int length) throws IOException;

    /** Writes one buffer: bytes written (0 when the socket is full). */
    int write(ByteBuffer src) throws IOException;

    /**
     * Sends {@code length} bytes of {@code file} from {@code position} without copying them through user space:
     * bytes sent, 0 when the socket is full, or {@link #UNSUPPORTED} when this transport cannot (the caller then
     * maps or reads the data and uses {@link #write}). A blocking transport sends at least one byte or throws.
     */
    long sendFile(FileChannel file, long position, long length) throws IOException;

    /**
     * As {@link #sendFile(FileChannel, long, long)}, with the file's descriptor number already known ({@code fileFd},
     * or -1): the lookup of a JDK channel's descriptor costs two method-handle calls per send (docs/performance.md
     * section 27).
     */
    default long sendFile(FileChannel file, int fileFd, long position, long length) throws IOException {
        return sendFile(file, position, length);
    }

    /**
     * Whether {@link #sendFile} can send file data without this process seeing the bytes (plain TCP: yes; TLS, which
     * must encrypt them: no). The responder uses it to choose a body's path: a region of the open file for sendfile,
     * or mapped chunks that a transport without sendfile can hand to its {@link #write} without another copy.
     */
    default boolean supportsSendfile() { return false; }

    /**
     * Like {@link #write(ByteBuffer[], int, int)}, but tells the kernel more data follows at once (send with
     * MSG_MORE): a response head written just before a sendfile of its body then leaves in the body's first packet
     * instead of a packet of its own, at no extra system call (TCP_CORK would cost two setsockopt calls). A transport
     * that cannot say so simply writes.
     */
    default long writeMore(ByteBuffer[] srcs, int offset, int length) throws IOException {
        return write(srcs, offset, length);
    }

    /**
     * Like {@link #writeMore}, for a head whose file body takes more than one sendfile call: the transport holds
     * partial segments (TCP_CORK) from this write until its next {@link #sendFile} has returned. Two setsockopt calls
     * more than {@link #writeMore}, which only pays off on such bodies (docs/performance.md section 38). A transport
     * that cannot cork writes as {@link #writeMore} does.
     */
    default long writeCorked(ByteBuffer[] srcs, int offset, int length) throws IOException {
        return writeMore(srcs, offset, length);
    }

    /** Ends our sending side (a FIN) while we may still read: how a closing connection lingers. */
    void shutdownOutput() throws IOException;

    /**
     * Ends the receiving side: a read blocked on another thread returns -1 at once. A blocking driver's timer uses
     * it to wake its owner without taking the socket away (the owner may still answer 408).
     */
    void shutdownInput() throws IOException;

    /** Closes the channel; safe from any thread (it is how a timer interrupts a blocked owner), idempotent. */
    void close();

    /**
     * A timer's close: wakes an owner blocked on the channel by closing it, and releases nothing the owner may still
     * be using; the owner's own {@link #close} then releases the rest. Safe from any thread, idempotent.
     */
    default void interrupt() { close(); }

    boolean isOpen();

    boolean isBlocking();

    /** The channel a driver registers for readiness. */
    SelectableChannel channel();
}
