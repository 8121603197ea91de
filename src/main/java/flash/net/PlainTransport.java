package flash.net;

import flash.sys.Native;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SocketChannel;

/**
 * TCP (or a Unix socket) with nothing in between: the transport of plain HTTP and of upstream connections.
 *
 * <p>On a non-blocking socket file data goes through a direct {@code sendfile(2)} downcall
 * ({@link Native#sendfile}): {@code FileChannel.transferTo} on this JDK tries {@code copy_file_range} (which
 * fails) before every {@code sendfile}. Blocking sockets (thread per connection, virtual threads) keep
 * {@code transferTo}, which knows how to park; so does everything when the native layer is unavailable.
 */
public final class PlainTransport implements Transport {
    /** Direct sendfile unless disabled ({@code -Dflash.sendfile=transferTo}, for A/B measurements). */
    static final boolean DIRECT_SENDFILE = Native.available() && Native.fdAccess()
            && !"transferTo".equals(System.getProperty("flash.sendfile"));

    private final SocketChannel ch;
    private int socketFd = -2;         // looked up on the first direct sendfile
    private boolean direct = DIRECT_SENDFILE;
    private ByteBuffer parkBuffer;     // virtual threads only: see copyParking
    private boolean corked;            // TCP_CORK is on until the next sendfile has returned (writeCorked)

    /** MSG_MORE on a head followed by sendfile, unless disabled ({@code -Dflash.headMore=false}, for A/B runs). */
    static final boolean HEAD_MORE = !"false".equals(System.getProperty("flash.headMore"));
    /** Bytes a MSG_MORE write carries at most (a response head, or a multipart part head): larger ones just write. */
    static final int MORE_MAX = 8 * 1024;
    private static final ThreadLocal<java.lang.foreign.MemorySegment> MORE_SCRATCH =
            ThreadLocal.withInitial(() -> java.lang.foreign.Arena.ofAuto().allocate(MORE_MAX, 64));

    public PlainTransport(SocketChannel ch) { this.ch = ch; }

