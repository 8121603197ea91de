package flash.amped;

import static org.assertj.core.api.Assertions.assertThat;

import flash.config.Architecture;
import flash.testing.AllArchs;
import flash.testing.RawClient;
import flash.testing.TestServer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #11, "warm set larger than the caches": a site of more small files than the byte budget holds (here 2 MiB of
 * --cache-mb, so 512 KiB of held bytes, against 4.8 MB of files). Their translations stay cached unheld and are
 * served by a read that cannot block; under every architecture every file comes back whole, and a file changed,
 * renamed over, deleted, swapped for a symlink, or replaced by a symlink out of the root is served fresh, 404, and
 * never the outside file.
 */
class UnheldServingTest {
    static final long BOUND_MS = 5000;
    static final int FILES = 200;

    @TempDir Path root;
    @TempDir Path outside;

    private TestServer start(Architecture arch) {
        return TestServer.start(root, arch, c -> c.withCacheBytes(2 << 20).withRevalidateAfter(Duration.ofMillis(200))
                .withStatusPath("/status"));
    }

    /** Files of 16 to 32 KiB, as bench's bigsite. */
    private byte[][] site() throws Exception {
        byte[][] data = new byte[FILES][];
        for (int i = 0; i < FILES; i++) data[i] = Http.write(root.resolve("f" + i + ".bin"), 16 * 1024 + i * 80, i);
        return data;
    }

    @AllArchs
    void everyFileOfASiteLargerThanTheByteBudgetIsServedWhole(Architecture arch) throws Exception {
        byte[][] data = site();
        try (TestServer s = start(arch)) {
            int p = s.port();
            long warm = 0;
            // The descriptor budget is the process's: what earlier tests' servers still keep counts in it too.
            long keptBefore = s.inProcess() ? Http.metric(s.server().metrics().render(), "flash_path_cache_kept_descriptors") : 0;
            for (int round = 0; round < 4; round++) {
                for (int i = 0; i < FILES; i++) {
                    RawClient.Response r = Http.get(p, "/f" + i + ".bin");
                    assertThat(r.status()).as("round %d f%d", round, i).isEqualTo(200);
                    assertThat(r.body()).as("round %d f%d", round, i).isEqualTo(data[i]);
                }
                // Descriptors once every file was translated and served unheld (connections closed meanwhile):
                // serving more must not open one that stays open.
                if (round == 1 && s.inProcess()) warm = openFds();
            }
            if (s.inProcess()) {
                long limit = warm;
                assertThat(Http.eventually(BOUND_MS, () -> openFds() <= limit)).as("descriptors after serving").isTrue();
            }
            // Pipelined on one connection that reads slowly: each body stays queued while the next ones are read
            // into other pooled buffers; no buffer may be reused under a response still being sent.
            try (RawClient c = new RawClient(p, 4096)) {
                StringBuilder requests = new StringBuilder();
                for (int i = 0; i < 40; i++) requests.append("GET /f").append(i * 5).append(".bin HTTP/1.1\r\nHost: t\r\n\r\n");
                c.send(requests.toString());
                for (int i = 0; i < 40; i++) {
                    RawClient.Response r = c.read();
                    assertThat(r.status()).isEqualTo(200);
                    assertThat(r.body()).as("pipelined f%d", i * 5).isEqualTo(data[i * 5]);
                }
            }
            if (s.inProcess()) {
                String status = s.server().metrics().render();
                assertThat(Http.metric(status, "flash_path_cache_unheld_entries")).isGreaterThan(FILES / 2);
                assertThat(Http.metric(status, "flash_unheld_reads_total{outcome=\"hit\"}")).isGreaterThan(FILES);
                assertThat(Http.metric(status, "flash_unheld_reads_total{outcome=\"fallback\"}")).isGreaterThanOrEqualTo(0);
                // their files kept open between reads (KeptDescriptor), within the room the connections leave: at
                // most one per entry, unheld or held and sent by sendfile, over what the process kept before this
                // server started; a descriptor of an entry replaced here may still be closing: polled.
                assertThat(Http.eventually(BOUND_MS, () -> {
                    String now = s.server().metrics().render();
                    return Http.metric(now, "flash_path_cache_kept_descriptors")
                            <= keptBefore + Http.metric(now, "flash_path_cache_entries");
                })).as("kept descriptors, at most one per entry").isTrue();
                if (s.server().context().descriptors().room() > FILES) { // not under a tiny descriptor limit
                    assertThat(Http.metric(status, "flash_path_cache_kept_descriptors")).isPositive();
                }
                assertThat(Http.metric(status, "flash_file_cache_bytes")).isLessThanOrEqualTo((2 << 20) / 4);
                // The event loops send these files (16 KiB and up, owned by this process) by sendfile from the kept
                // descriptor; the blocking architectures keep the copy (BodyPath): the bytes above are checked either way.
                long sent = Http.metric(status, "flash_unheld_sendfile_total");
                if (!arch.eventDriven()) assertThat(sent).isZero();
                else if (s.server().context().descriptors().room() > FILES) assertThat(sent).isPositive();
            } else {
                RawClient.Response st = Http.get(p, "/status"); // one mp worker's page: the counters are there
                assertThat(st.bodyText()).contains("flash_unheld_reads_total{outcome=\"hit\"}")
                        .contains("flash_path_cache_kept_descriptors");
                // That worker's bodies in memory are the ones its byte tier holds once its responses are done: the
                // bytes it refused or dropped were freed by their last release, not left for a full collection.
                assertThat(Http.eventually(BOUND_MS, () -> {
                    String t = Http.get(p, "/status").bodyText();
                    return Http.metric(t, "flash_body_memory_bytes") == Http.metric(t, "flash_file_cache_bytes");
                })).as("an mp worker's body memory, against the bytes its cache holds").isTrue();
            }
        }
    }

