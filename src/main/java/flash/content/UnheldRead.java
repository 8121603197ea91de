package flash.content;

import flash.sys.DiskGuard;
import flash.sys.Native;

import java.nio.ByteBuffer;

/**
 * Serves an unheld entry (a cached translation of a small file whose bytes the cache could not hold) without
 * blocking, so that an AMPED loop answers it itself instead of sending a full translation to a helper (issue #11,
 * "warm set larger than the caches"): open with {@code openat2(RESOLVE_CACHED | RESOLVE_NO_SYMLINKS)}, which fails
 * instead of waiting for a directory or inode read; fstat, which must find the file the translation read; preadv2
 * with RWF_NOWAIT of the whole file into a pooled buffer, which fails instead of waiting for a page; and the
 * descriptor is kept for the next request ({@link KeptDescriptor}), so that these pay only the fstat and the read,
 * or the read alone for a watched entry ({@link Check#WATCHED}). Any failure (not in memory, changed, replaced, a
 * symlink on the path, an old kernel) returns null; where blocking is allowed the caller then reads the file there
 * ({@link #readWaiting}), and translates it again only if that fails too (changed, replaced, a symlink on the path).
 *
 * <p>Safety: the path opened is the translation's real path, which was checked to lie under the document root (or
 * allowed out of it by --follow-symlinks); with no symlink allowed anywhere on it, it names the same place in the
 * tree however the tree changed since, so a symlink swapped in to point out of the root fails the open. A change
 * in place, a rename over the file or its deletion fails the identity check, on a kept descriptor too (the unlink
 * changes the kept inode's ctime), or drops a watched entry when the watch reports it. A directory above the file
 * moved or swapped for a symlink is seen only when the path is opened again, past the entry's bound (or dropped at
 * once by the watch). No call of {@link #read} is a disk wait, so none goes through {@link DiskGuard};
 * {@link #readWaiting} waits, and does: the invariant still fails every call that can block.
 */
final class UnheldRead {
    /** Cleared for good when openat2's RESOLVE_CACHED cannot work here (see {@link #probeSupported}): every such read would fail. */
    private static volatile boolean supported = Native.available();

    private UnheldRead() {}

    /** Whether unheld entries can be served at all here (Linux 5.12+ on x86-64, native access enabled). */
    static boolean supported() { return supported; }

    private static volatile boolean probed;

    /**
     * As {@link #supported}, once the kernel was asked: an openat2 of "/" with the flags every unheld read uses. The
     * flag is otherwise cleared by the first read that fails, which is too late for a choice made at start
     * ({@code StaticSite}, without the file cache: small files kept unheld or as handles). What says the call itself
     * cannot work clears it: EINVAL or ENOSYS (a kernel before 5.12), EPERM (a seccomp filter). Any other failure
     * (EACCES where "/" may be searched but not read, no descriptor left for a moment) says nothing of the reads,
     * which open files under the site's root: the flag stays. Reading a file's identity also needs the descriptor of
     * a channel ({@link Native#fdAccess}).
     */
    static boolean probeSupported() {
        if (!probed) {
            synchronized (UnheldRead.class) {
                if (!probed) {
                    if (supported) {
                        int fd = Native.openCachedNoSymlinks(new byte[] {'/', 0});
                        if (fd >= 0) Native.close(fd);
                        else if (fd == -Native.EINVAL || fd == -Native.ENOSYS || fd == -Native.EPERM) supported = false;
                    }
                    probed = true;
                }
            }
        }
        return supported && Native.fdAccess();
    }

    /**
     * Whether {@code unheld}'s real path still opens, without blocking, to the file it was translated from (same
     * device, inode, size, modification and change times). False when that would wait, so the caller translates.
     */
    static boolean unchanged(FileEntry unheld) { return unchanged(unheld, false); }

    /** As {@link #unchanged(FileEntry)}; with {@code wait}, where blocking is allowed: the open may walk the disk. */
    private static boolean unchanged(FileEntry unheld, boolean wait) {
        int fd = openPath(unheld, wait);
        if (fd < 0) return false;
        try {
            return Native.sameFile(fd, unheld.identity()) == 1;
        } finally {
            Native.close(fd);
        }
    }

