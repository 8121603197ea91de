package flash.bench;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.zip.GZIPInputStream;

/**
 * Hit rates of path-cache policies on a replayed trace: deterministic, no timing, no server (issue #11, "A real
 * cache"). Each request looks its key up; a miss inserts it, as the server's static handler does (a translation made
 * on a miss is put in the cache). Replayed back to back, so no entry goes stale: the misses counted are cold and
 * capacity misses, which is what the policy decides.
 *
 * <p>Policies: {@code clock} (the path cache's policy before this change, its algorithm copied), {@code lru}
 * (LinkedHashMap in access order), {@code slru} (segmented LRU: a probation segment of 20% and a protected one of
 * 80%; a hit in probation promotes), {@code caffeine} (W-TinyLFU, Caffeine's maximumSize, or its weigher for the
 * byte-bounded runs, with the same weight as flash.content.PathCache).
 *
 * <p>Run (after {@code mvn -f reactor/pom.xml package -DskipTests}):
 * <pre>
 *   java -cp target/flash.jar:bench/target/flash-bench.jar flash.bench.CachePolicySim \
 *        [--trace ../shared/traces/NASA_access_log_Jul95.first267818.gz] [--zipf-requests 2000000] [--entry-size]
 * </pre>
 * It prints markdown tables (docs/performance.md, "Cache policy").
 */
public final class CachePolicySim {
    /** Bodies at most this large are held in memory by the path cache (the server's default --small-file-max). */
    static final long SMALL_FILE_MAX = 64 * 1024;

    private CachePolicySim() {}

    /** One cache under test: lookup, and insert after a miss. */
    interface Policy {
        /** The time the key's entry was inserted, or -1 when it is not cached. */
        long get(Object key);

        /** Inserts (or replaces) the key's entry, made at {@code time}. */
        void put(Object key, long bytes, long time);
    }

    /** A cached entry's bytes and the time it was made (the server serves it for --revalidate-ms after that). */
    record Entry(long bytes, long time) {}

    record Request(Object key, long bytes) {}

    record Result(long requests, long hits, long bytesRequested, long bytesHit) {
        double hitRate() { return requests == 0 ? 0 : 100.0 * hits / requests; }
        double byteHitRate() { return bytesRequested == 0 ? 0 : 100.0 * bytesHit / bytesRequested; }
    }

    /** Replays {@code trace} back to back (nothing goes stale); counts only requests from index {@code warmup} on. */
    static Result replay(Policy p, List<Request> trace, int warmup) {
        return replay(p, trace, warmup, Long.MAX_VALUE);
    }

    /**
     * Replays {@code trace}; an entry made more than {@code fresh} requests ago is stale: not a hit, translated again
     * and replaced, as the server does with one older than --revalidate-ms ({@code fresh} = request rate times that).
     */
    static Result replay(Policy p, List<Request> trace, int warmup, long fresh) {
        long req = 0, hits = 0, bytes = 0, bytesHit = 0;
        for (int i = 0; i < trace.size(); i++) {
            Request r = trace.get(i);
            long made = p.get(r.key());
            boolean hit = made >= 0 && i - made <= fresh;
            if (!hit) p.put(r.key(), r.bytes(), i);
            if (i >= warmup) {
                req++;
                bytes += r.bytes();
                if (hit) {
                    hits++;
                    bytesHit += r.bytes();
                }
            }
        }
        return new Result(req, hits, bytes, bytesHit);
    }

    // ------------------------------------------------------------------ policies

    /** The path cache's CLOCK before this change (flash.content.PathCache at eaac67d), single-threaded. */
    static final class Clock implements Policy {
        private static final class Node {
            final Object key;
            final long bytes, time;
            boolean referenced;
            Node prev, next;

            Node(Object key, long bytes, long time) { this.key = key; this.bytes = bytes; this.time = time; }
        }

        private final Map<Object, Node> map = new HashMap<>();
        private final int maxEntries;
        private final long maxBytes;
        private Node hand;
        private int entries;
        private long bytes;

        Clock(int maxEntries, long maxBytes) { this.maxEntries = maxEntries; this.maxBytes = maxBytes; }

        @Override
        public long get(Object key) {
            Node n = map.get(key);
            if (n == null) return -1;
            n.referenced = true;
            return n.time;
        }

        @Override
        public void put(Object key, long b, long time) {
            Node node = new Node(key, b, time);
            Node replaced = map.put(key, node);
            if (replaced != null) unlink(replaced);
            link(node);
            while ((entries > maxEntries || bytes > maxBytes) && hand != null) {
                Node victim = advance();
                map.remove(victim.key, victim);
                unlink(victim);
            }
        }

        private Node advance() {
            for (int steps = 0; steps <= entries; steps++) {
                Node n = hand;
                if (!n.referenced) return n;
                n.referenced = false;
                hand = n.next;
            }
            return hand;
        }

