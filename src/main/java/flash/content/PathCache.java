package flash.content;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import flash.http.RequestTarget;

import java.util.concurrent.Executor;
import java.util.concurrent.atomic.LongAdder;

/**
 * The paper's pathname-translation cache: normalised URL path to its translation (a file entry with its
 * metadata, validators and, for small files, its bytes; or a negative/redirect result). Looked up on the
 * event loop without blocking; filled by whoever ran the translation.
 *
 * <p>Freshness: an entry older than {@code revalidateAfter} is not served; the request goes back through a
 * full translation (stat, realpath, open), so a changed, replaced, symlink-swapped or deleted file is seen
 * within that bound (by an event loop's clock, read once per turn of the loop: {@link flash.sys.LoopClock}). An entry
 * whose reads are all watched ({@link FileWatch}, {@code --revalidate watch}) is dropped by the watch thread when the
 * file system reports a change ({@link #invalidate}), and keeps only the longer safety bound {@code
 * watchedRevalidateNanos} for changes inotify cannot report. A small file translated literally (its real
 * path is the root and the URL path) is checked in place when its bound passes, instead (see {@link #lookup}).
 *
 * <p>Two tiers (issue #11, "warm set larger than the caches"): translations, at most {@code maxEntries}; and the
 * bytes of small files, at most {@code maxBytes}, in a cache of their own. A small file's translation is kept
 * without its bytes ({@link FileEntry#withoutBody}: metadata, validators, real path and the identity of the file
 * read; no body and no open file), and its bytes go to the second tier, which may refuse or evict them on its own.
 * A lookup whose bytes are not held reads the file then and there without blocking ({@link UnheldRead}: fstat unless
 * watched, and preadv2 with RWF_NOWAIT on the descriptor kept from the first read, which opened it with openat2
 * RESOLVE_CACHED; see "Open files" below); when that would wait, it is a miss, and where blocking is allowed the file
 * is read from the same translation ({@link #readWaiting}); when the file is no longer the one translated, the caller
 * translates again. The bytes of a file read unheld often are offered to the second tier again ({@link
 * #countRead}).
 * Before, one cache weighed an
 * entry by its bytes and evicting the bytes dropped the translation with them: on a site larger than the byte budget
 * most requests paid a full translation on a helper. One weight for both could not work either: translations held
 * without bytes must fit beside the bytes, or the byte-heavy entries crowd them out. Where the identity is unknown
 * (no native layer) a translation cannot be served without its bytes and goes when they go, as before.
 *
 * <p>Open files: an entry of a large file holds an open descriptor, and the entry bound (up to 200,000 by default) can be
 * above the process's descriptor limit (often 20,000 or less), which would starve accept and open of descriptors. So
 * such an entry weighs {@code maxEntries / maxHandles} entries: at most {@code maxHandles} of them fit, {@link
 * #defaultMaxHandles() a quarter of the descriptor limit} by default, and past that the policy evicts among them (and
 * the others) by frequency as for any entry, rather than refusing new ones. The bound is in the weight, not a
 * separate count, so that eviction stays the one O(1) policy. An unheld entry keeps the descriptor its first read
 * opened ({@link KeptDescriptor}), so later reads skip the openat2 and the close, as far as the server's {@link
 * DescriptorBudget} has room (what the connections and the handles leave); past it a read opens and closes the file
 * as before. Past the entry's bound the path is opened again and checked to name the same file, and the kept
 * descriptor is still what is read. It closes when the entry goes (evicted, invalidated by the watch, or replaced by
 * a new translation).
 *
 * <p>Policy: W-TinyLFU (Caffeine) in both tiers. Chosen by hit rate on the NASA trace and on Zipf workloads against
 * the CLOCK it replaces, LRU and a segmented LRU (docs/performance.md, "Cache policy"; bench's CachePolicySim replays
 * them): a frequency sketch admits a new entry only if it is used more often than the entry it would push out, so a
 * crawl through rarely used files cannot flush the hot ones, and the bytes held are those of the most used files.
 * Lookup, insert and eviction are O(1) amortised.
 *
 * <p>Threads: loops look up, whoever translated inserts; a lookup that offers a file's bytes again inserts them
 * too (at most {@link #OFFERS_PER_SECOND} a second). A lookup never waits for the disk: Caffeine records it in a lossy
 * buffer (only once the cache is three quarters full: {@link #recordReads}) and drains its buffers under a tryLock
 * (an insert can wait for Caffeine's eviction lock when its write buffer is full, a lock held for in-memory work
 * only). Maintenance (eviction) runs on the thread that triggers it (a direct
 * executor): the inserting thread (a helper, or a loop that translated a miss without waiting:
 * {@code StaticSite#translateWithoutWaiting}), or a loop whose lookup found the read buffer full. The removal
 * listeners only drop the cache's reference (and a translation's bytes with it, or the reverse where the bytes are
 * all there is); when that is the last reference, the file's descriptor is closed and its residency mapping
 * unmapped, or its bytes freed ({@link OwnedBody}): calls that never wait for the disk (the file is read-only,
 * nothing is dirty), the same work a loop already does when it finishes the last response sending from an evicted
 * file. No thread pool, and no read or
 * write of file data, ever runs in the listeners.
 */
