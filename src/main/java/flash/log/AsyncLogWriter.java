package flash.log;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Whole lines from any thread, written to a file (or stdout) by one writer thread, so that a slow disk or a full
 * pipe never blocks an event loop. Two buffers: callers append to the active one under a lock held only for the
 * copy; the writer swaps it for the empty spare and writes outside the lock.
 *
 * <p>The writer is not woken per line: that would be a futex wake, a context switch and a small write(2) for every
 * few lines, on the loop's own core (it cost a third of the server's CPU per request at 1 KiB). It wakes when
 * {@link #FLUSH_BYTES} have gathered, and otherwise every {@link #FLUSH_MILLIS} ms: a line reaches the file
 * within that time. After an interval with no line it sleeps until the next one, which wakes it: an idle server's
 * log threads do not take its cores ten times a second (they shared the loop's core on a pinned server, where every
 * wake-up can preempt the loop), and a busy server's lines never wake it one by one.
 *
 * <p>When the writer falls behind until the active buffer is full, a line is dropped and counted
 * ({@link #dropped()}), never waited for: a loop must not stall on its log. {@link #reopen()} (SIGHUP, SIGUSR1)
 * makes the writer close the file and open the same path again, after logrotate renamed it.
 */
public final class AsyncLogWriter implements AutoCloseable {
    /** Buffer per side: some thousands of access-log lines, the backlog a stalled disk may build before drops. */
    public static final int DEFAULT_BUFFER = 1 << 20;
    /** Bytes that wake the writer at once. */
    public static final int FLUSH_BYTES = 64 * 1024;
    /** Longest a line waits for the writer otherwise. */
    public static final long FLUSH_MILLIS = 100;

    private final Path path; // null: stdout or stderr
    private final boolean stderr;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition work = lock.newCondition();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong written = new AtomicLong();
    private final Thread thread;
    private final int flushBytes;
    private ByteBuffer active;
    private ByteBuffer spare;
    private boolean reopen;
    private boolean closing;
    private boolean asleep; // guarded by lock: the writer waits with no deadline until a line comes
    private WritableByteChannel out;
    private String lastError;

    /** Opens {@code path} for appending (created if missing), or stdout when null. Throws when it cannot. */
    public AsyncLogWriter(Path path, int bufferBytes, String threadName) throws IOException {
        this(path, bufferBytes, threadName, false);
    }

    /** As above; with {@code path} null, {@code stderr} picks stderr instead of stdout. */
    public AsyncLogWriter(Path path, int bufferBytes, String threadName, boolean stderr) throws IOException {
        this.path = path;
        this.stderr = stderr;
        this.flushBytes = Math.min(FLUSH_BYTES, bufferBytes / 2);
        this.active = ByteBuffer.allocate(bufferBytes);
        this.spare = ByteBuffer.allocate(bufferBytes);
        this.out = open();
        this.thread = Thread.ofPlatform().daemon(true).name(threadName).start(this::run);
    }

    private WritableByteChannel open() throws IOException {
        if (path == null) return new FileOutputStream(stderr ? FileDescriptor.err : FileDescriptor.out).getChannel();
        // APPEND: mp workers share the file, and each write lands whole at its end.
        return FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    }

    /** Queues one whole line (its newline included); false when it was dropped because the writer is behind. */
    public boolean offer(byte[] line, int length) {
        lock.lock();
        try {
            if (closing || active.remaining() < length) {
                dropped.incrementAndGet();
                return false;
            }
            boolean wake = asleep || (active.position() < flushBytes && active.position() + length >= flushBytes);
            active.put(line, 0, length);
            if (wake) {
                asleep = false;
                work.signal();
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** The file is opened again at the writer's next turn (after logrotate moved it away). */
    public void reopen() {
        lock.lock();
        try {
            reopen = true;
            work.signal();
        } finally {
            lock.unlock();
        }
    }

    public long dropped() { return dropped.get(); }

    /** Bytes handed to the file so far. */
    public long written() { return written.get(); }

    private void run() {
        while (true) {
            boolean doReopen, last;
            lock.lock();
            try {
                long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(FLUSH_MILLIS);
                while (active.position() < flushBytes && !reopen && !closing) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        if (active.position() > 0) break; // the interval is up: write what there is
                        // A whole interval without a line: sleep until one comes (offer wakes us), then give it
                        // and those after it an interval to gather.
                        asleep = true;
                        try {
                            while (asleep && !reopen && !closing) work.await();
                        } catch (InterruptedException e) {
                            closing = true;
                        }
                        asleep = false;
                        deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(FLUSH_MILLIS);
                        continue;
                    }
                    try {
                        work.awaitNanos(left);
                    } catch (InterruptedException e) {
                        closing = true;
                    }
                }
                ByteBuffer full = active;
                active = spare;
                spare = full;
                doReopen = reopen;
                reopen = false;
                last = closing;
            } finally {
                lock.unlock();
            }
            spare.flip();
            write(spare);
            spare.clear();
            if (doReopen) reopenNow();
            if (last) {
                flushRemainder();
                return;
            }
        }
    }

    private void write(ByteBuffer b) {
        int n = b.remaining();
        int start = b.position();
        try {
            while (b.hasRemaining()) out.write(b);
            written.addAndGet(n);
        } catch (IOException e) {
            // Lines are lost, not retried forever: count them, say so once per distinct error.
            long lines = 0;
            for (int i = start; i < start + n; i++) if (b.get(i) == '\n') lines++;
            dropped.addAndGet(lines);
            String msg = String.valueOf(e.getMessage());
            if (!msg.equals(lastError)) {
                lastError = msg;
                System.err.println("flash: cannot write " + (path == null ? stderr ? "stderr" : "stdout" : path) + ": " + msg);
            }
        }
    }

    private void reopenNow() {
        if (path == null) return;
        try {
            WritableByteChannel fresh = open();
            out.close();
            out = fresh;
            lastError = null;
        } catch (IOException e) {
            System.err.println("flash: cannot reopen " + path + ": " + e.getMessage() + " (still writing to the old file)");
        }
    }

    private void flushRemainder() {
        lock.lock();
        try {
            active.flip();
            write(active);
            active.clear();
        } finally {
            lock.unlock();
        }
        try {
            if (path != null) out.close();
        } catch (IOException ignored) {
            // closing at exit: nothing left to tell
        }
    }

    /** Writes what is queued and closes the file; lines offered afterwards are dropped. */
    @Override
    public void close() {
        lock.lock();
        try {
            closing = true;
            work.signal();
        } finally {
            lock.unlock();
        }
        try {
            thread.join(2_000); // a hung disk or pipe may hold the last lines: shutdown does not wait on it for long
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