        private void link(Node n) {
            if (hand == null) {
                n.prev = n.next = n;
                hand = n;
            } else {
                n.next = hand;
                n.prev = hand.prev;
                hand.prev.next = n;
                hand.prev = n;
            }
            entries++;
            bytes += n.bytes;
        }

        private void unlink(Node n) {
            if (n.next == n) {
                hand = null;
            } else {
                n.prev.next = n.next;
                n.next.prev = n.prev;
                if (hand == n) hand = n.next;
            }
            n.prev = n.next = null;
            entries--;
            bytes -= n.bytes;
        }
    }

    /** Least recently used, bounded by entries and bytes. */
    static final class Lru implements Policy {
        private final LinkedHashMap<Object, Entry> map = new LinkedHashMap<>(16, 0.75f, true);
        private final int maxEntries;
        private final long maxBytes;
        private long bytes;

        Lru(int maxEntries, long maxBytes) { this.maxEntries = maxEntries; this.maxBytes = maxBytes; }

        @Override
        public long get(Object key) {
            Entry e = map.get(key);
            return e == null ? -1 : e.time();
        }

        @Override
        public void put(Object key, long b, long time) {
            if (b > maxBytes) return;
            Entry old = map.put(key, new Entry(b, time));
            if (old != null) bytes -= old.bytes();
            bytes += b;
            Iterator<Map.Entry<Object, Entry>> it = map.entrySet().iterator();
            while ((map.size() > maxEntries || bytes > maxBytes) && it.hasNext()) {
                bytes -= it.next().getValue().bytes();
                it.remove();
            }
        }
    }

    /**
     * Segmented LRU (Karedla, Love and Wherry 1994): new entries go to probation; a hit there moves the entry to
     * protected; protected overflowing demotes its least recent entry to probation's most recent end; victims come
     * from probation's least recent end. One scan of new keys can only flush probation.
     */
    static final class Slru implements Policy {
        private final LinkedHashMap<Object, Entry> probation = new LinkedHashMap<>(16, 0.75f, true);
        private final LinkedHashMap<Object, Entry> protectedSeg = new LinkedHashMap<>(16, 0.75f, true);
        private final int maxEntries;
        private final long maxBytes;
        private final int protectedMax;
        private final long protectedMaxBytes;
        private long bytes, protectedBytes;

        Slru(int maxEntries, long maxBytes) {
            this.maxEntries = maxEntries;
            this.maxBytes = maxBytes;
            this.protectedMax = (int) (maxEntries * 0.8);
            this.protectedMaxBytes = maxBytes == Long.MAX_VALUE ? Long.MAX_VALUE : (long) (maxBytes * 0.8);
        }

        @Override
        public long get(Object key) {
            Entry hit = protectedSeg.get(key);
            if (hit != null) return hit.time();
            Entry e = probation.remove(key);
            if (e == null) return -1;
            protectedSeg.put(key, e);
            protectedBytes += e.bytes();
            Iterator<Map.Entry<Object, Entry>> it = protectedSeg.entrySet().iterator();
            while ((protectedSeg.size() > protectedMax || protectedBytes > protectedMaxBytes) && it.hasNext()) {
                Map.Entry<Object, Entry> d = it.next();
                if (d.getKey().equals(key)) break; // never demote the entry just promoted
                it.remove();
                protectedBytes -= d.getValue().bytes();
                probation.put(d.getKey(), d.getValue());
            }
            return e.time();
        }

        @Override
        public void put(Object key, long b, long time) {
            if (b > maxBytes) return;
            Entry fresh = new Entry(b, time);
            // A revalidated entry is replaced where it stands (as Caffeine and the CLOCK ring replace it).
            Entry old = protectedSeg.get(key) != null ? protectedSeg.put(key, fresh) : null;
            if (old != null) protectedBytes += b - old.bytes();
            else old = probation.put(key, fresh);
            if (old != null) bytes -= old.bytes();
            bytes += b;
            Iterator<Map.Entry<Object, Entry>> it = probation.entrySet().iterator();
            while ((probation.size() + protectedSeg.size() > maxEntries || bytes > maxBytes) && it.hasNext()) {
                bytes -= it.next().getValue().bytes();
                it.remove();
            }
            Iterator<Map.Entry<Object, Entry>> p = protectedSeg.entrySet().iterator();
            while ((protectedSeg.size() > maxEntries || bytes > maxBytes) && p.hasNext()) {
                long v = p.next().getValue().bytes();
                bytes -= v;
                protectedBytes -= v;
                p.remove();
            }
        }
    }

    /** Caffeine (W-TinyLFU), configured as flash.content.PathCache configures it. */
    static final class CaffeinePolicy implements Policy {
        private final Cache<Object, Entry> cache;
        private final long maxBytes;