    /**
     * {@code unheld}'s real path opened with no symlink on it (openat2 RESOLVE_NO_SYMLINKS), and with {@code wait}
     * false also RESOLVE_CACHED, which fails rather than walk the disk; or a negative errno. A kernel without openat2
     * or one of those flags turns these reads off ({@link #supported}). EPERM does not, unlike in {@link
     * #probeSupported}: there it answers an open of "/", here one file's, which a security module may refuse alone,
     * and the flag is the whole process's.
     */
    private static int openPath(FileEntry unheld, boolean wait) {
        int fd = wait ? Native.openNoSymlinks(unheld.pathNul()) : Native.openCachedNoSymlinks(unheld.pathNul());
        if (fd == -Native.ENOSYS || fd == -Native.EINVAL) supported = false;
        return fd;
    }

    /** What a read checks before it trusts the file it reads to be the one cached. */
    enum Check {
        /**
         * The entry is past its bound: open the real path again (proving it still names the file, with no symlink on
         * it) and find the file cached there by fstat.
         */
        REOPEN,
        /** Within the bound: a descriptor the entry keeps, when its file is unchanged by fstat (mtime, ctime, size). */
        FSTAT,
        /**
         * Within the bound of an entry whose every name is watched: a kept descriptor is read, or a held file sent
         * from it ({@link #sendHeld}), with no fstat, as held bytes are served with none, since the watch drops the
         * entry at any change, deletion or rename. The read itself still finds a file grown or shrunk since (it asks
         * for one byte more than the size), so a copy rewriting it in place, which truncates first, is served cut to
         * the old length only if read at the moment its length passes the old one. What it cannot find, for as long
         * as the watch takes to report (its own thread, and the JDK's poller), is a rewrite in place to the same
         * length: its bytes go out with the old validators. A write inotify never reports (through a shared mapping,
         * through a hard link in an unwatched directory, from another host) is served so until the bound
         * (--revalidate-watched-ms), where copied held bytes would stay the old ones: with its strong ETag, a range
         * resumed by If-Range in that time can mix the two. The fstat it saves was 5% of the loop's time on a site
         * larger than the byte budget (docs/performance.md, section 31).
         */
        WATCHED
    }

    /**
     * {@code unheld}'s file read now, as an entry holding a pooled body (one reference, owned by the caller, who
     * must {@link FileEntry#release()} it), or null when that would have to wait or the file is not the one cached.
     *
     * <p>A descriptor the entry keeps is read if it has one: the file it was opened on, which is what a held body would
     * serve within the entry's bound. Past the bound ({@link Check#REOPEN}) the real path is opened first and found to
     * be that file, then closed: the kept descriptor is the same inode (kept only once fstat found the cached file), so
     * it is still what is read or sent, not copied from the descriptor just opened (docs/performance.md, section 44).
     * Without a kept descriptor the real path is opened again, which proves the path still names that file; the
     * descriptor is then kept for the next reads when {@code budget} allows (null: never). It is kept once the file is
     * found to be the one cached, even when the read failed because its pages were not in memory, so that the read a
     * helper makes next ({@link #readWaiting}) does not open the path again.
     */
    static FileEntry read(FileEntry unheld, Check check, DescriptorBudget budget) {
        return read(unheld, check, budget, false, false);
    }

    /**
     * As {@link #read(FileEntry, Check, DescriptorBudget)}; with {@code sendfile} (the connection sends file regions,
     * {@code flash.pipeline.BodyPath}) and a file of at least {@link #SENDFILE_MIN} bytes, the descriptor is kept as a
     * {@link FileHandle}, and a later read of it returns an entry that sends the file from that handle instead of a
     * copy ({@link FileEntry#withKeptHandle}): the fstat stays, the read and the copy into the socket go, and AMPED
     * tests the pages with mincore on the handle's mapping before sending (docs/performance.md sections 27 and 34). Where the
     * handle has no truthful mapping (a file this process neither owns nor may write, or the mapping cap), the
     * entry is read into memory as without {@code sendfile}.
     *
     * <p>Under {@link Check#WATCHED} such a send makes no fstat and no read, so it loses the read's length check: in
     * the few milliseconds before the watch reports a rewrite in place, a file grown since goes out cut to the old
     * length under the old validators (nginx's {@code open_file_cache} does the same for as long as it is valid). A
     * file shrunk since ends the response short: the connection is closed ({@code TruncatedFileException}), never
     * padded or kept open.
     */
    static FileEntry read(FileEntry unheld, Check check, DescriptorBudget budget, boolean sendfile) {
        return read(unheld, check, budget, false, sendfile);
    }