    /**
     * --no-file-cache: no bytes held, yet every small file's translation stays cached, unheld, and each request reads
     * the file. Before, each such entry kept the file open and mapped, so a site of more small files than the
     * handles' share of the descriptors (a quarter of the limit) was translated again on most requests.
     */
    @AllArchs
    void withoutTheFileCacheSmallFilesAreCachedUnheldAndReadFromTheFile(Architecture arch) throws Exception {
        byte[][] data = site();
        try (TestServer s = TestServer.start(root, arch, c -> c.withFileCache(false)
                .withRevalidateAfter(Duration.ofMillis(200)).withStatusPath("/status"))) {
            int p = s.port();
            for (int round = 0; round < 2; round++) {
                for (int i = 0; i < FILES; i++) {
                    assertThat(Http.serves(p, "/f" + i + ".bin", data[i])).as("round %d f%d", round, i).isTrue();
                }
            }
            if (s.inProcess()) {
                String status = s.server().metrics().render();
                assertThat(Http.metric(status, "flash_path_cache_unheld_entries")).isEqualTo(FILES);
                assertThat(Http.metric(status, "flash_unheld_reads_total{outcome=\"hit\"}")).isGreaterThan(FILES / 2);
            } else {
                // One worker's page: mp's workers each translate what they serve, and connections go round them, so
                // a worker's second request for a file may be its first. What each keeps is the translations alone:
                // its bodies' memory goes back to zero once the responses are done (the translations' reads included).
                assertThat(Http.metric(Http.get(p, "/status").bodyText(), "flash_path_cache_unheld_entries")).isPositive();
                assertThat(Http.eventually(BOUND_MS, () ->
                        Http.metric(Http.get(p, "/status").bodyText(), "flash_body_memory_bytes") == 0))
                        .as("an mp worker's body memory").isTrue();
            }
            // Read from the file: new bytes (another size, same path) are what the next requests get.
            byte[] changed = Http.write(root.resolve("f7.bin"), 20_000, 99);
            assertThat(Http.eventually(BOUND_MS, () -> Http.serves(p, "/f7.bin", changed))).as("f7 changed").isTrue();
            for (int i = 0; i < 4; i++) assertThat(Http.serves(p, "/f7.bin", changed)).isTrue();
        }
    }

