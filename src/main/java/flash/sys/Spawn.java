package flash.sys;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * Starts a program with glibc's posix_spawn(3) through FFM, in a session of its own, on three pipes.
 *
 * <p>Why not {@link ProcessBuilder}: on Linux it spawns the JDK's {@code jspawnhelper}, which execs the program,
 * and a CGI script must also lead its own process group (so that a timeout can kill whatever it forked), which
 * ProcessBuilder can only get by exec'ing util-linux's {@code setsid} in between: three execs per request.
 * posix_spawn with {@code POSIX_SPAWN_SETSID} is one clone(CLONE_VM | CLONE_VFORK) and one exec; measured in
 * docs/performance.md (CGI). The pipes are plain blocking descriptors, read and written on the CGI pump threads.
 *
 * <p>The caller reaps the child with {@link #waitpid} (the JVM's reaper only knows its own Processes) and closes
 * each descriptor once, when no read or write is in flight on it.
 */
public final class Spawn {
    /** A running child: its pid (also its session and process group id) and the parent's ends of its pipes. */
    public record Child(int pid, int stdin, int stdout, int stderr) {}

    private static final int O_CLOEXEC = 0x80000, EINTR = 4;
    private static final short POSIX_SPAWN_SETSIGDEF = 0x04, POSIX_SPAWN_SETSIGMASK = 0x08, POSIX_SPAWN_SETSID = 0x80;
    // glibc x86-64: posix_spawn_file_actions_t is 80 bytes, posix_spawnattr_t 336, sigset_t 128; rounded up.
    private static final long FILE_ACTIONS_SIZE = 128, ATTR_SIZE = 512, SIGSET_SIZE = 128;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MemoryLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle PIPE2, FA_INIT, FA_DESTROY, FA_DUP2, FA_CHDIR, ATTR_INIT, ATTR_DESTROY,
            ATTR_FLAGS, ATTR_SIGMASK, ATTR_SIGDEF, SIGEMPTY, SIGFILL, POSIX_SPAWN, READ, WRITE, WAITPID, FA_CLOSEFROM;
    private static final Throwable LINK_FAILURE;

    static {
        MethodHandle[] h = new MethodHandle[17];
        Throwable failure = null;
        if (Native.available()) {
            try {
                SymbolLookup libc = LINKER.defaultLookup();
                Linker.Option errno = Linker.Option.captureCallState("errno");
                h[0] = link(libc, "pipe2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), errno);
                h[1] = link(libc, "posix_spawn_file_actions_init", FunctionDescriptor.of(JAVA_INT, ADDRESS));
                h[2] = link(libc, "posix_spawn_file_actions_destroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
                h[3] = link(libc, "posix_spawn_file_actions_adddup2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
                h[4] = link(libc, "posix_spawn_file_actions_addchdir_np", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
                h[5] = link(libc, "posix_spawnattr_init", FunctionDescriptor.of(JAVA_INT, ADDRESS));
                h[6] = link(libc, "posix_spawnattr_destroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
                h[7] = link(libc, "posix_spawnattr_setflags", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_SHORT));
                h[8] = link(libc, "posix_spawnattr_setsigmask", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
                h[9] = link(libc, "posix_spawnattr_setsigdefault", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
                h[10] = link(libc, "sigemptyset", FunctionDescriptor.of(JAVA_INT, ADDRESS));
                h[11] = link(libc, "sigfillset", FunctionDescriptor.of(JAVA_INT, ADDRESS));
                // posix_spawn returns the error number itself.
                h[12] = link(libc, "posix_spawn",
                        FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
                h[13] = link(libc, "read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), errno);
                h[14] = link(libc, "write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), errno);
                h[15] = link(libc, "waitpid", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT), errno);
                // glibc 2.34+: the JDK opens most descriptors without O_CLOEXEC (jars, sockets, eventfds), and a
                // script must inherit none of them: a client socket held by a script outlives its connection.
                h[16] = link(libc, "posix_spawn_file_actions_addclosefrom_np", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
            } catch (Throwable t) {
                failure = t;
            }
        } else {
            failure = Native.linkFailure();
        }
        PIPE2 = h[0]; FA_INIT = h[1]; FA_DESTROY = h[2]; FA_DUP2 = h[3]; FA_CHDIR = h[4]; ATTR_INIT = h[5];
        ATTR_DESTROY = h[6]; ATTR_FLAGS = h[7]; ATTR_SIGMASK = h[8]; ATTR_SIGDEF = h[9]; SIGEMPTY = h[10];
        SIGFILL = h[11]; POSIX_SPAWN = h[12]; READ = h[13]; WRITE = h[14]; WAITPID = h[15]; FA_CLOSEFROM = h[16];
        LINK_FAILURE = failure;
    }

    private static MethodHandle link(SymbolLookup lookup, String name, FunctionDescriptor fd, Linker.Option... opts) {
        return LINKER.downcallHandle(lookup.findOrThrow(name), fd, opts);
    }

    private Spawn() {}

    /** True when posix_spawn and the pipe calls linked (Linux x86-64, glibc 2.34 or newer, native access on). */
    public static boolean available() { return LINK_FAILURE == null; }

    /** Why {@link #available()} is false, or null. */
    public static Throwable linkFailure() { return LINK_FAILURE; }

    /**
     * Runs {@code program} (argv is the program alone) in {@code workDir} with exactly {@code env} ("NAME=value"),
     * as the leader of a new session, with every signal at its default disposition and none blocked, and no
     * descriptor but its three pipes. Blocking (a
     * fork and an exec): call it off the loops.
     */
    public static Child spawn(String program, String workDir, List<String> env) throws IOException {
        if (!available()) throw new IOException("posix_spawn is not available: " + LINK_FAILURE);
        int[] in = null, out = null, err = null;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            in = pipe(arena, state);
            out = pipe(arena, state);
            err = pipe(arena, state);
            MemorySegment fa = arena.allocate(FILE_ACTIONS_SIZE, 16);
            MemorySegment attr = arena.allocate(ATTR_SIZE, 16);
            check((int) FA_INIT.invokeExact(fa), "posix_spawn_file_actions_init");
            check((int) ATTR_INIT.invokeExact(attr), "posix_spawnattr_init");
            try {
                // dup2 clears close-on-exec on 0, 1 and 2; every other pipe end (O_CLOEXEC) closes at the exec.
                check((int) FA_DUP2.invokeExact(fa, in[0], 0), "adddup2");
                check((int) FA_DUP2.invokeExact(fa, out[1], 1), "adddup2");
                check((int) FA_DUP2.invokeExact(fa, err[1], 2), "adddup2");
                check((int) FA_CLOSEFROM.invokeExact(fa, 3), "addclosefrom_np");
                check((int) FA_CHDIR.invokeExact(fa, arena.allocateFrom(workDir)), "addchdir_np");
                MemorySegment none = arena.allocate(SIGSET_SIZE, 8), all = arena.allocate(SIGSET_SIZE, 8);
                check((int) SIGEMPTY.invokeExact(none), "sigemptyset");
                check((int) SIGFILL.invokeExact(all), "sigfillset");
                check((int) ATTR_SIGMASK.invokeExact(attr, none), "setsigmask");
                check((int) ATTR_SIGDEF.invokeExact(attr, all), "setsigdefault");
                check((int) ATTR_FLAGS.invokeExact(attr,
                        (short) (POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)), "setflags");
                MemorySegment path = arena.allocateFrom(program);
                MemorySegment argv = arena.allocate(ADDRESS, 2);
                argv.setAtIndex(ADDRESS, 0, path);
                argv.setAtIndex(ADDRESS, 1, MemorySegment.NULL);
                MemorySegment envp = arena.allocate(ADDRESS, env.size() + 1L);
                for (int i = 0; i < env.size(); i++) envp.setAtIndex(ADDRESS, i, arena.allocateFrom(env.get(i)));
                envp.setAtIndex(ADDRESS, env.size(), MemorySegment.NULL);
                MemorySegment pid = arena.allocate(JAVA_INT);
                int r = (int) POSIX_SPAWN.invokeExact(pid, path, fa, attr, argv, envp);
                if (r != 0) throw new IOException("cannot run " + program + ": " + strerror(r));
                Child child = new Child(pid.get(JAVA_INT, 0), in[1], out[0], err[0]);
                closeAll(in[0], out[1], err[1]); // the child's ends
                in = out = err = null;
                return child;
            } finally {
                int ignored = (int) ATTR_DESTROY.invokeExact(attr);
                ignored = (int) FA_DESTROY.invokeExact(fa);
            }
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException(t);
        } finally {
            if (in != null) closeAll(in);
            if (out != null) closeAll(out);
            if (err != null) closeAll(err);
        }
    }

    private static int[] pipe(Arena arena, MemorySegment state) throws Throwable {
        MemorySegment fds = arena.allocate(JAVA_INT, 2);
        int r = (int) PIPE2.invokeExact(state, fds, O_CLOEXEC);
        if (r != 0) throw new IOException("pipe2: " + strerror((int) ERRNO.get(state, 0L)));
        return new int[] {fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1)};
    }

    private static void closeAll(int... fds) {
        for (int fd : fds) if (fd >= 0) Native.close(fd);
    }

    private static void check(int r, String what) throws IOException {
        if (r != 0) throw new IOException(what + ": " + strerror(r));
    }

    private static String strerror(int errno) {
        return switch (errno) {
            case 1 -> "EPERM"; case 2 -> "ENOENT (no such file)"; case 8 -> "ENOEXEC (not an executable format)";
            case 12 -> "ENOMEM"; case 13 -> "EACCES (permission denied)"; case 11 -> "EAGAIN (process limit)";
            case 24 -> "EMFILE (too many open files)"; default -> "errno " + errno;
        };
    }

    /** waitpid(pid, &status, 0), blocking until the child exits: reaps it. Returns the raw wait status, or -errno. */
    public static int waitpid(int pid) {
        Scratch s = SCRATCH.get();
        try {
            while (true) {
                int r = (int) WAITPID.invokeExact(s.state, pid, s.status, 0);
                if (r == pid) return s.status.get(JAVA_INT, 0);
                int e = s.errno();
                if (e != EINTR) return -e;
            }
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Per-thread memory: errno state, a wait status, and a 64 KiB transfer buffer for the pipe streams. */
    private static final class Scratch {
        final MemorySegment state, status, buffer;

        Scratch() {
            Arena arena = Arena.ofAuto(); // freed when the thread (and so this object) is gone
            state = arena.allocate(CALL_STATE);
            status = arena.allocate(JAVA_INT);
            buffer = arena.allocate(64 * 1024, 8);
        }

        int errno() { return (int) ERRNO.get(state, 0L); }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** A blocking InputStream over a pipe's read end; {@link #close} closes the descriptor once. */
    public static final class PipeIn extends InputStream {
        private final Descriptor fd;

        public PipeIn(int fd) { this.fd = new Descriptor(fd); }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            java.util.Objects.checkFromIndexSize(off, len, b.length);
            if (len == 0) return 0;
            fd.checkOpen();
            return offloaded(() -> readNative(b, off, len));
        }

        private int readNative(byte[] b, int off, int len) throws IOException {
            Scratch s = SCRATCH.get();
            long want = Math.min(len, s.buffer.byteSize());
            try {
                while (true) {
                    long n = (long) READ.invokeExact(s.state, fd.fd, s.buffer, want);
                    if (n > 0) {
                        MemorySegment.copy(s.buffer, JAVA_BYTE_LAYOUT, 0, b, off, (int) n);
                        return (int) n;
                    }
                    if (n == 0) return -1;
                    int e = s.errno();
                    if (e != EINTR) throw new IOException("read: " + strerror(e));
                }
            } catch (IOException e) {
                throw e;
            } catch (Throwable t) {
                throw new IOException(t);
            }
        }

        @Override
        public void close() { fd.close(); }
    }

    /** A blocking OutputStream over a pipe's write end; EPIPE (the reader is gone) is an IOException. */
    public static final class PipeOut extends OutputStream {
        private final Descriptor fd;

        public PipeOut(int fd) { this.fd = new Descriptor(fd); }

        @Override
        public void write(int b) throws IOException { write(new byte[] {(byte) b}, 0, 1); }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            java.util.Objects.checkFromIndexSize(off, len, b.length);
            fd.checkOpen();
            offloaded(() -> {
                writeNative(b, off, len);
                return 0;
            });
        }

        private void writeNative(byte[] b, int off, int len) throws IOException {
            Scratch s = SCRATCH.get();
            try {
                while (len > 0) {
                    int chunk = (int) Math.min(len, s.buffer.byteSize());
                    MemorySegment.copy(b, off, s.buffer, JAVA_BYTE_LAYOUT, 0, chunk);
                    long done = 0;
                    while (done < chunk) {
                        long n = (long) WRITE.invokeExact(s.state, fd.fd, s.buffer.asSlice(done), (long) (chunk - done));
                        if (n >= 0) {
                            done += n;
                            continue;
                        }
                        int e = s.errno();
                        if (e == 32) throw new IOException("Broken pipe");
                        if (e != EINTR) throw new IOException("write: " + strerror(e));
                    }
                    off += chunk;
                    len -= chunk;
                }
            } catch (IOException e) {
                throw e;
            } catch (Throwable t) {
                throw new IOException(t);
            }
        }

        @Override
        public void close() { fd.close(); }
    }

    /** A pipe end that both streams close at most once: a second close() must not close a reused number. */
    private static final class Descriptor {
        final int fd;
        private boolean closed;

        Descriptor(int fd) { this.fd = fd; }

        synchronized void checkOpen() throws IOException {
            if (closed) throw new IOException("Stream closed");
        }

        synchronized void close() {
            if (closed) return;
            closed = true;
            Native.close(fd);
        }
    }

    private interface PipeCall {
        int run() throws IOException;
    }

    /**
     * A virtual thread blocked in a native downcall pins its carrier, and a few scripts that hold their pipes
     * silent would then stall every virtual thread of the server (the JDK's own blocking file reads compensate with
     * a spare carrier; FFM downcalls do not). So on a virtual thread the call runs on a platform thread of
     * {@link #OFFLOAD}, and the virtual thread parks (unmounted) until it returns.
     */
    private static int offloaded(PipeCall call) throws IOException {
        if (!Thread.currentThread().isVirtual()) return call.run();
        try {
            return java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return call.run();
                } catch (IOException e) {
                    throw new java.util.concurrent.CompletionException(e);
                }
            }, OFFLOAD).join();
        } catch (java.util.concurrent.CompletionException e) {
            if (e.getCause() instanceof IOException io) throw io;
            throw e;
        }
    }

    private static final java.util.concurrent.ExecutorService OFFLOAD =
            java.util.concurrent.Executors.newCachedThreadPool(r -> {
                Thread t = new Thread(r, "flash-pipe-offload");
                t.setDaemon(true);
                return t;
            });

    private static final java.lang.foreign.ValueLayout.OfByte JAVA_BYTE_LAYOUT = java.lang.foreign.ValueLayout.JAVA_BYTE;
}