    /**
     * As {@link #read}, where blocking is allowed (a helper under amped; inline in the other architectures): the open
     * may walk directories on the disk, and the read waits for the file's pages. For an unheld entry whose pages were
     * not in memory this replaces a whole new translation (stat, realpath, open, a read into new memory, the cache's
     * insert and the watch's registration) by what nginx's thread pool does: one read of an open file (section 23 of
     * docs/performance.md). Null when the file is not the one cached: the caller translates again.
     */
    static FileEntry readWaiting(FileEntry unheld, Check check, DescriptorBudget budget, boolean sendfile) {
        DiskGuard.check("read unheld file");
        return read(unheld, check, budget, true, sendfile);
    }

    /**
     * Files smaller than this are copied even for a connection that sends file regions: one gathering write of head
     * and body instead of a send of the head, a mincore and a sendfile of the body. Files of 6-10 KiB already went
     * faster by sendfile; smaller ones were not measured (docs/performance.md section 34).
     * {@code -Dflash.unheldSendfileMin=BYTES} for A/B runs; {@code 9223372036854775807} turns it off.
     */
    static final long SENDFILE_MIN = Long.getLong("flash.unheldSendfileMin", 8 * 1024);

    private static FileEntry read(FileEntry unheld, Check check, DescriptorBudget budget, boolean wait,
                                  boolean sendfile) {
        boolean asHandle = sendfile && unheld.size() >= SENDFILE_MIN && unheld.mincoreTruthful();
        KeptDescriptor kept = unheld.retainKept();
        if (kept != null) {
            kept.touch();
            try {
                if (check == Check.REOPEN ? !unchanged(unheld, wait)
                        : check != Check.WATCHED && Native.sameFile(kept.fd, unheld.identity()) != 1) return null;
                if (asHandle && !wait && sendable(kept, unheld.size())) return sentFromHandle(unheld, kept);
                if (asHandle && wait && kept.handle != null) {
                    FileEntry sent = waitedFromHandle(unheld, kept.handle);
                    if (sent != null) return sent;
                }
                return readBody(unheld, kept.fd, wait);
            } finally {
                kept.release();
            }
        }
        int fd = openPath(unheld, wait);
        if (fd < 0) return null;
        boolean taken = false;
        try {
            if (Native.sameFile(fd, unheld.identity()) != 1) return null;
            // A wait that fails (a file now shorter, no /dev/null, a file system without splice) leaves the copying
            // read below to find out what it can.
            if (asHandle && wait && awaitPages(fd, unheld.size())) {
                taken = true; // kept, owned by the entry's handle, or closed
                return sentAfterWait(unheld, fd, budget);
            }
            FileEntry e = readBody(unheld, fd, wait);
            // Kept only after the read, failed or not: once kept, a shed or an eviction on another thread may close it.
            // A loop's read that found the pages keeps it, once the budget is three quarters full, only for a file
            // read again soon; one that did not keeps it for the helper's read that follows.
            if (budget != null && (wait || e == null || unheld.keepsOnRead(budget) || budget.held() < heldRoom(budget))) {
                taken = true; // kept, or closed by keep
                unheld.keep(fd, budget, asHandle);
            }
            return e;
        } finally {
            if (!taken) Native.close(fd);
        }
    }

    /**
     * Files whose bytes the cache holds are still sent by sendfile from a kept descriptor from this size up, on a
     * connection that sends file regions: copying them from the held buffer into the socket cost as much server CPU at
     * 16 KiB and more at 32 and 50 KiB, and slowed the client's reads (docs/performance.md section 34).
     * {@code -Dflash.heldSendfileMin=BYTES} for A/B runs; {@code 9223372036854775807} turns it off.
     */
    static final long HELD_SENDFILE_MIN = Long.getLong("flash.heldSendfileMin", 24 * 1024);