    /**
     * The kept descriptors are the process's (one budget for every server in it): a server that stops must close the
     * ones its entries kept, sendfile handles and residency mappings included, and give them back to the budget.
     */
    @AllArchs
    void aStoppedServerClosesTheDescriptorsItsEntriesKept(Architecture arch) throws Exception {
        byte[][] data = site();
        // First what the JDK opens once per process and keeps (a socket under amped, virtual threads' four epolls).
        try (TestServer s = start(arch)) {
            assertThat(Http.serves(s.port(), "/f0.bin", data[0])).isTrue();
        }
        flash.content.DescriptorBudget budget = flash.content.DescriptorBudget.forProcess();
        int keptBefore = budget.held(), mappingsBefore = flash.content.FileHandle.mappings();
        // Under vt the JDK adds a poller (an epoll instance) for a carrier thread the first time one of its virtual
        // threads blocks on a socket, and keeps it for the process's life; which carriers did so before differs from
        // run to run, so there those are not counted (elsewhere an epoll is a loop's selector, and counts).
        java.util.function.Predicate<String> counted = arch == Architecture.VT
                ? fd -> !fd.endsWith("anon_inode:[eventpoll]") : fd -> true;
        java.util.Set<String> before = fdTargets();
        long fdsBefore = before.stream().filter(counted).count();
        boolean inProcess;
        try (TestServer s = start(arch)) {
            inProcess = s.inProcess();
            for (int round = 0; round < 3; round++) {
                for (int i = 0; i < FILES; i++) assertThat(Http.serves(s.port(), "/f" + i + ".bin", data[i])).isTrue();
            }
            if (inProcess && budget.room() > FILES) {
                assertThat(budget.held()).as("kept while serving").isGreaterThan(keptBefore);
            }
        }
        if (!inProcess) return; // mp: the workers' descriptors went with their processes
        assertThat(Http.eventually(BOUND_MS, () -> budget.held() <= keptBefore)).as("kept after the stop: %d, before: %d",
                budget.held(), keptBefore).isTrue();
        assertThat(Http.eventually(BOUND_MS, () -> flash.content.FileHandle.mappings() <= mappingsBefore))
                .as("residency mappings after the stop").isTrue();
        boolean ok = Http.eventually(BOUND_MS, () -> fdTargets().stream().filter(counted).count() <= fdsBefore);
        java.util.Set<String> after = fdTargets();
        after.removeAll(before);
        after.removeIf(counted.negate());
        assertThat(ok).as("descriptors after the stop; new: %s", after).isTrue();
    }