        CaffeinePolicy(int maxEntries, long maxBytes) {
            this.maxBytes = maxBytes;
            Caffeine<Object, Object> b = Caffeine.newBuilder().executor(Runnable::run);
            if (maxBytes == Long.MAX_VALUE) {
                b.maximumSize(maxEntries);
            } else {
                // as flash.content.PathCache weighs: at least budget/entries, so the weight bound keeps both bounds
                long unit = Math.clamp(maxBytes / maxEntries, 1, Integer.MAX_VALUE);
                b.maximumWeight(Math.min(maxBytes, unit * maxEntries))
                        .weigher((Object k, Object v) -> (int) Math.max(unit, ((Entry) v).bytes()));
            }
            this.cache = b.build();
        }

        @Override
        public long get(Object key) {
            Entry e = cache.getIfPresent(key);
            return e == null ? -1 : e.time();
        }

        @Override
        public void put(Object key, long b, long time) {
            if (b > maxBytes) return;
            cache.put(key, new Entry(b, time));
        }
    }

    static final Map<String, java.util.function.BiFunction<Integer, Long, Policy>> POLICIES = policies();

    private static Map<String, java.util.function.BiFunction<Integer, Long, Policy>> policies() {
        Map<String, java.util.function.BiFunction<Integer, Long, Policy>> m = new LinkedHashMap<>();
        m.put("clock", Clock::new);
        m.put("lru", Lru::new);
        m.put("slru", Slru::new);
        m.put("caffeine", CaffeinePolicy::new);
        return m;
    }

    // ------------------------------------------------------------------ workloads