    /**
     * From this size up to {@link #HELD_SENDFILE_MIN}, a held file is sent by sendfile too unless its bytes are in the
     * CPU's cache, which {@code PathCache} judges by how often it was asked for this second: copying bytes from memory
     * cost more than the sendfile's fstat, mincore and separate head, copying them from the cache less (a site whose
     * held files are many: docs/performance.md section 35). Since residency hints that judgement is off by default
     * ({@code PathCache.HOT_HELD_PER_SECOND}): a hot file sent went faster than copied (section 37).
     * {@code -Dflash.heldSendfileColdMin=BYTES} for A/B runs; {@code 9223372036854775807} turns it off.
     */
    static final long HELD_SENDFILE_COLD_MIN = Long.getLong("flash.heldSendfileColdMin", 8 * 1024);

    /**
     * The kept descriptors past which a held file keeps none unless it is asked for often (that one may take the rest
     * of the room): three quarters of the room; and a held file asked for rarely while the budget is full gives its
     * descriptor back. A held file's descriptor only saves a copy of bytes already
     * in memory; an unheld file's saves an open, an fstat and a close, and a full budget keeps no new one. On the
     * 20,000-file site (18,876 descriptors of room, 17,300 unheld entries) held files that kept descriptors first left
     * unheld ones without: 5% of the random point's requests then opened their file again, 4-11% slower
     * (docs/performance.md section 35).
     */
    private static int heldRoom(DescriptorBudget budget) {
        int room = budget.room();
        return room - room / 4;
    }

    /**
     * For a file whose bytes are held ({@code unheld} is its translation's entry; the caller has just found the held
     * copy fresh): an entry that sends it from the descriptor the entry keeps, or null to serve the held bytes. Null
     * also keeps the descriptor for next time, if there is none yet and the budget has room ({@link #heldRoom}): the
     * path opened with openat2 (RESOLVE_CACHED, which cannot wait) and found to be the file cached. A file asked for
     * rarely gives a kept one back when the budget is full; one asked for {@code often} (this second or the one before)
     * keeps it, takes one while the budget is not full, and if the budget is full has it close a batch of idle ones
     * ({@link DescriptorBudget#relieve}): after a spell of other traffic the budget is full of files no longer asked
     * for, and the most asked-for held files were copied until the minute's sweep (docs/performance.md sections 36
     * and 45).
     *
     * <p>{@code check} is {@link Check#FSTAT} or {@link Check#WATCHED}. The kept descriptor of an entry that is not
     * watched is checked by fstat first; a file changed since is then served from the held bytes, which match their
     * validators. A watched one is sent with no fstat, as an unheld one is, and with what that costs
     * ({@link Check#WATCHED}): until the watch reports it, a rewrite in place goes out as its new bytes at the old
     * length under the old validators, and a file shrunk since ends the response short (the connection is closed,
     * {@code TruncatedFileException}) where the fstat had served the held bytes. A residency test that is not covered
     * by a hint finds a shrink of a page or more (the lost pages are not in memory) and serves the held bytes. The
     * fstat was a quarter of the system calls of a held file's response (docs/performance.md section 39).
     */
    static FileEntry sendHeld(FileEntry unheld, DescriptorBudget budget, boolean often, Check check) {
        if (unheld.size() < Math.min(HELD_SENDFILE_MIN, HELD_SENDFILE_COLD_MIN) || !unheld.mincoreTruthful()) return null;
        KeptDescriptor kept = unheld.retainKept();
        if (kept != null) {
            try {
                if (!often && budget != null && budget.full()) {
                    // Full: give the descriptor back for an unheld file, which has no bytes to fall back on.
                    unheld.dropKept(kept);
                    return null;
                }
                kept.touch();
                if (!sendable(kept, unheld.size())) return null;
                if (check != Check.WATCHED && Native.sameFile(kept.fd, unheld.identity()) != 1) return null;
                FileEntry sent = sentFromHandle(unheld, kept);
                if (sent == NOT_RESIDENT) unheld.residencyMissSecond = System.nanoTime() / 1_000_000_000L;
                return sent;
            } finally {
                kept.release();
            }
        }
        if (budget == null) return null;
        if (often ? budget.full() : budget.held() >= heldRoom(budget)) {
            if (often) budget.relieve();
            return null;
        }
        int fd = Native.openCachedNoSymlinks(unheld.pathNul());
        if (fd < 0) return null;
        boolean taken = false;
        try {
            if (Native.sameFile(fd, unheld.identity()) == 1) {
                taken = true; // kept, or closed by keep
                unheld.keep(fd, budget, true);
            }
        } finally {
            if (!taken) Native.close(fd);
        }
        return null;
    }