public final class PathCache {
    /**
     * One cached translation, as made at {@code createdNanos}, served for {@code boundNanos} (the stat bound, or the
     * safety bound when every read is watched). Immutable; replaced whole. A class, not a record: the watch thread
     * removes exactly this node ({@code remove(key, node)}), never an equal one stored since.
     */
    private static final class Node {
        final String key;
        final Translation translation;
        // The found file's entry, or null: read on every hit, one load fewer than through the translation, whose
        // object no recent request touched on a site larger than the CPU's cache (docs/performance.md section 40).
        final FileEntry entry;
        final long createdNanos;
        final long boundNanos;
        // When the translation was last known current: made, or confirmed since in place (selfChecking). Written
        // only when the bound has passed, so loops do not share a written cache line on every hit.
        volatile long checkedNanos;
        final FileWatch.Registration watch; // null when not watched
        final boolean holdsHandle;          // a large file's open descriptor
        final boolean small;                // a small file: its bytes, if held, are in the second tier
        final boolean readable;             // small, and can be read without blocking when its bytes are not held
        final boolean selfChecking;         // readable, and its real path is the URL path under the root: see lookup
        // Unheld reads in the second readSecond (plain fields, written only by unheld reads: a racy count is a hint).
        long readSecond;
        int readsInSecond;
        // Requests for its held bytes in the second heldSecond (plain fields, a racy count: a hint), see sendsHeld.
        long heldSecond;
        int heldInSecond;
        boolean oftenBefore; // asked for often in the second before heldSecond, see sendsHeld
        // This node's bytes as the byte tier holds them, or null: set where the insert decides (under the key's
        // lock, while this node is the path's), cleared when they are removed. A lookup reads its held bytes here
        // rather than from the byte tier's table (a hash-table miss each on a big site: sections 28 and 41), and
        // at null skips that tier: most requests on a site larger than the byte budget are for unheld files.
        volatile Translation.Found held;
        // Uses of the held bytes recorded in the byte tier's policy in the second usedSecond (plain fields, a racy
        // count: a hint), see recordHeldUse.
        long usedSecond;
        int usesInSecond;

        Node(String key, Translation translation, long createdNanos, long boundNanos, FileWatch.Registration watch,
             boolean literal) {
            this.key = key;
            this.translation = translation;
            this.createdNanos = createdNanos;
            this.checkedNanos = createdNanos;
            this.boundNanos = boundNanos;
            this.watch = watch;
            FileEntry e = translation instanceof Translation.Found f ? f.entry() : null;
            this.entry = e;
            this.holdsHandle = e != null && e.handle() != null;
            this.small = e != null && e.unheld();
            this.readable = small && e.readableUnheld();
            this.selfChecking = readable && literal;
        }
    }

