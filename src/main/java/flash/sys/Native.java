package flash.sys;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.channels.FileChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Every FFM downcall of Flash, Linux x86-64 only. Symbols are linked once; when that fails (other OS, missing
 * symbol) {@link #available()} is false and every call returns {@code -ENOSYS} so callers fall back to plain NIO.
 *
 * <p>Calls that can fail return {@code -errno} (errno captured by the linker, so the JVM cannot clobber it).
 * Scratch memory for out-parameters and errno is per thread, so a call allocates nothing on the hot path.
 *
 * <p>{@link #fd(FileChannel)} / {@link #fd(SocketChannel)} read JDK internals and need
 * {@code --add-opens java.base/sun.nio.ch=ALL-UNNAMED} (manifest: {@code Add-Opens: java.base/sun.nio.ch});
 * without it they return -1 and the rest still works.
 */
public final class Native {
    public static final int EPERM = 1, ENOENT = 2, EINTR = 4, EBADF = 9, EAGAIN = 11, EINVAL = 22, ENAMETOOLONG = 36,
            ENOSYS = 38, ELOOP = 40, EOPNOTSUPP = 95;
    /** preadv2 flag: return EAGAIN instead of blocking on a page-cache miss (Linux 4.14+). */
    public static final int RWF_NOWAIT = 0x8;
    static final long SYS_CACHESTAT = 451;
    static final int O_RDONLY = 0, O_CLOEXEC = 0x80000, POSIX_FADV_WILLNEED = 3, POSIX_FADV_DONTNEED = 4;
    private static final long PAGE = 4096;
    static final long SYS_FSTAT = 5, SYS_OPENAT2 = 437;
    static final int O_NONBLOCK = 0x800, O_NOFOLLOW = 0x20000, AT_FDCWD = -100, PATH_MAX = 4096;
    /** openat2 resolve flags (linux/openat2.h); RESOLVE_CACHED needs Linux 5.12. */
    static final long RESOLVE_NO_MAGICLINKS = 0x02, RESOLVE_NO_SYMLINKS = 0x04, RESOLVE_CACHED = 0x20;
    /** struct stat on x86-64 (asm/stat.h): its size and the offsets of the fields {@link FileIdentity} keeps. */
    static final int STAT_SIZE = 144, ST_DEV = 0, ST_INO = 8, ST_MODE = 24, ST_UID = 28, ST_SIZE = 48, ST_MTIME = 88, ST_CTIME = 104;
    static final int S_IFMT = 0xf000, S_IFREG = 0x8000;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MemoryLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    // Every handle takes the captured-state segment first (except getuid/geteuid/posix_fadvise/malloc/free, which need none).
    private static final MethodHandle SENDFILE, PREADV2, MINCORE, SYSCALL4, FADVISE, FDATASYNC, OPEN, CLOSE,
            GETUID, GETEUID, MALLOC, FREE, SETSOCKOPT, SEND, MINCORE_AT, MMAP, MUNMAP, GETSOCKOPT;
    private static final boolean AVAILABLE;
    private static final Throwable LINK_FAILURE;

    static {
        MethodHandle[] h = new MethodHandle[18];
        Throwable failure = null;
        if (System.getProperty("os.name", "").startsWith("Linux")
                && System.getProperty("os.arch", "").matches("amd64|x86_64")) {
            try {
                SymbolLookup libc = LINKER.defaultLookup();
                Linker.Option errno = Linker.Option.captureCallState("errno");
                h[0] = link(libc, "sendfile", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG), errno);
                h[1] = link(libc, "preadv2",
                        FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_INT), errno);
                h[2] = link(libc, "mincore", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS), errno);
                // long syscall(long nr, ...): pass every variadic argument as a full 64-bit register value.
                h[3] = link(libc, "syscall",
                        FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
                        errno, Linker.Option.firstVariadicArg(1));
                // posix_fadvise returns the error number itself and leaves errno alone.
                h[4] = link(libc, "posix_fadvise", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT));
                h[5] = link(libc, "fdatasync", FunctionDescriptor.of(JAVA_INT, JAVA_INT), errno);
                h[6] = link(libc, "open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
                        errno, Linker.Option.firstVariadicArg(2));
                h[7] = link(libc, "close", FunctionDescriptor.of(JAVA_INT, JAVA_INT), errno);
                h[8] = link(libc, "getuid", FunctionDescriptor.of(JAVA_INT));
                h[9] = link(libc, "geteuid", FunctionDescriptor.of(JAVA_INT));
                h[10] = link(libc, "malloc", FunctionDescriptor.of(ADDRESS, JAVA_LONG));
                h[11] = link(libc, "free", FunctionDescriptor.ofVoid(ADDRESS));
                h[12] = link(libc, "setsockopt",
                        FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT), errno);
                h[13] = link(libc, "send", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), errno);
                // Raw addresses, no errno, and critical (no thread-state transition): mincore only reads page tables and
                // the page cache, a microsecond or so; its caller needs a yes or a no, not why.
                h[14] = link(libc, "mincore", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG),
                        Linker.Option.critical(false));
                h[15] = link(libc, "mmap",
                        FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
                h[16] = link(libc, "munmap", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG));
                h[17] = link(libc, "getsockopt",
                        FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS), errno);
            } catch (Throwable t) { // NoSuchElementException, IllegalCallerException (native access denied), ...
                failure = t;
            }
        } else {
            failure = new UnsupportedOperationException("not Linux x86-64");
        }
        boolean ok = failure == null;
        SENDFILE = ok ? h[0] : null; PREADV2 = ok ? h[1] : null; MINCORE = ok ? h[2] : null;
        SYSCALL4 = ok ? h[3] : null; FADVISE = ok ? h[4] : null; FDATASYNC = ok ? h[5] : null;
        OPEN = ok ? h[6] : null; CLOSE = ok ? h[7] : null; GETUID = ok ? h[8] : null; GETEUID = ok ? h[9] : null;
        MALLOC = ok ? h[10] : null; FREE = ok ? h[11] : null; SETSOCKOPT = ok ? h[12] : null; SEND = ok ? h[13] : null;
        MINCORE_AT = ok ? h[14] : null; MMAP = ok ? h[15] : null; MUNMAP = ok ? h[16] : null;
        GETSOCKOPT = ok ? h[17] : null;
        AVAILABLE = ok;
        LINK_FAILURE = failure;
    }

    private static MethodHandle link(SymbolLookup lookup, String name, FunctionDescriptor fd, Linker.Option... opts) {
        return LINKER.downcallHandle(lookup.findOrThrow(name), fd, opts);
    }

    private Native() {}

    /** True when the native layer linked: Linux x86-64 with native access enabled. */
    public static boolean available() { return AVAILABLE; }

    /** Why {@link #available()} is false, or null. */
    public static Throwable linkFailure() { return LINK_FAILURE; }

    /**
     * malloc(3): {@code size} bytes of native memory, NOT zeroed, as a zero-length segment at its address (the caller
     * gives it a size and a lifetime with {@code reinterpret}); {@link MemorySegment#NULL} when unavailable or out
     * of memory. Must be released with {@link #free} exactly once.
     */
    public static MemorySegment malloc(long size) {
        if (!AVAILABLE) return MemorySegment.NULL;
        try {
            return (MemorySegment) MALLOC.invokeExact(size);
        } catch (Throwable t) {
            return MemorySegment.NULL;
        }
    }

    /** free(3) of memory from {@link #malloc}. */
    public static void free(MemorySegment p) {
        if (!AVAILABLE || p.address() == 0) return;
        try {
            FREE.invokeExact(p);
        } catch (Throwable t) {
            throw new IllegalStateException("free", t);
        }
    }

    /**
     * Per-thread out-parameter memory: errno state, an off_t, one iovec, cachestat range and result, a path, an
     * open_how and a struct stat.
     */
    private static final class Scratch {
        final MemorySegment state, off, iov, range, cstat, path, how, stat;

        Scratch() {
            Arena arena = Arena.ofAuto(); // freed when the thread (and so this object) is gone
            state = arena.allocate(CALL_STATE);
            off = arena.allocate(JAVA_LONG);
            iov = arena.allocate(16, 8);
            range = arena.allocate(16, 8);
            cstat = arena.allocate(40, 8);
            path = arena.allocate(PATH_MAX + 1, 8);
            how = arena.allocate(24, 8);
            stat = arena.allocate(STAT_SIZE, 8);
        }

        long errno() { return (int) ERRNO.get(state, 0L); }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /**
     * sendfile(2) from {@code inFd} at {@code offset}, without touching the file position.
     *
     * @return bytes sent (may be short), or {@code -errno}; {@code -EAGAIN} when the non-blocking socket is full.
     */
    public static long sendfile(int outFd, int inFd, long offset, long count) {
        if (!AVAILABLE) return -ENOSYS;
        Scratch s = SCRATCH.get();
        s.off.set(JAVA_LONG, 0, offset);
        try {
            long n = (long) SENDFILE.invokeExact(s.state, outFd, inFd, s.off, count);
            return n >= 0 ? n : -s.errno();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** send(2) flags: more data follows at once (cork this call's tail); no SIGPIPE on a reset connection. */
    public static final int MSG_MORE = 0x8000, MSG_NOSIGNAL = 0x4000;

    /**
     * send(2) of {@code length} bytes at {@code src} (native memory) with {@code flags}.
     *
     * @return bytes sent (may be short), or {@code -errno}; {@code -EAGAIN} when the non-blocking socket is full.
     */
    public static long send(int fd, MemorySegment src, long length, int flags) {
        if (!AVAILABLE) return -ENOSYS;
        Scratch s = SCRATCH.get();
        try {
            long n = (long) SEND.invokeExact(s.state, fd, src, length, flags);
            return n >= 0 ? n : -s.errno();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * preadv2(2) with RWF_NOWAIT into {@code dst} (one iovec): reads only what is already in the page cache.
     *
     * @return bytes read (0 at EOF, possibly short), or {@code -errno}; {@code -EAGAIN} means the first page
     *         is not cached, {@code -EOPNOTSUPP} that the file system cannot do RWF_NOWAIT.
     */
    public static long preadv2Nowait(int fd, MemorySegment dst, long offset) {
        return preadv2Nowait(fd, dst, 0, dst.byteSize(), offset);
    }

    /**
     * mincore(2): one byte per page into {@code vec} (bit 0 = resident). {@code mapping} must start on a page.
     *
     * @return 0 or {@code -errno}
     */
    public static int mincore(MemorySegment pageAlignedMapping, long length, MemorySegment vec) {
        if (!AVAILABLE) return -ENOSYS;
        if (vec.byteSize() < (length + PAGE - 1) / PAGE) throw new IllegalArgumentException("vec too small");
        Scratch s = SCRATCH.get();
        try {
            int r = (int) MINCORE.invokeExact(s.state, pageAlignedMapping, length, vec);
            return r == 0 ? 0 : (int) -s.errno();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * mincore(2) at raw addresses: {@code address} a page-aligned mapping of at least {@code length} bytes that the
     * caller keeps alive, {@code vec} native memory of one byte per page. No memory session is acquired: mincore never
     * touches the mapped memory, so even a mapping gone meanwhile could only make it fail (ENOMEM), not fault.
     *
     * @return 0, or -1 on any failure
     */
    public static int mincoreAt(long address, long length, long vec) {
        if (!AVAILABLE) return -1;
        try {
            return (int) MINCORE_AT.invokeExact(address, length, vec);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final int PROT_READ = 1, MAP_SHARED = 1;

    /**
     * A read-only shared mapping of the first {@code length} bytes of {@code fd}, outside any memory session: for
     * residency tests only, never to be read (a file truncated since would raise SIGBUS).
     *
     * @return its address, or 0 when it could not be made
     */
    public static long mapReadOnly(int fd, long length) {
        if (!AVAILABLE || fd < 0 || length <= 0) return 0;
        try {
            long a = (long) MMAP.invokeExact(0L, length, PROT_READ, MAP_SHARED, fd, 0L);
            return a == -1 ? 0 : a; // MAP_FAILED
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** munmap(2) of a mapping made by {@link #mapReadOnly}. @return 0, or -1 */
    public static int unmap(long address, long length) {
        if (!AVAILABLE || address == 0) return -1;
        try {
            return (int) MUNMAP.invokeExact(address, length);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * cachestat(2) (syscall 451, Linux 6.5+) over [off, off+len); len 0 means to end of file.
     *
     * @return pages of the range in the page cache ({@code nr_cache}), or {@code -errno} ({@code -ENOSYS} on
     *         older kernels)
     */
    public static long cachestat(int fd, long off, long len) {
        if (!AVAILABLE) return -ENOSYS;
        Scratch s = SCRATCH.get();
        s.range.set(JAVA_LONG, 0, off);
        s.range.set(JAVA_LONG, 8, len);
        try {
            long r = (long) SYSCALL4.invokeExact(s.state, SYS_CACHESTAT, (long) fd, s.range.address(),
                    s.cstat.address(), 0L);
            return r == 0 ? s.cstat.get(JAVA_LONG, 0) : -s.errno();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * kill(2) of a whole process group ({@code kill(-pgid, sig)}), as the CGI handler ends a script and whatever it
     * forked. Returns 0 or -errno ({@code -ESRCH}: the group is gone).
     */
    public static int killProcessGroup(long pgid, int sig) {
        if (pgid <= 1) throw new IllegalArgumentException("process group " + pgid);
        if (!AVAILABLE) return -ENOSYS;
        Scratch s = SCRATCH.get();
        try {
            long r = (long) SYSCALL4.invokeExact(s.state, 62L /* SYS_kill on x86-64 */, -pgid, (long) sig, 0L, 0L);
            return r == 0 ? 0 : (int) -s.errno();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** posix_fadvise(fd, off, len, POSIX_FADV_DONTNEED): drops clean, unmapped pages. Returns 0 or -errno. */
    public static int fadviseDontNeed(int fd, long off, long len) { return fadvise(fd, off, len, POSIX_FADV_DONTNEED); }

    /**
     * posix_fadvise(fd, off, len, POSIX_FADV_WILLNEED): starts reading the range into the page cache and returns
     * without waiting for the data (it may still wait to find the file's blocks, so never on a loop). 0 or -errno.
     */
    public static int fadviseWillNeed(int fd, long off, long len) { return fadvise(fd, off, len, POSIX_FADV_WILLNEED); }

    private static int fadvise(int fd, long off, long len, int advice) {
        if (!AVAILABLE) return -ENOSYS;
        try {
            return -(int) FADVISE.invokeExact(fd, off, len, advice);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** open(path, O_RDONLY | O_CLOEXEC): a raw fd the caller must {@link #close(int)}, or -errno. */
    public static int openReadOnly(Path file) {
        if (!AVAILABLE) return -ENOSYS;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int fd = (int) OPEN.invokeExact(state, arena.allocateFrom(file.toString()), O_RDONLY | O_CLOEXEC, 0);
            return fd >= 0 ? fd : -(int) ERRNO.get(state, 0L);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Opens a file for reading only if that cannot wait for the disk: openat2(2) (syscall 437, Linux 5.12+) with
     * RESOLVE_CACHED, which fails with EAGAIN instead of reading a directory or an inode, and RESOLVE_NO_SYMLINKS,
     * which fails with ELOOP when any component of {@code pathNul} is a symlink (so an absolute path checked once
     * still names the same place). O_NONBLOCK: a FIFO swapped in would otherwise block the open until a writer came.
     *
     * @param pathNul an absolute path, UTF-8, ending in one NUL byte
     * @return a raw fd the caller must {@link #close(int)}, or -errno ({@code -EAGAIN}: the lookup needed I/O;
     *         {@code -EINVAL}/{@code -ENOSYS}: the kernel has no RESOLVE_CACHED)
     */
    public static int openCachedNoSymlinks(byte[] pathNul) {
        return openat2(pathNul, RESOLVE_CACHED | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
    }

    /**
     * As {@link #openCachedNoSymlinks} without RESOLVE_CACHED: the path walk may read directories and inodes from the
     * disk, so it may block; only where blocking is allowed (the caller calls {@link DiskGuard#check}).
     *
     * @return a raw fd the caller must {@link #close(int)}, or -errno ({@code -EINVAL}/{@code -ENOSYS}: no openat2)
     */
    public static int openNoSymlinks(byte[] pathNul) {
        return openat2(pathNul, RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
    }

    private static int openat2(byte[] pathNul, long resolve) {
        if (!AVAILABLE) return -ENOSYS;
        if (pathNul.length > PATH_MAX + 1 || pathNul.length == 0 || pathNul[pathNul.length - 1] != 0) return -ENAMETOOLONG;
        Scratch s = SCRATCH.get();
        MemorySegment.copy(pathNul, 0, s.path, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, pathNul.length);
        s.how.set(JAVA_LONG, 0, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        s.how.set(JAVA_LONG, 8, 0L);
        s.how.set(JAVA_LONG, 16, resolve);
        try {
            long r = (long) SYSCALL4.invokeExact(s.state, SYS_OPENAT2, (long) AT_FDCWD, s.path.address(),
                    s.how.address(), 24L);
            return r >= 0 ? (int) r : (int) -s.errno();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** fstat(2) of {@code fd} as a {@link FileIdentity}, or null when it fails (allocates: for helpers). */
    public static FileIdentity identity(int fd) {
        if (!AVAILABLE || fd < 0 || fstat(fd) < 0) return null;
        MemorySegment st = SCRATCH.get().stat;
        if ((st.get(JAVA_INT, ST_MODE) & S_IFMT) != S_IFREG) return null;
        return new FileIdentity(st.get(JAVA_LONG, ST_DEV), st.get(JAVA_LONG, ST_INO), st.get(JAVA_LONG, ST_SIZE),
                nanos(st, ST_MTIME), nanos(st, ST_CTIME));
    }

    /**
     * fstat(2) of {@code fd} as a {@link FileIdentity} and its owner, or null when it fails or is not a regular file
     * (allocates). Never the disk: the inode of an open descriptor is in memory.
     */
    public static FileStat stat(int fd) {
        FileIdentity id = identity(fd);
        return id == null ? null : new FileStat(id, SCRATCH.get().stat.get(JAVA_INT, ST_UID));
    }

    /**
     * Whether {@code fd} is still the regular file {@code expected} describes (device, inode, size, mtime and ctime
     * to the nanosecond): fstat(2) on an open descriptor reads the inode in memory, never the disk. Allocates nothing.
     *
     * @return 1 when it is, 0 when it is another file or changed, or -errno
     */
    public static int sameFile(int fd, FileIdentity expected) {
        int r = fstat(fd);
        if (r < 0) return r;
        MemorySegment st = SCRATCH.get().stat;
        boolean same = (st.get(JAVA_INT, ST_MODE) & S_IFMT) == S_IFREG
                && st.get(JAVA_LONG, ST_DEV) == expected.dev() && st.get(JAVA_LONG, ST_INO) == expected.ino()
                && st.get(JAVA_LONG, ST_SIZE) == expected.size()
                && nanos(st, ST_MTIME) == expected.mtimeNanos() && nanos(st, ST_CTIME) == expected.ctimeNanos();
        return same ? 1 : 0;
    }

    private static int fstat(int fd) {
        if (!AVAILABLE) return -ENOSYS;
        Scratch s = SCRATCH.get();
        try {
            long r = (long) SYSCALL4.invokeExact(s.state, SYS_FSTAT, (long) fd, s.stat.address(), 0L, 0L);
            return r == 0 ? 0 : (int) -s.errno();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** A struct timespec at {@code at} in a struct stat, as nanoseconds since the epoch. */
    private static long nanos(MemorySegment st, long at) {
        return st.get(JAVA_LONG, at) * 1_000_000_000L + st.get(JAVA_LONG, at + 8);
    }

    /**
     * preadv2(2) with RWF_NOWAIT of {@code length} bytes into {@code dst} at {@code dstOffset}, from {@code offset}
     * in the file: as {@link #preadv2Nowait(int, MemorySegment, long)}, without a slice object per call.
     */
    public static long preadv2Nowait(int fd, MemorySegment dst, long dstOffset, long length, long offset) {
        return preadv2(fd, dst, dstOffset, length, offset, RWF_NOWAIT);
    }

    /**
     * pread of {@code length} bytes into {@code dst} at {@code dstOffset}, from {@code offset} in the file (preadv2
     * without flags): waits for the disk, so only where blocking is allowed (the caller calls {@link DiskGuard#check}).
     *
     * @return bytes read (0 at EOF, possibly short), or {@code -errno}
     */
    public static long pread(int fd, MemorySegment dst, long dstOffset, long length, long offset) {
        return preadv2(fd, dst, dstOffset, length, offset, 0);
    }

    private static long preadv2(int fd, MemorySegment dst, long dstOffset, long length, long offset, int flags) {
        if (!AVAILABLE) return -ENOSYS;
        if (dstOffset < 0 || length < 0 || dstOffset + length > dst.byteSize()) throw new IndexOutOfBoundsException();
        if (!dst.isNative()) throw new IllegalArgumentException("preadv2 needs native memory"); // its address is raw
        Scratch s = SCRATCH.get();
        s.iov.set(JAVA_LONG, 0, dst.address() + dstOffset);
        s.iov.set(JAVA_LONG, 8, length);
        try {
            long n = (long) PREADV2.invokeExact(s.state, fd, s.iov, 1, offset, flags);
            return n >= 0 ? n : -s.errno();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** close(2); returns 0 or -errno. */
    public static int close(int fd) {
        if (!AVAILABLE) return -ENOSYS;
        Scratch s = SCRATCH.get();
        try {
            int r = (int) CLOSE.invokeExact(s.state, fd);
            return r == 0 ? 0 : (int) -s.errno();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** fdatasync(2); returns 0 or -errno. */
    public static int fdatasync(int fd) {
        if (!AVAILABLE) return -ENOSYS;
        Scratch s = SCRATCH.get();
        try {
            int r = (int) FDATASYNC.invokeExact(s.state, fd);
            return r == 0 ? 0 : (int) -s.errno();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Makes a file cold for tests and benchmarks: flush dirty pages (DONTNEED skips them), then drop the file's
     * pages. Pages some process has mapped stay. No-op when the native layer is unavailable.
     */
    public static void evictFromPageCache(Path file) throws IOException {
        if (!AVAILABLE) return;
        int fd = openReadOnly(file);
        if (fd < 0) throw new IOException("open " + file + ": errno " + -fd);
        try {
            int r = fdatasync(fd);
            if (r < 0) throw new IOException("fdatasync " + file + ": errno " + -r);
            r = fadviseDontNeed(fd, 0, 0);
            if (r < 0) throw new IOException("posix_fadvise " + file + ": errno " + -r);
        } finally {
            close(fd);
        }
    }

    /**
     * setsockopt(fd, level, option, value, strlen(value)) with a string value, as TCP_ULP ("tls") and
     * TCP_CONGESTION take. Returns 0 or -errno.
     */
    public static int setsockoptString(int fd, int level, int option, String value) {
        if (!AVAILABLE) return -ENOSYS;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment v = arena.allocateFrom(value); // NUL-terminated; the length passed leaves the NUL out
            int r = (int) SETSOCKOPT.invokeExact(state, fd, level, option, v, (int) (v.byteSize() - 1));
            return r == 0 ? 0 : -(int) ERRNO.get(state, 0L);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** setsockopt's level for TCP options (TCP_ULP, TCP_CORK), and TCP_CORK: hold partial segments until uncorked. */
    public static final int SOL_TCP = 6, TCP_CORK = 3;

    /** setsockopt(fd, level, option, &value, 4) with an int value (TCP_CORK). Returns 0 or -errno. */
    public static int setsockoptInt(int fd, int level, int option, int value) {
        if (!AVAILABLE) return -ENOSYS;
        Scratch s = SCRATCH.get();
        try {
            s.off.set(JAVA_INT, 0, value);
            int r = (int) SETSOCKOPT.invokeExact(s.state, fd, level, option, s.off, 4);
            return r == 0 ? 0 : -(int) s.errno();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** getsockopt(fd, level, option) of an int option (TCP_CORK): its value, or -errno. */
    public static int getsockoptInt(int fd, int level, int option) {
        if (!AVAILABLE) return -ENOSYS;
        Scratch s = SCRATCH.get();
        try {
            s.range.set(JAVA_INT, 8, 4); // the length, in and out
            int r = (int) GETSOCKOPT.invokeExact(s.state, fd, level, option, s.range, s.range.asSlice(8));
            return r == 0 ? s.range.get(JAVA_INT, 0) : -(int) s.errno();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Real user id, or -1 when unavailable. */
    public static int getuid() {
        if (!AVAILABLE) return -1;
        try {
            return (int) GETUID.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Effective user id, or -1 when unavailable. Asked of the kernel once: only the setuid family changes it, which
     * neither Flash nor the JDK calls, and a loop's translation asks on every miss (a system call each: docs/performance.md section 55).
     */
    public static int geteuid() { return Euid.VALUE; }

    private static final class Euid {
        static final int VALUE = ask();

        private static int ask() {
            if (!AVAILABLE) return -1;
            try {
                return (int) GETEUID.invokeExact();
            } catch (Throwable t) {
                throw rethrow(t);
            }
        }
    }

    // ---- file descriptor numbers of JDK channels, and a file channel over a descriptor opened here ------------
    // No public API exposes them, or makes a FileChannel from a number. FileChannelImpl.fd is a private field (needs
    // the package opened); IOUtil.fdVal, IOUtil.newFD, FileChannelImpl.open and SelChImpl.getFDVal are public members
    // of sun.nio.ch. One flag covers them all. A channel made by FileChannelImpl.open owns its descriptor: closing the
    // channel closes it, and so does its cleaner if the channel becomes unreachable unclosed, as for FileChannel.open.

    private static final MethodHandle FILE_CHANNEL_FD, FD_VAL, SEL_CH_FD_VAL, NEW_FD, FILE_CHANNEL_OPEN;

    static {
        MethodHandle fcFd = null, fdVal = null, selFd = null, newFd = null, open = null;
        try {
            Class<?> fci = Class.forName("sun.nio.ch.FileChannelImpl");
            fcFd = MethodHandles.privateLookupIn(fci, MethodHandles.lookup())
                    .findGetter(fci, "fd", java.io.FileDescriptor.class);
            Class<?> ioUtil = Class.forName("sun.nio.ch.IOUtil");
            fdVal = MethodHandles.lookup().findStatic(ioUtil, "fdVal",
                    java.lang.invoke.MethodType.methodType(int.class, java.io.FileDescriptor.class));
            Class<?> selCh = Class.forName("sun.nio.ch.SelChImpl");
            selFd = MethodHandles.lookup().findVirtual(selCh, "getFDVal", java.lang.invoke.MethodType.methodType(int.class));
            try { // a channel over a descriptor: optional, the number lookups work without it
                newFd = MethodHandles.lookup().findStatic(ioUtil, "newFD",
                        java.lang.invoke.MethodType.methodType(java.io.FileDescriptor.class, int.class));
                open = MethodHandles.lookup().findStatic(fci, "open", java.lang.invoke.MethodType.methodType(
                        FileChannel.class, java.io.FileDescriptor.class, String.class, boolean.class, boolean.class,
                        boolean.class, boolean.class, java.io.Closeable.class));
            } catch (ReflectiveOperationException | RuntimeException e) { // another JDK's signatures
                newFd = open = null;
            }
        } catch (ReflectiveOperationException | RuntimeException e) { // IllegalAccessException without --add-opens
            fcFd = fdVal = selFd = null;
        }
        FILE_CHANNEL_FD = fcFd;
        FD_VAL = fdVal;
        SEL_CH_FD_VAL = selFd;
        NEW_FD = newFd;
        FILE_CHANNEL_OPEN = open;
    }

    /** True when {@link #fd(FileChannel)} and {@link #fd(SocketChannel)} can work (JDK internals opened). */
    public static boolean fdAccess() { return FILE_CHANNEL_FD != null; }

    /** The fd number behind a JDK file channel, or -1 when it is not a JDK channel or internals are closed. */
    public static int fd(FileChannel ch) {
        if (FILE_CHANNEL_FD == null || !ch.getClass().getName().equals("sun.nio.ch.FileChannelImpl")) return -1;
        try {
            return (int) FD_VAL.invoke(FILE_CHANNEL_FD.invoke(ch));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The fd number behind a JDK socket channel, or -1 when it is not a JDK channel or internals are closed. */
    public static int fd(SocketChannel ch) { return selectableFd(ch); }

    /** The fd number behind a JDK server socket channel, or -1 as for {@link #fd(SocketChannel)}. */
    public static int fd(java.nio.channels.ServerSocketChannel ch) { return selectableFd(ch); }

    private static int selectableFd(Object ch) {
        if (SEL_CH_FD_VAL == null || !SEL_CH_FD_VAL.type().parameterType(0).isInstance(ch)) return -1;
        try {
            return (int) SEL_CH_FD_VAL.invoke(ch);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * A read-only channel over {@code fd}, a descriptor of a regular file opened by this process, that owns it from
     * now on (closing the channel closes {@code fd}); null when JDK internals are closed, and the caller still owns
     * {@code fd}, as it does when this fails. {@code path} only names the channel (in JFR's file events; may be null).
     * No system call.
     */
    public static FileChannel adoptReadOnly(int fd, String path) {
        if (FILE_CHANNEL_OPEN == null || fd < 0) return null;
        try {
            java.io.FileDescriptor d = (java.io.FileDescriptor) NEW_FD.invokeExact(fd);
            return (FileChannel) FILE_CHANNEL_OPEN.invokeExact(d, path, true, false, false, false,
                    (java.io.Closeable) null);
        } catch (RuntimeException | LinkageError e) { // nothing was made that owns fd
            return null;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }

    /** Size of a page on this platform (x86-64: 4 KiB). */
    public static long pageSize() { return PAGE; }
}