    /**
     * Blocking (a helper's job under AMPED): starts reading held file {@code unheld}'s pages back into the page cache,
     * if its path still names that file, and returns without waiting for them (posix_fadvise WILLNEED): true if it
     * started them. Best effort: a file changed or gone since is left alone, and its next lookup finds that.
     */
    static boolean refill(FileEntry unheld) {
        DiskGuard.check("read back a held file's pages");
        int fd = Native.openNoSymlinks(unheld.pathNul());
        if (fd < 0) return false;
        try {
            return Native.sameFile(fd, unheld.identity()) == 1 && Native.fadviseWillNeed(fd, 0, unheld.size()) == 0;
        } finally {
            Native.close(fd);
        }
    }

    /** {@link #sentFromHandle}'s answer when a page of the file is not in memory. */
    private static final FileEntry NOT_RESIDENT = null;

    /**
     * Where blocking is allowed, on a connection that sends file regions: {@code unheld}'s pages waited for without
     * copying them ({@link #awaitPages}), and an entry that sends the file from {@code h} (one more reference, the
     * entry's), or null when the file no longer has its size (the caller reads it, and finds out).
     *
     * <p>This is what nginx's aio threads do with sendfile, and what the paper's helpers did: the helper brings the
     * pages in, the loop sends them. A copying read here (into pooled memory, then from it into the socket) cost
     * two copies of every file the disk served: on the 100,000-file site evicted, about 3 us of the helper's and 3 us of
     * the loop's a request (docs/performance.md section 53). The region is marked as tested, as a lookup's region is, so the
     * loop sends it without a test of its own: the helper's wait is that test, made a hand-off earlier. Pages evicted
     * in between (a page cache under pressure, within that moment) would make the loop's sendfile read them back.
     */
    private static FileEntry waitedFromHandle(FileEntry unheld, FileHandle h) {
        if (!awaitPages(h.fd(), unheld.size()) || !h.retain()) return null;
        return unheld.withKeptHandle(h);
    }

    /**
     * As {@link #waitedFromHandle} for a descriptor just opened (found to be the file cached) whose pages
     * {@link #awaitPages} has just waited for: kept with the entry if {@code budget} has room, as the copying read
     * keeps it, else made a handle that only this request's entry owns, closed when its response ends. Takes
     * {@code fd}. When another read kept a raw descriptor first, that one is read (the pages are in memory now); null
     * only when no handle could be made over the file (the caller translates again).
     */
    private static FileEntry sentAfterWait(FileEntry unheld, int fd, DescriptorBudget budget) {
        if (budget == null || budget.full()) {
            FileHandle own = KeptDescriptor.handle(fd, unheld); // owns fd, or closed it, when not null
            if (own == null) Native.close(fd);
            return own == null ? null : unheld.withKeptHandle(own);
        }
        unheld.keep(fd, budget, true); // takes fd: kept, or closed if another read kept one first (or the budget filled)
        KeptDescriptor kept = unheld.retainKept();
        if (kept == null) return null; // not kept after all, or shed at once
        try {
            if (kept.handle != null && kept.handle.retain()) return unheld.withKeptHandle(kept.handle);
            return readBody(unheld, kept.fd, true);
        } finally {
            kept.release();
        }
    }

