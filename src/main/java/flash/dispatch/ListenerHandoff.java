package flash.dispatch;

import flash.sys.Native;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.SelectorProvider;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Gives every MP worker the parent's one listening socket, so all workers take connections from a single accept
 * queue: whichever worker is idle takes the oldest connection, as in Apache's prefork. (With SO_REUSEPORT each
 * worker would have its own queue, and the kernel would hash a new connection onto a worker busy with a slow
 * client while others sat idle.)
 *
 * <p>A child JVM inherits only descriptors 0-2, so the descriptor travels over a Unix socket with SCM_RIGHTS. The
 * worker puts it on descriptor 0 and takes it with {@link System#inheritedChannel()}, the JDK's public way to
 * adopt an inherited listening socket (inetd style). Its old stdin, the pipe from the parent, moves to another
 * descriptor, where the worker keeps watching for the parent's exit.
 */
public final class ListenerHandoff {
    private static final int SOL_SOCKET = 1, SCM_RIGHTS = 1, MSG_NOSIGNAL = 0x4000, MSG_CMSG_CLOEXEC = 0x40000000;
    private static final long MSGHDR_SIZE = 56, CMSG_SPACE_INT = 24, CMSG_LEN_INT = 20;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MemoryLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle SENDMSG, RECVMSG, DUP, DUP2, READ, GETSOCKOPT;
    private static final int SO_ACCEPTCONN = 30;
    /** sun.nio.ch's server socket channel over an existing descriptor, and IOUtil.newFD; null without --add-opens. */
    private static final java.lang.reflect.Constructor<?> SERVER_CHANNEL_OVER_FD;
    private static final java.lang.reflect.Method NEW_FD;

    static {
        SymbolLookup libc = LINKER.defaultLookup();
        Linker.Option errno = Linker.Option.captureCallState("errno");
        SENDMSG = link(libc, "sendmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT), errno);
        RECVMSG = link(libc, "recvmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT), errno);
        DUP = link(libc, "dup", FunctionDescriptor.of(JAVA_INT, JAVA_INT), errno);
        DUP2 = link(libc, "dup2", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), errno);
        READ = link(libc, "read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), errno);
        GETSOCKOPT = link(libc, "getsockopt", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS), errno);
        java.lang.reflect.Constructor<?> c = null;
        java.lang.reflect.Method m = null;
        try {
            c = Class.forName("sun.nio.ch.ServerSocketChannelImpl").getDeclaredConstructor(SelectorProvider.class,
                    java.net.ProtocolFamily.class, java.io.FileDescriptor.class, boolean.class);
            c.setAccessible(true);
            m = Class.forName("sun.nio.ch.IOUtil").getMethod("newFD", int.class);
        } catch (ReflectiveOperationException | RuntimeException e) { // InaccessibleObjectException without --add-opens
            c = null;
            m = null;
        }
        SERVER_CHANNEL_OVER_FD = c;
        NEW_FD = m;
    }

    private static MethodHandle link(SymbolLookup lookup, String name, FunctionDescriptor fd, Linker.Option... opts) {
        return LINKER.downcallHandle(lookup.findOrThrow(name), fd, opts);
    }

    private ListenerHandoff() {}

    /**
     * Parent side: a Unix socket at {@code path} that hands {@code listener} to each worker that connects, until it
     * is closed. Runs on its own daemon thread.
     */
    static ServerSocketChannel offer(ServerSocketChannel listener, Path path) throws IOException {
        int fd = Native.fd(listener);
        if (fd < 0) throw new IOException("cannot share the listening socket: JDK internals are closed "
                + "(run with --add-opens java.base/sun.nio.ch=ALL-UNNAMED)");
        ServerSocketChannel handoff = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        handoff.bind(UnixDomainSocketAddress.of(path));
        Thread.ofPlatform().daemon(true).name("flash-mp-handoff").start(() -> {
            while (handoff.isOpen()) {
                try (SocketChannel worker = handoff.accept()) {
                    send(Native.fd(worker), fd);
                } catch (IOException e) {
                    // closed at shutdown, or a worker that died while connecting: it will be replaced
                }
            }
        });
        return handoff;
    }

    /**
     * Worker side: fetches the listening socket from the parent's Unix socket at {@code path}. Afterwards the
     * parent's stdin pipe is on the returned {@link Received#parentPipe()} descriptor.
     */
    public static Received receive(Path path) throws IOException {
        int received;
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
            received = recv(Native.fd(ch));
        }
        int pipe = call(DUP, "dup", 0);
        ServerSocketChannel listener = adoptListening(received, "the descriptor from the parent");
        // Leave the channel the only reference here: once every process has closed its own (workers when they
        // drain, the parent when it stops), the port refuses new connections instead of queueing them unserved.
        int devNull = Native.openReadOnly(Path.of("/dev/null"));
        if (devNull < 0) throw new IOException("open /dev/null failed: errno " + -devNull);
        call(DUP2, "dup2", devNull, 0);
        Native.close(devNull);
        return new Received(listener, pipe);
    }

    /**
     * A listening socket on descriptor {@code fd} as a channel, which then owns the descriptor.
     *
     * <p>Built as the JDK builds the channel of an inherited socket, with the constructor of its own server socket
     * channel over an existing descriptor, but without {@link System#inheritedChannel()}'s subclass: closing that one
     * also points descriptors 0, 1 and 2 at /dev/null (inetd gave them all the socket), and everything logged or
     * written to stdout after the listener closes, during the drain, would be lost. Where the JDK's internals are
     * closed (no {@code --add-opens java.base/sun.nio.ch}), {@code fd} is moved onto descriptor 0 for
     * {@code inheritedChannel} (callers that still need descriptor 0 dup it first), with that caveat.
     */
    static ServerSocketChannel adoptListening(int fd, String what) throws IOException {
        if (!listening(fd)) {
            Native.close(fd);
            throw new IOException(what + " is not a listening stream socket");
        }
        if (SERVER_CHANNEL_OVER_FD != null) {
            try {
                return (ServerSocketChannel) SERVER_CHANNEL_OVER_FD.newInstance(SelectorProvider.provider(),
                        StandardProtocolFamily.INET, NEW_FD.invoke(null, fd), true);
            } catch (ReflectiveOperationException | RuntimeException e) {
                Throwable cause = e instanceof java.lang.reflect.InvocationTargetException i ? i.getCause() : e;
                Native.close(fd);
                throw new IOException(what + ": " + cause, cause);
            }
        }
        call(DUP2, "dup2", fd, 0);
        Native.close(fd);
        Channel inherited = System.inheritedChannel(); // a channel on a dup of descriptor 0
        if (!(inherited instanceof ServerSocketChannel listener)) {
            throw new IOException(what + " is not a listening socket: " + inherited);
        }
        return listener;
    }

    /** getsockopt SO_ACCEPTCONN: whether {@code fd} is a socket in the listening state. */
    private static boolean listening(int fd) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE), value = arena.allocate(JAVA_INT), len = arena.allocate(JAVA_INT);
            len.set(JAVA_INT, 0, 4);
            int r = (int) GETSOCKOPT.invokeExact(state, fd, SOL_SOCKET, SO_ACCEPTCONN, value, len);
            return r == 0 && value.get(JAVA_INT, 0) != 0;
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException(t);
        }
    }

    /** Saves descriptor 0 on a new descriptor (the caller restores it with {@link #restoreStdin}). */
    static int saveStdin() throws IOException { return call(DUP, "dup", 0); }

    /** Puts a descriptor saved by {@link #saveStdin} back on 0, and closes the copy. */
    static void restoreStdin(int saved) throws IOException {
        call(DUP2, "dup2", saved, 0);
        Native.close(saved);
    }

    /** The shared listening socket, and the descriptor of the pipe from the parent (EOF when the parent exits). */
    public record Received(ServerSocketChannel listener, int parentPipe) {
        /** Blocks until the parent has exited (its end of the pipe closes, even on SIGKILL). */
        public void awaitParentExit() {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment state = arena.allocate(CALL_STATE), b = arena.allocate(1);
                long n;
                do {
                    n = (long) READ.invokeExact(state, parentPipe, b, 1L);
                } while (n > 0 || (n < 0 && (int) ERRNO.get(state, 0L) == 4 /* EINTR */));
            } catch (Throwable t) {
                // unreadable: treat as gone
            }
        }
    }

    private static void send(int socket, int fd) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment cmsg = arena.allocate(CMSG_SPACE_INT, 8);
            MemorySegment msg = message(arena, cmsg);
            cmsg.set(JAVA_LONG, 0, CMSG_LEN_INT);
            cmsg.set(JAVA_INT, 8, SOL_SOCKET);
            cmsg.set(JAVA_INT, 12, SCM_RIGHTS);
            cmsg.set(JAVA_INT, 16, fd);
            long n = (long) SENDMSG.invokeExact(state, socket, msg, MSG_NOSIGNAL);
            if (n < 0) throw new IOException("sendmsg failed: errno " + (int) ERRNO.get(state, 0L));
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException(t);
        }
    }

    private static int recv(int socket) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment cmsg = arena.allocate(CMSG_SPACE_INT, 8);
            MemorySegment msg = message(arena, cmsg);
            long n = (long) RECVMSG.invokeExact(state, socket, msg, MSG_CMSG_CLOEXEC);
            if (n < 0) throw new IOException("recvmsg failed: errno " + (int) ERRNO.get(state, 0L));
            if (msg.get(JAVA_LONG, 40) < CMSG_LEN_INT || cmsg.get(JAVA_INT, 8) != SOL_SOCKET
                    || cmsg.get(JAVA_INT, 12) != SCM_RIGHTS) {
                throw new IOException("the parent sent no descriptor");
            }
            return cmsg.get(JAVA_INT, 16);
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException(t);
        }
    }

    /** A struct msghdr (x86-64 layout) carrying one data byte and room for one descriptor. */
    private static MemorySegment message(Arena arena, MemorySegment control) {
        MemorySegment msg = arena.allocate(MSGHDR_SIZE, 8);
        MemorySegment iov = arena.allocate(16, 8), data = arena.allocate(JAVA_BYTE);
        data.set(JAVA_BYTE, 0, (byte) 'F'); // a stream socket must carry at least one byte with the descriptor
        iov.set(ADDRESS, 0, data);
        iov.set(JAVA_LONG, 8, 1);
        msg.set(ADDRESS, 16, iov);     // msg_iov
        msg.set(JAVA_LONG, 24, 1);     // msg_iovlen
        msg.set(ADDRESS, 32, control); // msg_control
        msg.set(JAVA_LONG, 40, CMSG_SPACE_INT); // msg_controllen
        return msg;
    }

    private static int call(MethodHandle h, String name, int... args) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int r = args.length == 1 ? (int) h.invokeExact(state, args[0]) : (int) h.invokeExact(state, args[0], args[1]);
            if (r < 0) throw new IOException(name + " failed: errno " + (int) ERRNO.get(state, 0L));
            return r;
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException(t);
        }
    }
}