    @Override public int read(ByteBuffer dst) throws IOException { return ch.read(dst); }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        uncork(); // not the sendfile a corked head waits for: nothing may stay held behind it
        return ch.write(srcs, offset, length);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        uncork();
        return ch.write(src);
    }

    @Override public boolean supportsSendfile() { return true; }

    /**
     * One send(2) with MSG_MORE of the buffers, copied into a per-thread native scratch (a head is a few hundred
     * bytes: cheaper than pinning heap arrays, and heads may be read-only views). Only on a non-blocking socket with
     * the native layer: a blocking channel's close must be able to wake a thread blocked in it, which only the JDK's
     * own calls arrange.
     */
    @Override
    public long writeMore(ByteBuffer[] srcs, int offset, int length) throws IOException {
        if (!HEAD_MORE || !direct || ch.isBlocking()) return write(srcs, offset, length);
        long total = 0;
        for (int i = offset; i < offset + length; i++) total += srcs[i].remaining();
        if (total > MORE_MAX) return write(srcs, offset, length);
        if (socketFd == -2) socketFd = Native.fd(ch);
        if (socketFd < 0) return write(srcs, offset, length);
        java.lang.foreign.MemorySegment scratch = MORE_SCRATCH.get();
        long at = 0;
        for (int i = offset; i < offset + length; i++) {
            ByteBuffer b = srcs[i];
            int n = b.remaining();
            java.lang.foreign.MemorySegment.copy(java.lang.foreign.MemorySegment.ofBuffer(b), 0, scratch, at, n);
            at += n;
        }
        long sent;
        for (int attempt = 0; ; attempt++) {
            sent = Native.send(socketFd, scratch, total, Native.MSG_MORE | Native.MSG_NOSIGNAL);
            if (sent >= 0) break;
            if (sent == -Native.EAGAIN) return 0;
            if (sent == -Native.EINTR && attempt < 8) continue;
            if (!ch.isOpen()) throw new java.nio.channels.ClosedChannelException();
            throw new IOException("send failed: errno " + -sent);
        }
        for (int i = offset, left = (int) sent; i < offset + length && left > 0; i++) { // advance as a write would
            ByteBuffer b = srcs[i];
            int n = Math.min(left, b.remaining());
            b.position(b.position() + n);
            left -= n;
        }
        return sent;
    }

    /**
     * Corks the socket, then writes: what lighttpd does before a large file's first sendfile. A 1 MiB body whose head
     * went with MSG_MORE, in turns that did not end on 256 KiB boundaries of the response, cost the client 2-5 times
     * as many wake-ups (IPIs from the server's core) per response as with both changes, and a fifth of the point's
     * throughput (docs/performance.md section 38). Corking needs the native layer and a non-blocking socket, as
     * MSG_MORE does; otherwise this is {@link #writeMore}.
     */
    @Override
    public long writeCorked(ByteBuffer[] srcs, int offset, int length) throws IOException {
        if (!HEAD_MORE || !direct || ch.isBlocking()) return writeMore(srcs, offset, length);
        if (socketFd == -2) socketFd = Native.fd(ch);
        if (!corked && socketFd >= 0) corked = Native.setsockoptInt(socketFd, Native.SOL_TCP, Native.TCP_CORK, 1) == 0;
        if (!corked) return writeMore(srcs, offset, length);
        try {
            return ch.write(srcs, offset, length);
        } catch (IOException | RuntimeException e) {
            uncork();
            throw e;
        }
    }

    /** Sends what the cork held: after the sendfile that followed the corked head (or anything else written). */
    private void uncork() {
        if (!corked) return;
        corked = false;
        // A failure leaves the kernel's own bound: corked data goes out after 200 ms. The socket is broken then anyway.
        Native.setsockoptInt(socketFd, Native.SOL_TCP, Native.TCP_CORK, 0);
    }

    @Override
    public long sendFile(FileChannel file, long pos, long len) throws IOException { return sendFile(file, -1, pos, len); }

    @Override
    public long sendFile(FileChannel file, int fileFd, long pos, long len) throws IOException {
        try {
            return sendFileUncorked(file, fileFd, pos, len);
        } finally {
            uncork(); // the sendfile a corked head waited for has run, whatever came of it
        }
    }

    private long sendFileUncorked(FileChannel file, int fileFd, long pos, long len) throws IOException {
        if (!ch.isBlocking() && direct) {
            // A number kept with the channel outlives it if the channel was closed (an interrupt closes it for every
            // holder): the number may name another file by now.
            if (fileFd >= 0 && !file.isOpen()) throw new java.nio.channels.ClosedChannelException();
            return sendfile(file, fileFd < 0 ? Native.fd(file) : fileFd, pos, len);
        }
        long w = file.transferTo(pos, len, ch);
        // A virtual thread's socket is non-blocking underneath and sendfile does not park the thread: it returns 0
        // when the socket is full, and the driver would spin. A plain write parks until the socket drains.
        if (w == 0 && ch.isBlocking()) w = copyParking(file, pos, len);
        return w;
    }

    /**
     * sendfile(2) straight from the file's descriptor: 0 when the socket is full. Falls back to transferTo for
     * good if the kernel refuses the pair (EINVAL, ENOSYS: a file system without sendfile support).
     */
    private long sendfile(FileChannel file, int fileFd, long pos, long len) throws IOException {
        if (socketFd == -2) socketFd = Native.fd(ch);
        // The file's descriptor comes with it (FileHandle keeps it), not cached here: a cache would keep the last file
        // reachable from an idle connection, and cost every connection its two fields (docs/performance.md, section 24).
        if (socketFd < 0 || fileFd < 0) return file.transferTo(pos, len, ch);
        for (int attempt = 0; ; attempt++) {
            long n = Native.sendfile(socketFd, fileFd, pos, len);
            if (n >= 0) return n;
            if (n == -Native.EAGAIN) return 0;
            if (n == -Native.EINTR && attempt < 8) continue;
            if (n == -Native.EINVAL || n == -Native.ENOSYS || n == -Native.EOPNOTSUPP) {
                direct = false;
                return file.transferTo(pos, len, ch);
            }
            throw new IOException("sendfile failed: errno " + -n);
        }
    }

    /** One small piece by a positional read and a write, which parks a virtual thread until the socket drains. */
    private long copyParking(FileChannel file, long pos, long len) throws IOException {
        if (parkBuffer == null) parkBuffer = ByteBuffer.allocateDirect(16 * 1024);
        ByteBuffer b = parkBuffer.clear().limit((int) Math.min(len, parkBuffer.capacity()));
        int n = file.read(b, pos);
        if (n <= 0) return 0;
        b.flip();
        while (b.hasRemaining()) ch.write(b);
        return n;
    }

    @Override public void shutdownOutput() throws IOException { ch.shutdownOutput(); }

    @Override public void shutdownInput() throws IOException { ch.shutdownInput(); }

    @Override
    public void close() {
        try {
            ch.close();
        } catch (IOException ignored) {
            // closing is all we wanted
        }
    }

    @Override public boolean isOpen() { return ch.isOpen(); }

    @Override public boolean isBlocking() { return ch.isBlocking(); }

    @Override public SelectableChannel channel() { return ch; }
}