    /**
     * Blocking: waits until the {@code size} bytes at {@code fd} are in the page cache, reading them from the disk if
     * need be, without copying them to user space: sendfile into /dev/null, whose splice consumes the pages. False if
     * the file is now shorter (or the sink is missing).
     */
    private static boolean awaitPages(int fd, long size) {
        DiskGuard.check("wait for an unheld file's pages");
        int sink = DevNull.FD;
        if (sink < 0) return false;
        for (long done = 0; done < size; ) {
            long n = Native.sendfile(sink, fd, done, size - done);
            if (n == -Native.EINTR) continue;
            if (n <= 0) return false;
            done += n;
        }
        return true;
    }

    /** /dev/null, open for the process's life, as the sink of {@link #awaitPages}; -1 without it. */
    private static final class DevNull {
        private static final java.nio.channels.FileChannel CHANNEL = open();
        static final int FD = CHANNEL == null ? -1 : Native.fd(CHANNEL);

        private static java.nio.channels.FileChannel open() {
            try {
                return java.nio.channels.FileChannel.open(java.nio.file.Path.of("/dev/null"), java.nio.file.StandardOpenOption.WRITE);
            } catch (java.io.IOException | RuntimeException e) {
                return null;
            }
        }
    }

    /**
     * Whether {@link #sentFromHandle} can answer for {@code kept}: it keeps a handle whose residency mapping covers
     * the file. Without one, AMPED's test before sendfile would be a copying probe, dearer than the read it replaces.
     */
    private static boolean sendable(KeptDescriptor kept, long size) {
        return kept.handle != null && kept.handle.mappedLength() >= size;
    }

    /**
     * An entry that sends {@code unheld}'s file (found to be the kept descriptor's) from the kept handle, or
     * {@link #NOT_RESIDENT} when a page of it is not in memory: the test the copying read would have made
     * (RWF_NOWAIT), by mincore on the handle's mapping, so such a file is a fallback, read where blocking is allowed,
     * as without sendfile. The caller holds {@code kept}, and so its handle. The region is marked as tested, so AMPED
     * does not test it again before its first send, which follows in the same turn; a later part of a multi-range
     * body is tested again where it is sent ({@code Outgoing}).
     */
    private static FileEntry sentFromHandle(FileEntry unheld, KeptDescriptor kept) {
        FileHandle h = kept.handle;
        if (!h.residentWhole(unheld.size()) || !h.retain()) return NOT_RESIDENT;
        return unheld.withKeptHandle(h);
    }

    /**
     * The whole file at {@code fd} (found to be {@code unheld}'s), or null: with {@code wait} false, when a page is not
     * in memory; in both cases when the file is shorter or longer than its identity says. The read asks for one byte
     * past the size, which costs no system call: a file of the size cached ends the first read there.
     */
    private static FileEntry readBody(FileEntry unheld, int fd, boolean wait) {
        int size = (int) unheld.size();
        PooledBody body = PooledBody.take(size + 1);
        try {
            // Shorter or longer than cached: changed since. A read that stops exactly at the size could also be one
            // whose next page is not in memory, not the end; but a grown file's new page was just written there.
            if (readWhole(fd, body.memory(), size, size + 1, wait) != size) return null;
            ByteBuffer view = body.view(size);
            FileEntry e = unheld.withPooledBody(view, body);
            body = null; // the entry owns the reference now
            return e;
        } finally {
            if (body != null) body.release();
        }
    }

    /**
     * Reads {@code fd} from its start into {@code dst} until {@code size} bytes are in or the file ends, asking each call
     * for up to {@code capacity} bytes (one past the size finds a file grown since without another call; at least one
     * call, so an empty file grown since is found too): the bytes read, or -1 when a page was not in memory (with
     * {@code wait} false: preadv2 RWF_NOWAIT, the residency hint withdrawn) or the read failed.
     */
    static long readWhole(int fd, java.lang.foreign.MemorySegment dst, long size, long capacity, boolean wait) {
        long done = 0;
        do {
            long n = wait ? Native.pread(fd, dst, done, capacity - done, done)
                    : Native.preadv2Nowait(fd, dst, done, capacity - done, done);
            if (n < 0) { // -EAGAIN: a page is not in memory
                if (n == -Native.EAGAIN) ResidencyHint.notResident();
                return -1;
            }
            if (n == 0) break; // the end of the file
            done += n;
        } while (done < size);
        return done;
    }
}
