package flash.content;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Logger;

/**
 * Cheap revalidation (issue #11, {@code --revalidate watch}): the directories a cached translation was read from are
 * watched through the JDK's {@link WatchService} (inotify on Linux), and a change to any name the translation read
 * drops that entry from the path cache at once, so a hot entry is never re-checked on disk while nothing changed.
 *
 * <p>One per server process (an mp worker is its own JVM and watches for itself): one inotify instance and one
 * daemon thread, never an event loop. What a translation read is recorded as a {@link Registration}: (directory,
 * name) pairs, or a whole directory for a listing. Directories are watched lazily, when the first entry that needs
 * one is cached, and unwatched by the watch thread once no cached entry needs them (after a short grace, so an
 * evicted-and-refilled entry does not churn inotify_add_watch/inotify_rm_watch). The number of watched directories
 * is bounded ({@code maxDirs}); past it, or when the kernel's inotify watch limit is reached, a registration is
 * incomplete and its entry keeps the stat-based bound ({@code --revalidate-ms}).
 *
 * <p>Events: ENTRY_CREATE, ENTRY_DELETE (renames in and out included) and ENTRY_MODIFY (content and attributes)
 * fire every registration on that name; a listing's registration fires on any name. OVERFLOW (events were lost)
 * fires everything and forgets every watch: the caches refill from the disk. A directory that is deleted, renamed or
 * unmounted fires everything that read through it, and a new watch is made for whatever later takes its path.
 *
 * <p>Threads: registrations are made where translations run (helpers under amped; they may block, on the JDK's
 * poller round trip); the watch thread fires them; firing calls the cache's invalidation, which the loops' lock-free
 * lookups tolerate as they tolerate an eviction. One lock guards the tables; nothing is fired while it is held. It can
 * be held across a blocking round trip (a new watch, a cancelled one), so an event loop never waits for it: a loop's
 * translation watches only in directories already watched, and only if the lock is free ({@link
 * Registration#watchIfWatched}); a cancellation that finds it taken (the path cache's eviction, which may run on a
 * loop) is queued for the next holder, at the latest the watch thread's sweep a second later.
 */