    /**
     * The evicted set (issue #11): once the page cache has dropped the site, an unheld file's lookup cannot read it
     * without blocking, and the read moves where blocking is allowed (a helper under amped, the request's own thread
     * otherwise). It is read there from the cached translation, not translated again: every fallback is a waited
     * read (but on virtual threads), and every file comes back whole.
     */
    @AllArchs
    void unheldFilesEvictedFromThePageCacheAreReadWhereBlockingIsAllowedNotTranslatedAgain(Architecture arch) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(flash.sys.Native.available(), "needs the native layer");
        byte[][] data = site();
        try (TestServer s = TestServer.start(root, arch, c -> c.withCacheBytes(2 << 20)
                .withRevalidateAfter(Duration.ofSeconds(60)).withStatusPath("/status"))) {
            int p = s.port();
            for (int round = 0; round < 2; round++) {
                for (int i = 0; i < FILES; i++) assertThat(Http.serves(p, "/f" + i + ".bin", data[i])).as("f%d", i).isTrue();
            }
            for (int i = 0; i < FILES; i++) flash.testing.ColdFile.evict(root.resolve("f" + i + ".bin"));
            for (int i = 0; i < FILES; i++) assertThat(Http.serves(p, "/f" + i + ".bin", data[i])).as("evicted f%d", i).isTrue();
            if (s.inProcess()) {
                String status = s.server().metrics().render();
                long fallbacks = Http.metric(status, "flash_unheld_reads_total{outcome=\"fallback\"}");
                assertThat(fallbacks).as("unheld files read after the eviction").isGreaterThan(FILES / 2);
                // Requests one at a time: every fallback is a waited read, except on virtual threads, where the native
                // read would pin the carrier and the file is translated again (PathCache.readWaiting).
                long waited = Http.metric(status, "flash_unheld_waited_reads_total");
                assertThat(waited).isEqualTo(arch == Architecture.VT ? 0 : fallbacks);
                // The event loops' plain sockets send these files (16 KiB and up) by sendfile: the waited read brought
                // the pages in without copying them, and the loop sent them from the descriptor, as nginx's aio threads
                // do (section 53). The blocking architectures copy them.
                assertThat(Http.metric(status, "flash_unheld_waited_sendfile_total")).as("waited reads sent by sendfile")
                        .isEqualTo(arch == Architecture.AMPED || arch == Architecture.SPED ? waited : 0);
            } else {
                assertThat(Http.get(p, "/status").bodyText()).contains("flash_unheld_waited_reads_total");
            }
        }
    }

    /**
     * A body stuck on a full socket keeps its pooled buffer: requests of other connections on the same loop (or
     * thread) meanwhile read into other buffers, and the stuck body still arrives whole. Files of 3 MiB (small
     * files up to 4 MiB here), more than the socket buffers take from a reader with a 4 KiB window.
     */
    @AllArchs
    void aBodyStuckOnAFullSocketKeepsItsBufferWhileOthersAreServed(Architecture arch) throws Exception {
        int n = 6, size = 3 << 20;
        byte[][] data = new byte[n][];
        for (int i = 0; i < n; i++) data[i] = Http.write(root.resolve("big" + i + ".bin"), size + i, 50 + i);
        try (TestServer s = TestServer.start(root, arch, c -> c.withCacheBytes(2 << 20).withSmallFileMax(4 << 20)
                .withRevalidateAfter(Duration.ofMillis(200)))) {
            int p = s.port();
            for (int i = 0; i < n; i++) assertThat(Http.serves(p, "/big" + i + ".bin", data[i])).isTrue(); // cached unheld
            try (RawClient slow = new RawClient(p, 4096)) {
                slow.send("GET /big0.bin HTTP/1.1\r\nHost: t\r\n\r\n");
                Thread.sleep(300); // the server wrote what the socket takes and holds the rest
                for (int round = 0; round < 2; round++) {
                    for (int i = 1; i < n; i++) assertThat(Http.serves(p, "/big" + i + ".bin", data[i])).isTrue();
                }
                RawClient.Response r = slow.read();
                assertThat(r.status()).isEqualTo(200);
                assertThat(Arrays.equals(r.body(), data[0])).as("the stuck body arrived whole and unchanged").isTrue();
            }
        }
    }

    @AllArchs
    void changedRenamedOverDeletedAndSymlinkedUnheldFilesAreServedFresh(Architecture arch) throws Exception {
        byte[][] data = site();
        byte[] secret = Http.write(outside.resolve("secret.bin"), 20 * 1024, 99);
        try (TestServer s = start(arch)) {
            int p = s.port();
            for (int round = 0; round < 2; round++) {
                for (int i = 0; i < FILES; i++) assertThat(Http.serves(p, "/f" + i + ".bin", data[i])).isTrue();
            }
            // the last files translated are the ones past the budget: unheld
            String a = "/f" + (FILES - 1) + ".bin", b = "/f" + (FILES - 2) + ".bin", c = "/f" + (FILES - 3) + ".bin",
                    d = "/f" + (FILES - 4) + ".bin", e = "/f" + (FILES - 5) + ".bin";

            byte[] changed = Http.write(root.resolve(a.substring(1)), data[FILES - 1].length, 1001); // in place
            assertThat(Http.eventually(BOUND_MS, () -> Http.serves(p, a, changed))).as("changed in place").isTrue();

            byte[] renamed = Http.write(root.resolve("tmp.bin"), 18 * 1024, 1002);
            Files.move(root.resolve("tmp.bin"), root.resolve(b.substring(1)), StandardCopyOption.ATOMIC_MOVE);
            assertThat(Http.eventually(BOUND_MS, () -> Http.serves(p, b, renamed))).as("renamed over").isTrue();

            Files.delete(root.resolve(c.substring(1)));
            assertThat(Http.eventually(BOUND_MS, () -> Http.get(p, c).status() == 404)).as("deleted").isTrue();

            // a symlink to another file of the root, swapped in over the file
            Path dTarget = root.resolve("f0.bin");
            Files.createSymbolicLink(root.resolve("link.tmp"), dTarget);
            Files.move(root.resolve("link.tmp"), root.resolve(d.substring(1)), StandardCopyOption.ATOMIC_MOVE);
            assertThat(Http.eventually(BOUND_MS, () -> Http.serves(p, d, data[0]))).as("symlink swapped in").isTrue();

            // a symlink out of the root: 404 (symlinks are not followed out of it), and never the outside bytes
            Files.createSymbolicLink(root.resolve("evil.tmp"), outside.resolve("secret.bin"));
            Files.move(root.resolve("evil.tmp"), root.resolve(e.substring(1)), StandardCopyOption.ATOMIC_MOVE);
            long end = System.nanoTime() + BOUND_MS * 1_000_000;
            boolean notFound = false;
            while (!notFound && System.nanoTime() < end) {
                RawClient.Response r = Http.get(p, e);
                assertThat(r.body()).as("outside file served").isNotEqualTo(secret);
                notFound = r.status() == 404;
            }
            assertThat(notFound).as("404 for a symlink out of the root").isTrue();
            for (int i = 0; i < 20; i++) assertThat(Http.get(p, e).body()).isNotEqualTo(secret);
        }
    }

    private static java.util.Set<String> fdTargets() throws java.io.IOException {
        java.util.Set<String> out = new java.util.TreeSet<>();
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : (Iterable<Path>) s::iterator) {
                try { out.add(fd.getFileName() + "->" + Files.readSymbolicLink(fd)); } catch (java.io.IOException gone) { }
            }
        }
        return out;
    }

    private static long openFds() throws java.io.IOException {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count() - 1; // the listing's own descriptor
        }
    }
}