    /**
     * Every request of a Common Log Format file, keyed by its URL path without the query (what the path cache keys
     * by; {@code withQuery}: the whole URL, as if each query named its own entry); its bytes are the largest 200 response seen for that path when it is small enough to be held in memory,
     * else 0 (sent from the file: the path cache holds no bytes for it).
     */
    static List<Request> readClf(Path log, boolean withQuery) throws IOException {
        List<String> paths = new ArrayList<>();
        Map<String, Long> size = new HashMap<>();
        Map<String, String> intern = new HashMap<>();
        try (InputStream raw = Files.newInputStream(log);
             InputStream in = log.toString().endsWith(".gz") ? new GZIPInputStream(raw, 1 << 16) : raw;
             BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.ISO_8859_1))) {
            String line;
            while ((line = r.readLine()) != null) {
                int q1 = line.indexOf('"');
                int q2 = q1 < 0 ? -1 : line.lastIndexOf('"');
                if (q2 <= q1) continue;
                String[] req = line.substring(q1 + 1, q2).trim().split("\\s+");
                if (req.length < 2) continue;
                String url = req[1];
                int q = url.indexOf('?');
                if (q >= 0 && !withQuery) url = url.substring(0, q);
                url = intern.computeIfAbsent(url, u -> u);
                paths.add(url);
                String[] tail = line.substring(q2 + 1).trim().split("\\s+");
                if (tail.length >= 2 && tail[0].equals("200") && tail[1].matches("\\d+")) {
                    size.merge(url, Long.parseLong(tail[1]), Math::max);
                }
            }
        }
        List<Request> out = new ArrayList<>(paths.size());
        for (String p : paths) {
            long s = size.getOrDefault(p, 0L);
            out.add(new Request(p, s <= SMALL_FILE_MAX ? s : 0));
        }
        return out;
    }

    /** {@code n} requests over {@code keys} keys, Zipf with exponent {@code s}, seeded: the same list every run. */
    static List<Request> zipf(int keys, double s, int n, long seed) {
        double[] cdf = new double[keys];
        double sum = 0;
        for (int i = 0; i < keys; i++) cdf[i] = sum += 1 / Math.pow(i + 1, s);
        for (int i = 0; i < keys; i++) cdf[i] /= sum;
        // Rank is not key: scatter the ranks over the key space so a hash-based structure sees no pattern.
        int[] keyOfRank = new int[keys];
        for (int i = 0; i < keys; i++) keyOfRank[i] = i;
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int i = keys - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = keyOfRank[i];
            keyOfRank[i] = keyOfRank[j];
            keyOfRank[j] = t;
        }
        Integer[] boxed = new Integer[keys];
        for (int i = 0; i < keys; i++) boxed[i] = i;
        List<Request> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int rank = java.util.Arrays.binarySearch(cdf, rnd.nextDouble());
            if (rank < 0) rank = -rank - 1;
            out.add(new Request(boxed[keyOfRank[Math.min(rank, keys - 1)]], 0));
        }
        return out;
    }

    // ------------------------------------------------------------------ report

    static String table(String title, List<Request> trace, int warmup, int[] sizes, long maxBytes) {
        return table(title, trace, warmup, sizes, maxBytes, Long.MAX_VALUE);
    }

    static String table(String title, List<Request> trace, int warmup, int[] sizes, long maxBytes, long fresh) {
        StringBuilder sb = new StringBuilder();
        sb.append("\n").append(title).append("\n\n| entries |");
        for (String p : POLICIES.keySet()) sb.append(' ').append(p).append(" |");
        sb.append("\n|---:|");
        for (int i = 0; i < POLICIES.size(); i++) sb.append("---:|");
        sb.append('\n');
        for (int size : sizes) {
            sb.append("| ").append(String.format(Locale.ROOT, "%,d", size)).append(" |");
            for (var p : POLICIES.values()) {
                Result r = replay(p.apply(size, maxBytes), trace, warmup, fresh);
                sb.append(String.format(Locale.ROOT, " %.1f%% |", r.hitRate()));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    static String bytesTable(String title, List<Request> trace, long[] budgets) {
        StringBuilder sb = new StringBuilder();
        sb.append("\n").append(title).append("\n\n| bytes held |");
        for (String p : POLICIES.keySet()) sb.append(' ').append(p).append(" |");
        sb.append("\n|---:|");
        for (int i = 0; i < POLICIES.size(); i++) sb.append("---:|");
        sb.append('\n');
        for (long budget : budgets) {
            sb.append("| ").append(budget >> 10).append(" KiB |");
            for (var p : POLICIES.values()) {
                Result r = replay(p.apply(1_000_000, budget), trace, 0);
                sb.append(String.format(Locale.ROOT, " %.1f%% / %.1f%% |", r.hitRate(), r.byteHitRate()));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    public static void main(String[] args) throws Exception {
        Path trace = BenchCommand.DEFAULT_TRACE;
        int zipfRequests = 2_000_000;
        boolean entrySize = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--trace" -> trace = Path.of(args[++i]);
                case "--zipf-requests" -> zipfRequests = Integer.parseInt(args[++i]);
                case "--entry-size" -> entrySize = true;
                default -> {
                    System.err.println("flash: unknown option " + args[i]
                            + " (--trace FILE, --zipf-requests N, --entry-size)");
                    System.exit(2);
                }
            }
        }
        if (entrySize) {
            EntrySize.main();
            return;
        }
        int[] traceSizes = {100, 250, 500, 1_000, 2_000, 3_000, 6_000};
        for (boolean withQuery : new boolean[] {false, true}) {
            List<Request> nasa = readClf(trace, withQuery);
            long distinct = nasa.stream().map(Request::key).distinct().count();
            String keyed = withQuery ? "keyed by the whole URL, query included" : "keyed by the URL path (as the server is)";
            System.out.printf(Locale.ROOT, "%n%s, %s: %,d requests, %,d distinct keys%n", trace.getFileName(), keyed,
                    nasa.size(), distinct);
            System.out.print(table("NASA trace " + keyed + ", request hit rate (cold start included; the best possible is "
                    + String.format(Locale.ROOT, "%.1f%%", 100.0 * (nasa.size() - distinct) / nasa.size()) + ")",
                    nasa, 0, traceSizes, Long.MAX_VALUE));
            if (!withQuery) {
                for (int rate : new int[] {1_000, 10_000}) {
                    System.out.print(table(String.format(Locale.ROOT, "NASA trace keyed by path, replayed at %,d "
                            + "requests/s with --revalidate-ms 1000 (an entry is fresh for %,d requests)", rate, rate),
                            nasa, 0, traceSizes, Long.MAX_VALUE, rate));
                }
                System.out.print(bytesTable("NASA trace, bounded by the bytes of small bodies held (request hit rate / "
                        + "byte hit rate; the small bodies of all paths add up to "
                        + (nasa.stream().distinct().mapToLong(Request::bytes).sum() >> 10) + " KiB)",
                        nasa, new long[] {256 << 10, 1 << 20, 2 << 20, 4 << 20, 8 << 20, 16 << 20}));
            }
        }
        int[] sizes = {1_000, 2_000, 6_000, 10_000, 30_000};
        for (int keys : new int[] {20_000, 100_000}) {
            for (double s : new double[] {0.8, 1.0}) {
                List<Request> t = zipf(keys, s, zipfRequests, 42);
                System.out.print(table(String.format(Locale.ROOT,
                        "Zipf s=%.1f over %,d keys, %,d requests, hit rate over the second half", s, keys, t.size()),
                        t, t.size() / 2, sizes, Long.MAX_VALUE));
                if (keys == 100_000) {
                    System.out.print(table(String.format(Locale.ROOT, "The same at 50,000 requests/s with "
                            + "--revalidate-ms 1000 (fresh for 50,000 requests)"), t, t.size() / 2, sizes, Long.MAX_VALUE, 50_000));
                }
            }
        }
    }
}
