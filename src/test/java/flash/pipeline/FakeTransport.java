package flash.pipeline;

import flash.net.Transport;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.SelectableChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;

/**
 * A scripted, in-memory, non-blocking {@link Transport} for unit tests of a connection's state machine.
 *
 * <p>Input is a queue of chunks the test adds ({@link #deliver}), optionally followed by an end of stream
 * ({@link #deliverEof}); a read returns at most what is left of the first chunk (so chunk boundaries are read
 * boundaries), 0 when the queue is empty, and -1 once the EOF is reached. Output is captured. Writes accept
 * everything by default; {@link #acceptOnly} makes them accept only that many more bytes (0: the socket is full)
 * until {@link #acceptAll}; {@link #failWrites} makes them throw, as writing to a reset connection does.
 * {@code sendFile} copies from the FileChannel under the same budget. shutdownOutput, shutdownInput and close are
 * recorded; a write after shutdownOutput or close throws, like a socket's.
 */
public final class FakeTransport implements Transport {
    private static final Object EOF = new Object();

    private final ArrayDeque<Object> input = new ArrayDeque<>();
    private final ByteArrayOutputStream output = new ByteArrayOutputStream();
    private long budget = -1; // bytes writes may still accept; -1: unlimited
    private IOException writeFailure;
    private IOException readFailure;
    private boolean blocking;
    private boolean sendfile;

    public int reads;           // calls to read
    public int writes;          // calls to write (either form) and sendFile
    public int moreWrites;      // of which writeMore (a head before a body of one sendfile turn)
    public int corkedWrites;    // of which writeCorked (a head before a body of several turns)
    public int shutdownOutputs;
    public int shutdownInputs;
    public int closes;
    private boolean outputShut;
    private boolean inputShut;
    private boolean open = true;

    // ------------------------------------------------------------------ script

    public FakeTransport deliver(String s) { return deliver(s.getBytes(StandardCharsets.ISO_8859_1)); }

    public FakeTransport deliver(byte[] chunk) {
        if (chunk.length > 0) input.add(ByteBuffer.wrap(chunk.clone()));
        return this;
    }

    /** Delivers {@code s} one byte per read. */
    public FakeTransport deliverBytewise(String s) {
        for (byte b : s.getBytes(StandardCharsets.ISO_8859_1)) input.add(ByteBuffer.wrap(new byte[] {b}));
        return this;
    }

    public FakeTransport deliverEof() {
        input.add(EOF);
        return this;
    }

    /** Reads throw this (a reset), from now on. */
    public void failReads(IOException e) { readFailure = e; }

    /** Writes accept {@code n} more bytes in total, then 0 until {@link #acceptAll} or another call. */
    public void acceptOnly(long n) { budget = n; }

    public void acceptAll() { budget = -1; }

    /** Writes throw (the client reset the connection), from now on. */
    public void failWrites() { writeFailure = new IOException("Connection reset by peer"); }

    public void blocking(boolean b) { blocking = b; }

    /** Whether this transport says it supports sendfile, as a plain socket does (default: no, as TLS). */
    public FakeTransport sendfile(boolean b) { sendfile = b; return this; }

    /** Bytes delivered but not read yet (EOF not counted). */
    public int pendingInput() {
        int n = 0;
        for (Object o : input) if (o instanceof ByteBuffer b) n += b.remaining();
        return n;
    }

    public boolean eofPending() { return input.contains(EOF); }

    public byte[] outputBytes() { return output.toByteArray(); }

    public String output() { return output.toString(StandardCharsets.ISO_8859_1); }

    /** Returns what was written so far and forgets it. */
    public String takeOutput() {
        String s = output();
        output.reset();
        return s;
    }

    public boolean outputShut() { return outputShut; }

    public boolean inputShut() { return inputShut; }

    // ------------------------------------------------------------------ Transport

    @Override
    public int read(ByteBuffer dst) throws IOException {
        reads++;
        if (!open) throw new ClosedChannelException();
        if (readFailure != null) throw readFailure;
        if (inputShut) return -1;
        Object head = input.peek();
        if (head == null) return 0;
        if (head == EOF) return -1;
        ByteBuffer chunk = (ByteBuffer) head;
        int n = Math.min(chunk.remaining(), dst.remaining());
        if (n == 0) return 0;
        ByteBuffer part = chunk.slice(chunk.position(), n);
        dst.put(part);
        chunk.position(chunk.position() + n);
        if (!chunk.hasRemaining()) input.poll();
        return n;
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        writes++;
        checkWritable();
        long total = 0;
        for (int i = offset; i < offset + length; i++) {
            total += put(srcs[i]);
            if (srcs[i].hasRemaining()) break;
        }
        return total;
    }

    @Override
    public long writeMore(ByteBuffer[] srcs, int offset, int length) throws IOException {
        moreWrites++;
        return write(srcs, offset, length);
    }

    @Override
    public long writeCorked(ByteBuffer[] srcs, int offset, int length) throws IOException {
        corkedWrites++;
        return write(srcs, offset, length);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        writes++;
        checkWritable();
        return put(src);
    }

    @Override
    public long sendFile(FileChannel file, long position, long length) throws IOException {
        writes++;
        checkWritable();
        long n = budget < 0 ? length : Math.min(length, budget);
        if (n <= 0) return 0;
        ByteBuffer b = ByteBuffer.allocate((int) Math.min(n, 1 << 20));
        int r = file.read(b, position);
        if (r <= 0) return 0; // past the end of the file: nothing sent, as sendfile(2)
        output.write(b.array(), 0, r);
        if (budget >= 0) budget -= r;
        return r;
    }

    private void checkWritable() throws IOException {
        if (!open) throw new ClosedChannelException();
        if (writeFailure != null) throw writeFailure;
        if (outputShut) throw new ClosedChannelException();
    }

    private int put(ByteBuffer src) {
        int n = src.remaining();
        if (budget >= 0) n = (int) Math.min(n, budget);
        for (int i = 0; i < n; i++) output.write(src.get());
        if (budget >= 0) budget -= n;
        return n;
    }

    @Override
    public void shutdownOutput() throws IOException {
        if (!open) throw new ClosedChannelException();
        shutdownOutputs++;
        outputShut = true;
    }

    @Override
    public void shutdownInput() throws IOException {
        if (!open) throw new ClosedChannelException();
        shutdownInputs++;
        inputShut = true;
    }

    @Override
    public void close() {
        closes++;
        open = false;
    }

    @Override public boolean isOpen() { return open; }

    @Override public boolean isBlocking() { return blocking; }

    @Override public boolean supportsSendfile() { return sendfile; }

    /** No channel: nothing registers this transport with a real selector. */
    @Override public SelectableChannel channel() { return null; }
}