public final class FileWatch implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(FileWatch.class.getName());
    /** Default bound on watched directories: a site's cached translations rarely span more than a few thousand directories. */
    public static final int DEFAULT_MAX_DIRS = Integer.getInteger("flash.watchMaxDirs", 8192);
    /** How long an unused watch is kept before inotify_rm_watch, and how often the watch thread looks. */
    private static final long IDLE_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final WatchService service; // null: watching is unavailable (no inotify instance), everything falls back
    private final int maxDirs;
    private final ReentrantLock lock = new ReentrantLock();
    /** Cancelled registrations still in the tables: their cancel found the lock taken. Fired, they do nothing. */
    private final ConcurrentLinkedQueue<Registration> cancelled = new ConcurrentLinkedQueue<>();
    private final Map<Path, Dir> byPath = new HashMap<>();
    private final Map<WatchKey, Dir> byKey = new HashMap<>();
    private final Thread thread;
    private volatile boolean closed;
    private volatile int watchedDirs;
    private boolean limitLogged; // guarded by lock
    /** Registrations fired by a file system event (each drops one cache entry). */
    public final LongAdder fired = new LongAdder();
    /** Registrations that could not watch everything they read (limit reached): their entries use the stat bound. */
    public final LongAdder incomplete = new LongAdder();
    /** OVERFLOW events seen (each dropped every watched entry). */
    public final LongAdder overflows = new LongAdder();

    private FileWatch(WatchService service, int maxDirs) {
        this.service = service;
        this.maxDirs = maxDirs;
        this.thread = service == null ? null
                : Thread.ofPlatform().name("flash-file-watch").daemon(true).start(this::run);
    }

    /**
     * A running watch, or one that watches nothing (every registration incomplete) when the platform has no
     * watch service to give: the inotify instance limit (fs.inotify.max_user_instances) reached, for one.
     */
    public static FileWatch start(int maxDirs) {
        WatchService ws = null;
        try {
            ws = FileSystems.getDefault().newWatchService();
        } catch (IOException | UnsupportedOperationException e) {
            LOG.warning("file watching unavailable (" + e.getMessage() + "): cached translations are re-checked after --revalidate-ms");
        }
        return new FileWatch(ws, maxDirs);
    }

    /** Whether directories can be watched at all. */
    public boolean available() { return service != null && !closed; }

    /** Directories watched now. */
    public int watchedDirs() { return watchedDirs; }

    /** Names in the watched directory {@code dir} that some registration depends on (tests: nothing is left behind). */
    int namesDependedOn(Path dir) {
        lock.lock();
        try {
            drainCancelled();
            Dir d = byPath.get(dir);
            return d == null ? 0 : d.byName.size();
        } finally {
            lock.unlock();
        }
    }

    /** A new, empty record of what one translation reads; fill it before translating (see {@link Registration}). */
    public Registration register() { return new Registration(this); }

    // ---------------------------------------------------------------------------------------------------------------

    /** One watched directory and who depends on which of its names. Guarded by the lock. */
    private static final class Dir {
        final Path path;
        final WatchKey key;
        // A name's registrations: one Registration (most names: the file that one cached entry read), or a Set of
        // them (a directory on many entries' paths). A set for every name was four objects a cached file, promoted
        // with its entry on a site larger than the path cache (docs/performance.md section 55).
        final Map<String, Object> byName = new HashMap<>();
        final Set<Registration> anyName = new HashSet<>();
        int users;
        long idleSince;
        boolean retired;

        Dir(Path path, WatchKey key) { this.path = path; this.key = key; }

        void addName(String name, Registration r) {
            Object v = byName.putIfAbsent(name, r);
            if (v == null || v == r) return;
            if (v instanceof Registration other) {
                Set<Registration> set = new HashSet<>(4);
                set.add(other);
                set.add(r);
                byName.put(name, set);
            } else {
                registrations(v).add(r);
            }
        }

        void removeName(String name, Registration r) {
            Object v = byName.get(name);
            if (v == r || v instanceof Set<?> set && set.remove(r) && set.isEmpty()) byName.remove(name);
        }

        /** Adds the registrations that depend on {@code name} to {@code out}. */
        void collectName(String name, List<Registration> out) { collect(byName.get(name), out); }

        /** Adds every registration that depends on a name here, or on the whole directory, to {@code out}. */
        void collectAll(List<Registration> out) {
            for (Object v : byName.values()) collect(v, out);
            out.addAll(anyName);
        }

        private static void collect(Object v, List<Registration> out) {
            if (v instanceof Registration r) out.add(r);
            else if (v != null) out.addAll(registrations(v));
        }

        @SuppressWarnings("unchecked") // byName holds only Registrations and sets of them
        private static Set<Registration> registrations(Object v) { return (Set<Registration>) v; }
    }

    /** A (directory, name) a registration depends on; name null: the whole directory. */
    private record Sub(Dir dir, String name) {}

    /**
     * What one cached translation read, watched. Built on the translating thread before the translation runs, so that
     * any change after the translation's reads is an event; then handed to the cache, which {@link #attach}es the
     * invalidation to run. A change seen before the attach is remembered: attach then says so and the cache drops the
     * entry itself. {@link #cancel} when the entry leaves the cache.
     */
    public static final class Registration {
        private static final Object PENDING = new Object(), FIRED = new Object(), CANCELLED = new Object();
        private final FileWatch owner;
        private final List<Sub> subs = new ArrayList<>(4);
        private boolean complete = true; // only the registering thread writes it, before the cache publishes the entry
        // PENDING, the invalidation attached (a Runnable), FIRED or CANCELLED. A field of its own rather than an
        // AtomicReference: every lookup of a watched entry reads it (watching), and on a site of many files each object
        // on that path is a cache miss (docs/performance.md, section 44).
        private volatile Object state = PENDING;
        private static final java.lang.invoke.VarHandle STATE;
        static {
            try {
                STATE = java.lang.invoke.MethodHandles.lookup().findVarHandle(Registration.class, "state", Object.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        private Registration(FileWatch owner) { this.owner = owner; }

        /** Depends on {@code name} in directory {@code dir} (a real path): its creation, deletion, change or rename. */
        public boolean watch(Path dir, String name) { return add(dir, name); }

        /**
         * As {@link #watch}, without waiting, for an event loop: only in a directory watched already, and only when no
         * other thread holds the tables. False otherwise: this name is not recorded (the names before it are, until
         * the caller cancels the registration, which it must, and then translates where blocking is allowed); the
         * registration stays complete.
         */
        public boolean watchIfWatched(Path dir, String name) { return complete && owner.subscribeWatched(this, dir, name); }

        /** Depends on every name in {@code dir} (a listing). */
        public boolean watchAll(Path dir) { return add(dir, null); }

        private boolean add(Path dir, String name) {
            if (!complete) return false; // the entry uses the stat bound anyway: watch no more for it
            if (!owner.subscribe(this, dir, name)) {
                complete = false;
                owner.incomplete.increment();
            }
            return complete;
        }

        /** Marks this registration as not covering everything read (a walk that gave up). */
        public void giveUp() {
            if (complete) owner.incomplete.increment();
            complete = false;
        }

        /** Whether every name the translation read is watched: only then may the entry outlive the stat bound. */
        public boolean complete() { return complete; }

        /**
         * Whether this registration still stands for its entry: complete, neither fired by a change nor cancelled.
         * A loop may look an entry up between the change's firing and the entry's removal; this closes that gap.
         */
        public boolean watching() {
            Object s = state;
            return complete && s != FIRED && s != CANCELLED; // compared by identity: no load of the attached Runnable
        }

        /** Runs {@code onChange} at the first change; false if one was already seen (the caller drops the entry). */
        public boolean attach(Runnable onChange) { return STATE.compareAndSet(this, PENDING, onChange); }

        void fire() {
            Object s = state;
            while (s == PENDING || s instanceof Runnable) {
                if (STATE.compareAndSet(this, s, FIRED)) {
                    owner.fired.increment();
                    if (s instanceof Runnable r) r.run();
                    return;
                }
                s = state;
            }
        }

        /** Stops depending on anything: the entry left the cache. Idempotent. */
        public void cancel() {
            if (STATE.getAndSet(this, CANCELLED) == CANCELLED) return;
            owner.unsubscribe(this);
        }
    }

    private boolean subscribe(Registration r, Path dir, String name) {
        if (service == null || closed) return false;
        lock.lock();
        try {
            drainCancelled();
            if (closed) return false;
            Dir d = byPath.get(dir);
            if (d == null) {
                if (byPath.size() >= maxDirs) return limit("more than " + maxDirs + " directories");
                WatchKey key;
                try {
                    // Blocking: a round trip to the JDK's poller thread, which calls inotify_add_watch. Translating
                    // threads only (helpers under amped), never a loop's lookup.
                    key = dir.register(service, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_DELETE,
                            StandardWatchEventKinds.ENTRY_MODIFY);
                } catch (IOException | RuntimeException e) {
                    String m = String.valueOf(e.getMessage());
                    return m.contains("limit") ? limit(m) : false; // ENOENT, EACCES...: this entry uses the stat bound
                }
                if (byKey.containsKey(key)) return false; // the same directory under another path (a bind mount)
                d = new Dir(dir, key);
                byPath.put(dir, d);
                byKey.put(key, d);
                watchedDirs = byPath.size();
            }
            add(d, r, name);
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** {@link Registration#watchIfWatched}: never waits (no new watch, no lock held by another thread). */
    private boolean subscribeWatched(Registration r, Path dir, String name) {
        if (service == null || closed || !lock.tryLock()) return false;
        try {
            drainCancelled();
            Dir d = closed ? null : byPath.get(dir);
            if (d == null || d.retired) return false;
            add(d, r, name);
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Records that {@code r} depends on {@code name} in {@code d} (null: every name). Holds the lock. */
    private static void add(Dir d, Registration r, String name) {
        if (name == null) d.anyName.add(r);
        else d.addName(name, r);
        d.users++;
        r.subs.add(new Sub(d, name));
    }

    private boolean limit(String why) {
        if (!limitLogged) {
            limitLogged = true;
            LOG.warning("file watch limit reached (" + why + "): entries that cannot be watched are re-checked after "
                    + "--revalidate-ms (raise fs.inotify.max_user_watches, or cache fewer paths)");
        }
        return false;
    }

    private void unsubscribe(Registration r) {
        // The path cache's eviction runs where it is triggered, an event loop among them: never wait for the tables.
        if (!lock.tryLock()) {
            cancelled.add(r);
            return;
        }
        try {
            drainCancelled();
            remove(r);
        } finally {
            lock.unlock();
        }
    }

    /** Removes what cancellations queued while the lock was taken. Holds the lock. */
    private void drainCancelled() {
        for (Registration r; (r = cancelled.poll()) != null; ) remove(r);
    }

    /** Forgets what {@code r} depends on. Holds the lock. */
    private static void remove(Registration r) {
        for (Sub s : r.subs) {
            Dir d = s.dir();
            if (s.name() == null) {
                d.anyName.remove(r);
            } else {
                d.removeName(s.name(), r);
            }
            if (--d.users == 0) d.idleSince = System.nanoTime();
        }
        r.subs.clear();
    }

    // --- the watch thread ---------------------------------------------------------------------------------------

    private void run() {
        long nextSweep = System.nanoTime() + IDLE_NANOS;
        while (!closed) {
            WatchKey key;
            try {
                key = service.poll(1, TimeUnit.SECONDS);
            } catch (InterruptedException | java.nio.file.ClosedWatchServiceException e) {
                return;
            }
            List<Registration> toFire = new ArrayList<>();
            if (key != null) {
                List<WatchEvent<?>> events = key.pollEvents();
                boolean valid = key.reset();
                lock.lock();
                try {
                    drainCancelled();
                    Dir d = byKey.get(key);
                    if (d != null) {
                        for (WatchEvent<?> e : events) {
                            if (e.kind() == StandardWatchEventKinds.OVERFLOW) {
                                overflows.increment();
                                dropAll(toFire);
                                break;
                            }
                            String name = e.context().toString();
                            d.collectName(name, toFire);
                            toFire.addAll(d.anyName);
                            if (e.kind() != StandardWatchEventKinds.ENTRY_MODIFY) {
                                // A watched directory renamed away or replaced: its watch, and those of the directories
                                // under it, follow the old inodes. Forget them all, so the path gets new watches.
                                Dir child = byPath.get(d.path.resolve(name));
                                if (child != null) retireTree(child.path, toFire);
                            }
                        }
                        if (!valid && !d.retired) retire(d, toFire); // deleted or unmounted (IN_IGNORED)
                    }
                } finally {
                    lock.unlock();
                }
            }
            for (Registration r : toFire) r.fire();
            long now = System.nanoTime();
            if (now - nextSweep >= 0) {
                sweep(now);
                nextSweep = now + IDLE_NANOS;
            }
        }
    }

    /** Fires everything that depends on {@code d} and forgets its watch. Holds the lock. */
    private void retire(Dir d, List<Registration> toFire) {
        d.retired = true;
        d.collectAll(toFire);
        byPath.remove(d.path, d);
        byKey.remove(d.key, d);
        d.key.cancel(); // under the lock: a new watch of the same inode must not get this key back and lose it
        watchedDirs = byPath.size();
    }

    /** Retires {@code top} and every watched directory under it. Holds the lock. */
    private void retireTree(Path top, List<Registration> toFire) {
        List<Dir> under = new ArrayList<>();
        for (Dir x : byPath.values()) if (x.path.startsWith(top)) under.add(x);
        for (Dir x : under) retire(x, toFire);
    }

    /** OVERFLOW: events were lost, so nothing watched can be trusted. Holds the lock. */
    private void dropAll(List<Registration> toFire) {
        for (Dir d : new ArrayList<>(byPath.values())) retire(d, toFire);
    }

    /** Unwatches directories no cached entry has needed for a while. */
    private void sweep(long now) {
        lock.lock();
        try {
            drainCancelled();
            List<Dir> idle = new ArrayList<>();
            for (Dir d : byPath.values()) if (d.users == 0 && now - d.idleSince >= IDLE_NANOS) idle.add(d);
            for (Dir d : idle) {
                byPath.remove(d.path);
                byKey.remove(d.key);
                d.retired = true;
                d.key.cancel();
            }
            watchedDirs = byPath.size();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        closed = true;
        if (service == null) return;
        try {
            service.close();
        } catch (IOException ignored) {
            // closing the inotify descriptor cannot lose anything
        }
        lock.lock();
        try {
            cancelled.clear();
            byPath.clear();
            byKey.clear();
            watchedDirs = 0;
        } finally {
            lock.unlock();
        }
        if (thread != null) thread.interrupt();
    }
}