    private static final java.lang.invoke.VarHandle HELD;
    static {
        try {
            HELD = java.lang.invoke.MethodHandles.lookup().findVarHandle(Node.class, "held", Translation.Found.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** A small file's bytes for exactly one node: a newer translation of the path never serves an older body. */
    private static final class Held {
        final Node node;
        final Translation.Found found; // the entry with its body, as the translation made it

        Held(Node node, FileEntry entry) {
            this.node = node;
            this.found = new Translation.Found(entry);
        }

        long bytes() { return found.entry().size(); }
    }

    private final Cache<String, Node> cache;
    /**
     * Whether lookups record their reads in the translation cache's eviction policy (recency order and frequency
     * sketch): only once the cache is {@link #RECORDING_SHARE} full, set by each put. Below that nothing is evicted, so
     * what a recorded read updates decides nothing, and on a site of many files each update was another cache miss a
     * request (the node's neighbours in the recency order, and from half full, when Caffeine starts its sketch, the
     * sketch's counters: docs/performance.md, section 44).
     * The sketch then learns from the last quarter's reads before the first eviction.
     */
    private volatile boolean recordReads;
    /** The fill (weight against the maximum) from which lookups record their reads. */
    static final double RECORDING_SHARE = 0.75;
    private final Cache<String, Held> bodies; // null without a byte budget (--no-file-cache)
    private final long maxBytes;
    private final int maxHandles;
    private final long revalidateNanos;
    private final long watchedRevalidateNanos;
    private final java.nio.file.Path realRoot; // null: no entry is checked in place
    private final LongAdder bytes = new LongAdder();
    private final DescriptorBudget descriptors;
    // Translations whose bytes were evicted and that cannot be served without them: dropped by the next put or
    // cleanUp, not by the body's removal listener, which runs under the second tier's eviction lock (taking the
    // first tier's there while its listener takes the second's would be a lock-order inversion).
    private final java.util.concurrent.ConcurrentLinkedQueue<Node> orphans = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final LongAdder smallEntries = new LongAdder();
    private final LongAdder heldBodies = new LongAdder();
    private final LongAdder handleEntries = new LongAdder();
    public final LongAdder hits = new LongAdder();
    public final LongAdder misses = new LongAdder();
    public final LongAdder evictions = new LongAdder();
    /** Small files' bytes dropped (or refused) to stay within the byte budget; their translations stay. */
    public final LongAdder bodyEvictions = new LongAdder();
    /** Entries translated again because they had outlived their bound (a stat-based revalidation). */
    public final LongAdder revalidatedByStat = new LongAdder();
    /**
     * Entries past their bound found unchanged in place (openat2 of the same path with RESOLVE_NO_SYMLINKS, and
     * RESOLVE_CACHED on a loop; fstat), and kept instead of being translated again.
     */
    public final LongAdder recheckedInPlace = new LongAdder();
    /** Entries dropped because the file system reported a change to something they read. */
    public final LongAdder revalidatedByWatch = new LongAdder();
    /** Requests for a small file whose bytes were not held, answered by a read that did not block. */
    public final LongAdder unheldHits = new LongAdder();
    /** Of those, the ones sent by sendfile from the descriptor the entry keeps, with no copy in memory. */
    public final LongAdder unheldSent = new LongAdder();
    /**
     * Requests for a small file whose bytes were held, sent by sendfile from the descriptor its entry keeps instead
     * (a connection that sends file regions, and a file that {@link #sendsHeld} sends).
     */
    public final LongAdder heldSent = new LongAdder();
    /** Held files found with pages not in memory whose pages {@link #refill} then started to read back. */
    public final LongAdder heldRefills = new LongAdder();
    /** Requests for a small file whose bytes were not held and could not be read without blocking (or had changed). */
    public final LongAdder unheldFallbacks = new LongAdder();
    /** Of those, the ones read where blocking is allowed ({@link #readWaiting}) instead of being translated again. */
    public final LongAdder unheldWaited = new LongAdder();
    /** Of those, the ones whose pages were waited for without a copy and that are sent by sendfile (UnheldRead). */
    public final LongAdder unheldWaitedSent = new LongAdder();
    /** Small files' bytes offered to the byte tier again because their unheld reads were frequent (admitted or not). */
    public final LongAdder bodiesOffered = new LongAdder();
    /** Misses translated on an event loop, without waiting ({@code StaticSite#translateWithoutWaiting}). */
    public final LongAdder translatedWithoutWaiting = new LongAdder();
    /** Uses of held bytes recorded in the byte tier's policy ({@link #recordHeldUse}; tests). */
    final LongAdder heldUsesRecorded = new LongAdder();

    /** Unheld reads of one file within a second after which its bytes are offered to the byte tier (see lookup). */
    static final int OFFER_AFTER_READS = 4;
    /** Uses of a file's held bytes a second at most that {@link #recordHeldUse} records in the byte tier's policy. */
    static final int RECORDED_USES_PER_SECOND = Integer.getInteger("flash.recordedHeldUses", 4);
    /** {@link #RECORDED_USES_PER_SECOND}, changed by tests. */
    int recordedUsesPerSecond = RECORDED_USES_PER_SECOND;
    /**
     * Offers in one second at most, per cache. Reading a file 4 times a second happens by chance under uniform access
     * when the request rate is several times the number of files (40,000 a second over 10,000 files): each offer is
     * a copy and an insert, most refused. This bounds that churn (256 files of 32 KiB: 8 MiB a second) and does not
     * bind on the Zipf runs measured (about 110 offers a second at the start, docs/performance.md section 23).
     */
    static final int OFFERS_PER_SECOND = 256;
    /**
     * Requests a second for a held file below {@code UnheldRead.HELD_SENDFILE_MIN} after which its bytes are taken to
     * be in the CPU's cache and are copied rather than sent by sendfile (see sendsHeld): never, by default, since
     * residency hints ({@link ResidencyHint}) took the repeated mincore off the sendfile path, and one hot cached file of
     * 10-20 KiB went 4-12% faster sent than copied (docs/performance.md section 37; 2,000, the rule of section 35
     * when every send was tested, with {@code -Dflash.hotHeldPerSecond=2000}).
     */
    static final int HOT_HELD_PER_SECOND = Integer.getInteger("flash.hotHeldPerSecond", Integer.MAX_VALUE);
    /** {@link #HOT_HELD_PER_SECOND}, changed by tests. */
    int hotHeldPerSecond = HOT_HELD_PER_SECOND;
    /**
     * Requests a second from which a held file sent by sendfile is asked for often (in that second and the next): it
     * keeps its kept descriptor when the budget is full, and if it has none, takes one where the budget has room or
     * asks it to close a batch of idle ones ({@code UnheldRead.sendHeld}). On the
     * Zipf order after the random one, the budget stayed full of the descriptors the random order had kept, and the
     * most asked-for held files were copied (docs/performance.md section 36).
     */
    static final int OFTEN_HELD_PER_SECOND = 16;
    /** {@link #OFTEN_HELD_PER_SECOND}, changed by tests. */
    int oftenHeldPerSecond = OFTEN_HELD_PER_SECOND;
    /** {@link #sendsHeld}'s answers. */
    private static final int COPY = 0, SEND = 1, SEND_OFTEN = 2;
    /** {@link #OFFERS_PER_SECOND}, lowered by tests. */
    int offersPerSecond = OFFERS_PER_SECOND;
    private final Object offerLock = new Object();
    // Written under offerLock; volatile so that offersNext can read them without it, as a hint.
    private volatile long offerSecond;
    private volatile int offersInSecond;

    public PathCache(int maxEntries, long maxBytes, long revalidateNanos) {
        this(maxEntries, maxBytes, revalidateNanos, revalidateNanos);
    }

    /** @param watchedRevalidateNanos the bound of an entry whose every read is watched (never below the stat bound) */
    public PathCache(int maxEntries, long maxBytes, long revalidateNanos, long watchedRevalidateNanos) {
        this(maxEntries, maxBytes, revalidateNanos, watchedRevalidateNanos, defaultMaxHandles());
    }

    /** @param maxHandles entries holding an open file at most (see the class comment) */
    public PathCache(int maxEntries, long maxBytes, long revalidateNanos, long watchedRevalidateNanos, int maxHandles) {
        this(maxEntries, maxBytes, revalidateNanos, watchedRevalidateNanos, maxHandles, null);
    }

    /**
     * @param realRoot the real path of the document root the keys are relative to; with it, a small file translated
     *                 literally (its real path is the root and the URL path, no symlink or index name between) is
     *                 checked in place when its bound passes instead of being translated again (see {@link #lookup})
     */
    public PathCache(int maxEntries, long maxBytes, long revalidateNanos, long watchedRevalidateNanos, int maxHandles,
                     java.nio.file.Path realRoot) {
        this(maxEntries, maxBytes, revalidateNanos, watchedRevalidateNanos, maxHandles, realRoot, DescriptorBudget.forProcess());
    }

    /** @param descriptors the server's budget of descriptors unheld entries may keep open, shared by its sites */
    public PathCache(int maxEntries, long maxBytes, long revalidateNanos, long watchedRevalidateNanos, int maxHandles,
                     java.nio.file.Path realRoot, DescriptorBudget descriptors) {
        this.realRoot = realRoot;
        this.descriptors = descriptors;
        if (maxEntries <= 0) throw new IllegalArgumentException("maxEntries must be positive: " + maxEntries);
        if (maxHandles <= 0) throw new IllegalArgumentException("maxHandles must be positive: " + maxHandles);
        this.maxHandles = maxHandles;
        this.maxBytes = Math.max(0, maxBytes);
        this.revalidateNanos = revalidateNanos;
        this.watchedRevalidateNanos = Math.max(revalidateNanos, watchedRevalidateNanos);
        int handleWeight = (int) Math.max(1, Math.ceilDiv((long) maxEntries, maxHandles));
        this.cache = Caffeine.newBuilder()
                .maximumWeight(maxEntries)
                .weigher((String k, Node n) -> n.holdsHandle ? handleWeight : 1)
                .executor(Runnable::run)
                .removalListener((String k, Node n, RemovalCause cause) -> removed(n, cause))
                .build();
        this.bodies = this.maxBytes == 0 ? null : Caffeine.newBuilder()
                .maximumWeight(this.maxBytes)
                .weigher((String k, Held h) -> (int) Math.max(1, h.bytes()))
                .executor(Runnable::run)
                .removalListener((String k, Held h, RemovalCause cause) -> bodyRemoved(h, cause))
                .build();
    }

    /**
     * A fresh cached translation, or null. A returned {@link Translation.Found} carries one reference to
     * its entry that the caller owns and must {@link FileEntry#release()}.
     *
     * <p>An entry past its bound is a miss (translated again where blocking is allowed), except a self-checking one:
     * a small file whose real path is the URL path under the root. Opening that same path again with openat2
     * (RESOLVE_CACHED | RESOLVE_NO_SYMLINKS) and finding the same file by fstat is what a new translation would
     * conclude, at three system calls that cannot wait instead of a helper's stat, realpath, open and read: a changed,
     * renamed-over or deleted file, or a symlink swapped in anywhere on the path, fails it and is a miss. Without
     * this, a site larger than the byte budget re-translated every entry once per bound, and entries made together
     * expired together: a storm of helper work that halved throughput for seconds (docs/performance.md, section 19).
     * An unheld entry's read does this check anyway; a held one makes it once per bound.
     */
    public Translation lookup(RequestTarget.Normalized target) { return lookup(target, false); }

    /**
     * As {@link #lookup(RequestTarget.Normalized)}, for a connection that sends file regions ({@code sendfile}): an
     * unheld entry's file may then come as a region of a descriptor the entry keeps, sent by sendfile, instead of
     * bytes read into memory ({@link FileEntry#readUnheld(UnheldRead.Check, DescriptorBudget, boolean)}).
     */
    public Translation lookup(RequestTarget.Normalized target, boolean sendfile) { return lookup(target, sendfile, null); }

    /**
     * As {@link #lookup(RequestTarget.Normalized, boolean)}; a held file found with pages not in memory has them read
     * back by {@code refills} (the architecture's {@code BlockingSeam.detached()}; null: none is), so that it is sent
     * by sendfile again from the next second instead of copied for good ({@link UnheldRead#refill}).
     */
    public Translation lookup(RequestTarget.Normalized target, boolean sendfile, Executor refills) {
        Node n = recordReads ? cache.getIfPresent(target.path()) : cache.policy().getIfPresentQuietly(target.path());
        if (n == null) {
            misses.increment();
            return null;
        }
        long now = flash.sys.LoopClock.nanoTime();
        boolean due = now - n.checkedNanos > n.boundNanos;
        if (due && !n.selfChecking) {
            misses.increment();
            return null;
        }
        if (n.small) {
            Translation.Found held = n.held;
            if (held != null) {
                if (due && !recheck(n, now)) {
                    misses.increment();
                    return null;
                }
                hits.increment();
                recordHeldUse(n, now);
                int send = sendfile && n.readable ? sendsHeld(n, now) : COPY;
                if (send != COPY) {
                    FileEntry e = n.entry;
                    long missed = e.residencyMissSecond;
                    // Watched: no fstat of the kept descriptor, as for an unheld read (past the bound, recheck made one).
                    UnheldRead.Check check = watched(n) ? UnheldRead.Check.WATCHED : UnheldRead.Check.FSTAT;
                    FileEntry sent = e.sendHeld(descriptors, send == SEND_OFTEN, check);
                    if (sent != null) {
                        heldSent.increment();
                        return new Translation.Found(sent);
                    }
                    if (e.residencyMissSecond != missed && refills != null) refill(e, refills);
                }
                // The request's reference to the bytes: the byte tier may drop them meanwhile, and its release frees
                // them once no request or response still holds one.
                if (held.entry().retainHeld()) return held;
                hits.decrement(); // dropped since this node was read: read as an unheld file, below
            }
            if (n.readable) return readUnheld(n, due, now, sendfile);
            misses.increment();
            return null;
        }
        // Evicted and released by another thread since the get: its file may be closed, so it is a miss.
        if (n.entry != null && !retain(n.entry)) {
            misses.increment();
            return null;
        }
        hits.increment();
        return n.translation;
    }

    /**
     * Whether a held file asked for by a connection that sends file regions goes by sendfile
     * ({@link FileEntry#sendHeld}) rather than as a copy of its held bytes ({@link #COPY}), and whether it is asked for
     * often ({@link #SEND_OFTEN}: {@link #oftenHeldPerSecond} times this second or the one before). From {@code
     * UnheldRead.HELD_SENDFILE_MIN} up it always goes by sendfile; from {@code UnheldRead.HELD_SENDFILE_COLD_MIN} up
     * unless the file was already asked for {@link #HOT_HELD_PER_SECOND} times this second (by default never: section
     * 37 of docs/performance.md). Bytes copied that often stay in the CPU's cache, and while every send was tested, one
     * cached file of 8-20 KiB went faster copied; the held files of a big site are copied from memory, and the Zipf
     * point went 9-15% faster by sendfile (section 35). The count stops where no answer changes any more: loops on
     * other cores asking for a hot file do not write its line. A file whose pages were found not in memory this second
     * is copied ({@link FileEntry#residencyMissSecond}).
     */
    private int sendsHeld(Node n, long now) {
        FileEntry e = n.entry;
        long size = e.size();
        if (size < UnheldRead.HELD_SENDFILE_COLD_MIN) return COPY;
        boolean small = size < UnheldRead.HELD_SENDFILE_MIN;
        long second = now / 1_000_000_000L;
        if (e.residencyMissSecond == second) return COPY; // its pages were not in memory this second
        int count;
        if (n.heldSecond != second) {
            // Often in the second just ended stays often while this one's count starts again: each second's first
            // asks would otherwise give the descriptor of a file asked for hundreds of times a second back to a full
            // budget, and its sixteenth ask a relief (docs/performance.md section 45).
            long before = n.heldSecond;
            int asks = n.heldInSecond; // read once each: another loop may be starting this second's count too
            n.oftenBefore = before == second - 1 && asks >= oftenHeldPerSecond;
            n.heldSecond = second;
            n.heldInSecond = count = 1;
        } else {
            count = n.heldInSecond;
            if (small && count >= hotHeldPerSecond) return COPY;
            // Counted only as far as an answer can still change: a hot file's line is not written by every ask.
            int stop = small && hotHeldPerSecond < Integer.MAX_VALUE
                    ? Math.max(hotHeldPerSecond, oftenHeldPerSecond) : oftenHeldPerSecond;
            if (count < stop) n.heldInSecond = ++count;
        }
        return count >= oftenHeldPerSecond || n.oftenBefore ? SEND_OFTEN : SEND;
    }

    /**
     * Records a use of {@code n}'s held bytes in the byte tier's policy (its frequency sketch and recency order), at most
     * {@link #RECORDED_USES_PER_SECOND} times a second per file. The lookup reads the bytes from the node ({@link
     * Node#held}); a use recorded is a lookup in the byte tier's table, which on the big site's Zipf list was most of
     * the time its requests spent in the caches' tables (docs/performance.md section 41). Beyond a few uses a second
     * the count changes no decision: the policy compares a newcomer, offered after {@link #OFFER_AFTER_READS} reads
     * in a second, with the least recently used of the bytes held, and its sketch counts to 15 at most.
     */
    private void recordHeldUse(Node n, long now) {
        long second = now / 1_000_000_000L;
        if (n.usedSecond != second) {
            n.usedSecond = second;
            n.usesInSecond = 1;
        } else if (n.usesInSecond < recordedUsesPerSecond) {
            n.usesInSecond++;
        } else {
            return; // counted no further: a hot file's line is not written by every use
        }
        bodies.getIfPresent(n.key);
        heldUsesRecorded.increment();
    }

    /**
     * Has the pages of held file {@code e}, just found not in memory, read back where blocking is allowed (a helper
     * under AMPED, in place under the others): after a second's first miss ({@link #sendsHeld} copies the file for the
     * rest of it), and one refill at a time per file ({@link FileEntry#startRefill}). Nothing else would read them: the
     * cache serves the file from its held bytes, so the kernel sees no use of those pages, and a page cache under
     * pressure drops the hottest files first. Left alone, such a file was tested, failed the test and withdrew every
     * residency hint in the process each second, and was copied in between: on the big site evicted, three quarters of
     * the Zipf list's responses (docs/performance.md, section 39).
     */
    private void refill(FileEntry e, Executor refills) {
        if (!e.startRefill()) return;
        try {
            refills.execute(() -> {
                try {
                    if (UnheldRead.refill(e)) heldRefills.increment();
                } finally {
                    e.refillDone();
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException stopped) {
            // The helpers have stopped (the server is stopping): nothing waits for the refill, and the request that
            // found the miss is served from the held bytes all the same.
            e.refillDone();
        }
    }

    /** Whether every name {@code n}'s translation read is watched, and no change has been reported yet. */
    private static boolean watched(Node n) { return n.watch != null && n.watch.watching(); }

    /** A self-checking entry past its bound whose bytes are held: is its path still that file? */
    private boolean recheck(Node n, long now) {
        if (!n.entry.unchangedOnDisk()) return false;
        n.checkedNanos = now;
        recheckedInPlace.increment();
        return true;
    }

    /** A small file whose bytes are not held, read now without blocking; null (a miss) when it cannot be. */
    private Translation readUnheld(Node n, boolean due, long now, boolean sendfile) {
        UnheldRead.Check check = due ? UnheldRead.Check.REOPEN
                : watched(n) ? UnheldRead.Check.WATCHED : UnheldRead.Check.FSTAT;
        // The read that offers the bytes to the byte tier must have them in memory: that one is a copy.
        boolean copy = !sendfile || offersNext(n, now);
        FileEntry read = n.entry.readUnheld(check, descriptors, !copy);
        if (read == null) {
            unheldFallbacks.increment();
            misses.increment();
            return null;
        }
        unheldHits.increment();
        if (!read.inMemory()) unheldSent.increment();
        hits.increment();
        return served(n, read, due, now);
    }

    /** What an unheld read of {@code n}'s file returns, on the loop or where blocking is allowed. */
    private Translation served(Node n, FileEntry read, boolean due, long now) {
        if (due) { // the read opened the path again and found the same file: the check a self-checking entry needs
            n.checkedNanos = now;
            recheckedInPlace.increment();
        }
        if (countRead(n, now) && read.inMemory()) offer(n, read, now);
        return new Translation.Found(read);
    }

    /**
     * Offers the bytes just read for {@code n} to the byte tier once its file is read unheld
     * {@link #OFFER_AFTER_READS} times within one second (at most one offer a second per file): the policy then
     * admits them or not, by frequency, against the bytes it holds. Without this, the bytes held were those offered
     * when their translations were made, and a translation checked in place is never made again (section 19): a site
     * whose popular files changed since (the big site's Zipf point after its random one) served them unheld for good,
     * 2.6% of its requests from held bytes where Zipf's most used 2,700 files are 70% (docs/performance.md, section
     * 23). Files asked for less often are never copied: uniform access over a site of many more files than requests a
     * second offers nothing (none in the runs measured there), and {@link #OFFERS_PER_SECOND} bounds it otherwise.
     */
    private boolean countRead(Node n, long now) {
        if (bodies == null || n.entry.size() > maxBytes) return false;
        long second = now / 1_000_000_000L;
        if (n.readSecond != second) {
            n.readSecond = second;
            n.readsInSecond = 0;
        }
        return ++n.readsInSecond == OFFER_AFTER_READS;
    }

    /**
     * Whether the next read of {@code n} would be the one {@link #countRead} offers, and this second can still take an
     * offer (both read racily: a hint). The read that offers must be a copy. Once the second's offers are spent, a
     * copy would be refused anyway, and on the 20,000-file site most of those reads were such copies: 12% of its
     * requests copied where sendfile would serve, for 256 offers a second (docs/performance.md section 35).
     */
    private boolean offersNext(Node n, long now) {
        if (bodies == null) return false;
        long second = now / 1_000_000_000L;
        boolean next = n.readSecond == second ? n.readsInSecond + 1 == OFFER_AFTER_READS : OFFER_AFTER_READS == 1;
        return next && (offerSecond == second ? offersInSecond : 0) < offersPerSecond;
    }

    /** The offer {@link #countRead} asked for, if this second still allows one. */
    private void offer(Node n, FileEntry read, long now) {
        if (!offerAllowed(now / 1_000_000_000L)) return;
        // The read checked the file (by fstat, or by its length when watched) before or while reading it, not after:
        // a write during the read could have mixed its bytes. One request may get those (as from any read); the held
        // copy would serve them until the bound. So the file must still be the one translated, after the read:
        // openat2 (RESOLVE_CACHED) and fstat, which cannot wait.
        if (!n.entry.unchangedOnDisk()) return;
        try {
            bodiesOffered.increment();
            FileEntry copy = read.heldCopy();
            holdBody(n, copy);
            copy.releaseBody(); // the copy's first reference, ours: the byte tier took its own, or freed it
        } catch (RuntimeException | OutOfMemoryError e) {
            // No memory for the copy (direct memory exhausted): the offer is optional, the request is served anyway.
        }
    }

    /** At most {@link #OFFERS_PER_SECOND} offers in one second, however many files are read unheld that often. */
    private boolean offerAllowed(long second) {
        synchronized (offerLock) {
            if (offerSecond != second) {
                offerSecond = second;
                offersInSecond = 0;
            }
            return ++offersInSecond <= offersPerSecond;
        }
    }

    /**
     * Blocking (a helper under amped): the translation {@link #lookup} would have served for {@code target} had its
     * file's pages been in memory, read now, waiting for the disk; null when there is none, and the caller translates.
     * That is an unheld entry still within its bound (or past it but self-checking: the open of its real path is then
     * the check), whose file is still the one it was translated from. Its descriptor, kept or opened, is read into a
     * pooled buffer, as the loop would have: the translation, its cache insert and its watch are not made again. On
     * a site larger than the page cache this was most of a miss's cost (docs/performance.md, section 23).
     * A returned {@link Translation.Found} carries one reference the caller owns. Not on a virtual thread (vt): the
     * native open and read would pin its carrier, where the translation's FileChannel calls let the JDK add one.
     */
    public Translation readWaiting(RequestTarget.Normalized target) { return readWaiting(target, false); }

    /** As {@link #readWaiting(RequestTarget.Normalized)}; {@code sendfile}: a descriptor opened here is kept as a handle. */
    public Translation readWaiting(RequestTarget.Normalized target, boolean sendfile) {
        // Quietly: the loop's lookup already counted this request in the policy where reads are counted (a held
        // file's use in the byte tier's too, within recordHeldUse's cap).
        Node n = cache.policy().getIfPresentQuietly(target.path());
        if (n == null || !n.readable) return null;
        long now = flash.sys.LoopClock.nanoTime();
        boolean due = now - n.checkedNanos > n.boundNanos;
        if (due && !n.selfChecking) return null;
        Translation.Found held = n.held;
        if (held != null) {
            // Held since the loop's lookup (offered meanwhile): serve it; past the bound, a translation checks it.
            if (due) return null;
            if (held.entry().retainHeld()) return held; // the caller's reference (see lookup)
        }
        if (Thread.currentThread().isVirtual()) return null; // a native read would pin the carrier (see above)
        // By fstat even when watched: on a helper that costs the loop nothing, so the read stays as strict as it was.
        // As on the loop: the read that will offer the file's bytes to the byte tier copies them, the others may send.
        FileEntry read = n.entry.readUnheldWaiting(due ? UnheldRead.Check.REOPEN : UnheldRead.Check.FSTAT, descriptors,
                sendfile && !offersNext(n, now));
        if (read == null) return null;
        unheldWaited.increment();
        if (read.handle() != null) unheldWaitedSent.increment();
        return served(n, read, due, now);
    }

    /**
     * Whether an entry for {@code target} is cached, fresh or past its bound; records no use. A miss of {@link #lookup}
     * for a path held is a read that would wait, or a translation due, which are a helper's ({@link #readWaiting}).
     */
    public boolean holds(RequestTarget.Normalized target) { return cache.asMap().containsKey(target.path()); }

    /**
     * Stores a translation just made. The caller keeps its own reference; the cache takes one more.
     * Failures are never cached (the next request retries).
     */
    public void put(RequestTarget.Normalized target, Translation t) { put(target, t, null); }

    /**
     * Stores a translation just made, with what it read watched ({@code watch}, filled before the translation ran;
     * null: not watched). The cache owns the registration from here: it is cancelled when the entry goes, or at once
     * if the translation is not cached. A change reported before this call drops the entry again at once.
     */
    public void put(RequestTarget.Normalized target, Translation t, FileWatch.Registration watch) {
        dropOrphans();
        FileEntry withBody = t instanceof Translation.Found f && f.entry().inMemory() ? f.entry() : null;
        Translation stored = withBody != null ? new Translation.Found(withBody.withoutBody()) : t;
        boolean holdBody = withBody != null && bodies != null && withBody.size() <= maxBytes;
        boolean useless = withBody != null && !holdBody && !withBody.readableUnheld(); // could never be served
        if (!t.cacheable() || useless || (withBody == null && t instanceof Translation.Found f && !retain(f.entry()))) {
            if (watch != null) watch.cancel();
            return;
        }
        long now = flash.sys.LoopClock.nanoTime();
        Node node = new Node(target.path(), stored, now,
                watch != null && watch.complete() ? watchedRevalidateNanos : revalidateNanos, watch, literal(target, stored));
        if (node.small) smallEntries.increment();
        if (node.holdsHandle) {
            handleEntries.increment();
            descriptors.handleOpened();
            // The watch drops the entry at any change of its file: until then its size is the file's, and a large
            // body found whole in memory need not be tested again for a moment (FileHandle.hinted).
            if (watch != null && watch.complete()) node.entry.handle().vouchedFor(watch);
        }
        Node replaced = cache.asMap().put(node.key, node);
        updateRecording();
        if (replaced != null && now - replaced.checkedNanos > replaced.boundNanos) revalidatedByStat.increment();
        if (holdBody) holdBody(node, withBody);
        // Published: from now on a change runs the invalidation; one seen since the walk means it is stale already.
        if (watch != null && !watch.attach(() -> invalidate(node))) invalidate(node);
    }

    /**
     * Whether small files' translations can be cached without their bytes here (Linux 5.12+ on x86-64, native access
     * enabled, a channel's descriptor readable; asked of the kernel once, {@link UnheldRead#probeSupported}): they
     * are then read from the file by each request ({@link UnheldRead}).
     */
    public static boolean unheldReadsSupported() { return UnheldRead.probeSupported(); }

    /** Sets {@link #recordReads} from the translation cache's fill; a put's work, not a lookup's. */
    private void updateRecording() {
        var eviction = cache.policy().eviction().orElseThrow();
        boolean record = eviction.weightedSize().orElse(Long.MAX_VALUE) >= (long) (eviction.getMaximum() * RECORDING_SHARE);
        if (record != recordReads) recordReads = record;
    }

    /** Whether lookups record their reads in the eviction policy now (tests). */
    boolean recordsReads() { return recordReads; }

    /** The key the translation cache's policy ranks hottest, after its pending maintenance (tests). */
    String hottestKey() {
        cache.cleanUp();
        return cache.policy().eviction().orElseThrow().hottest(1).keySet().stream().findFirst().orElse(null);
    }

    /** Whether {@code t} is a file whose real path is exactly the URL path under the root (see {@link #lookup}). */
    private boolean literal(RequestTarget.Normalized target, Translation t) {
        if (realRoot == null || !(t instanceof Translation.Found f) || target.path().length() < 2) return false;
        return f.entry().path().equals(realRoot.resolve(target.path().substring(1)));
    }

    /**
     * Offers {@code entry}'s bytes to the second tier for {@code node}, only while {@code node} is still the path's
     * translation: decided under the body's key, which the node's removal also takes, so a body is never left behind
     * for a node already gone.
     */
    private void holdBody(Node node, FileEntry entry) {
        if (!entry.retainHeld()) return; // the byte tier's own reference (the caller holds one: this cannot fail)
        Held h = new Held(node, entry);
        bytes.add(h.bytes()); // before the put: the removal that takes it off can only come after
        heldBodies.increment();
        boolean[] stored = {false};
        bodies.asMap().compute(node.key, (k, old) -> {
            if (cache.policy().getIfPresentQuietly(k) != node) return old;
            stored[0] = true;
            // Before the removal of the Held it replaces (if any) is reported: that report clears only its own.
            node.held = h.found;
            return h;
        });
        if (!stored[0]) {
            bytes.add(-h.bytes());
            heldBodies.decrement();
            entry.releaseBody();
        }
    }

    /**
     * The watch thread's side: drops {@code n} if it is still the cached node for its path (the removal listener
     * releases it). Lookups on the loops do not wait for it: they read without locks.
     */
    private void invalidate(Node n) {
        if (cache.asMap().remove(n.key, n)) revalidatedByWatch.increment();
    }

    /** Entries now (a moment's count: an insert past the bound is evicted right after it). */
    public int size() { return (int) Math.min(Integer.MAX_VALUE, cache.estimatedSize()); }

    /** Bytes of small files held in memory by the cached entries. */
    public long bytesHeld() { return bytes.sum(); }

    /**
     * Tests, once nothing else runs: whether the node cached for {@code path} points at exactly the bytes the byte
     * tier holds for it, or at none when it holds none for it.
     */
    boolean heldExact(String path) {
        Node n = cache.policy().getIfPresentQuietly(path);
        if (n == null) return true;
        Held h = bodies == null ? null : bodies.policy().getIfPresentQuietly(path);
        return n.held == (h != null && h.node == n ? h.found : null);
    }

    /** Small files' translations cached without their bytes held (a moment's count). */
    public long unheldEntries() { return Math.max(0, smallEntries.sum() - heldBodies.sum()); }

    /** Entries holding a large file's open descriptor (a moment's count; at most {@link #maxHandles()} after eviction). */
    public long handleEntries() { return handleEntries.sum(); }

    public int maxHandles() { return maxHandles; }

    /** Descriptors unheld entries keep open between reads, in every cache sharing this one's budget (a moment's count). */
    public int keptDescriptors() { return descriptors.held(); }

    /** Kept descriptors closed by the budget's reliefs since start (process-wide: the budget is the process's). */
    public long keptDescriptorsRelieved() { return descriptors.relieved(); }

    /**
     * A quarter of the process's descriptor limit (RLIMIT_NOFILE as the JVM raised it): the rest is for connections,
     * upstreams, logs and the descriptors translations open for a moment. 4,096 when the limit is unknown.
     */
    public static int defaultMaxHandles() {
        long limit = DescriptorBudget.descriptorLimit();
        return limit <= 0 ? 4096 : (int) Math.clamp(limit / 4, 16, Integer.MAX_VALUE);
    }

    /** Runs pending maintenance (tests and tools; it may wait for the eviction lock, so never on a loop). */
    public void cleanUp() {
        if (bodies != null) bodies.cleanUp();
        dropOrphans();
        cache.cleanUp();
    }

    private void dropOrphans() {
        for (Node n; (n = orphans.poll()) != null; ) cache.asMap().remove(n.key, n);
    }

    private void removed(Node n, RemovalCause cause) {
        if (n.small) smallEntries.decrement();
        if (n.holdsHandle) {
            handleEntries.decrement();
            descriptors.handleClosed();
        }
        if (cause.wasEvicted()) evictions.increment();
        if (n.watch != null) n.watch.cancel();
        if (n.small && bodies != null) bodies.asMap().computeIfPresent(n.key, (k, h) -> h.node == n ? null : h);
        if (n.translation instanceof Translation.Found f) f.entry().release();
    }

    private void bodyRemoved(Held h, RemovalCause cause) {
        bytes.add(-h.bytes());
        heldBodies.decrement();
        HELD.compareAndSet(h.node, h.found, null); // not a newer Held's bytes, stored for the node since
        // The tier's reference: the memory is freed now, or by the last request or response still holding one.
        h.found.entry().releaseBody();
        if (cause.wasEvicted()) {
            bodyEvictions.increment();
            // A translation that cannot be served without its bytes goes with them, as before the two tiers.
            if (!h.node.readable) orphans.add(h.node);
        }
    }

    private static boolean retain(FileEntry e) {
        return e.handle() == null || e.handle().retain();
    }

    /** Drops everything (shutdown, or a reload that replaced the site): each entry's reference is released. */
    public void clear() {
        orphans.clear();
        cache.invalidateAll();
        cache.cleanUp();
        if (bodies != null) {
            bodies.invalidateAll();
            bodies.cleanUp();
        }
    }
}
