package flash.dispatch;

import flash.content.ChunkCache;
import flash.content.HeaderCache;
import flash.content.PathCache;
import flash.content.Residency;
import flash.net.LoopStats;
import flash.pipeline.Completion;
import flash.pipeline.ErrorCause;

import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * The server's counters, and their rendering as Prometheus text exposition (--status-path). It listens at the
 * pipeline's one completion point, so every exchange is counted exactly once, however it ended.
 */
public final class ServerMetrics implements Completion.Listener {
    private final Server server;
    private final Residency residency;
    /** HTTPS: which TLS engine runs and why kernel TLS does not; null without TLS. */
    private final flash.net.TlsEngineProbe tls;
    private final String tlsEngine; // the engine that runs: "openssl" or "sslengine"
    final LongAdder accepted = new LongAdder();
    final LongAdder refused = new LongAdder();
    /** Exchanges ended, by status class (index 1..5); aborted ones (the response did not reach the client whole). */
    private final LongAdder[] byClass = {new LongAdder(), new LongAdder(), new LongAdder(), new LongAdder(),
            new LongAdder(), new LongAdder()};
    private final LongAdder aborted = new LongAdder();
    /** 5xx exchanges by cause (a fixed set: {@link ErrorCause}). */
    private final LongAdder[] errors = new LongAdder[ErrorCause.values().length];

    ServerMetrics(Server server, Residency residency, flash.net.TlsEngineProbe tls, String tlsEngine) {
        this.tlsEngine = tlsEngine;
        this.server = server;
        this.residency = residency;
        this.tls = tls;
        for (int i = 0; i < errors.length; i++) errors[i] = new LongAdder();
    }

    public long requests() { return server.dispatcher().stats().stream().mapToLong(s -> s.requests.sum()).sum(); }
    public long residencyMisses() { return server.dispatcher().stats().stream().mapToLong(s -> s.residencyMisses.sum()).sum(); }
    public long helperTasks() { HelperPool hp = server.dispatcher().helpers(); return hp == null ? 0 : hp.completed.sum(); }
    /** AMPED's residency checker (its per-test counters), or null under other architectures. */
    public Residency residency() { return residency; }
    public long diskTasks() { return server.dispatcher().stats().stream().mapToLong(s -> s.diskTasks.sum()).sum(); }

    @Override
    public void completed(Completion c) {
        int cls = c.status() / 100;
        byClass[cls >= 1 && cls <= 5 ? cls : 0].increment();
        if (c.aborted()) aborted.increment();
        if (c.cause() != null) errors[c.cause().ordinal()].increment();
    }

    /** Exchanges ended with a 5xx status of this cause. */
    public long errors(ErrorCause cause) { return errors[cause.ordinal()].sum(); }

    /** Exchanges ended with a status of this class (1 to 5). */
    public long exchanges(int statusClass) { return byClass[statusClass].sum(); }

    public long abortedExchanges() { return aborted.sum(); }

    public String render() {
        StringBuilder sb = new StringBuilder(2048);
        String arch = server.config().arch().cliName();
        List<LoopStats> loops = server.dispatcher().stats();
        counter(sb, "flash_requests_total", "Requests parsed, per loop.");
        for (LoopStats s : loops) sample(sb, "flash_requests_total", s.name, s.requests.sum());
        counter(sb, "flash_bytes_sent_total", "Response bytes written, per loop.");
        for (LoopStats s : loops) sample(sb, "flash_bytes_sent_total", s.name, s.bytesOut.sum());
        counter(sb, "flash_disk_tasks_total", "Disk operations sent through the seam (helpers under amped), per loop.");
        for (LoopStats s : loops) sample(sb, "flash_disk_tasks_total", s.name, s.diskTasks.sum());
        counter(sb, "flash_residency_misses_total", "File data found not resident before sending, per loop.");
        for (LoopStats s : loops) sample(sb, "flash_residency_misses_total", s.name, s.residencyMisses.sum());
        counter(sb, "flash_residency_checks_total", "Residency decisions for file regions sent by sendfile, by test"
                + " (hint: a watched large file's region sent untested on a whole-file test of the hint's window).");
        sb.append("flash_residency_checks_total{test=\"mincore\"} ")
                .append(residency == null ? 0 : residency.mincoreChecks.sum()).append('\n');
        sb.append("flash_residency_checks_total{test=\"probe\"} ")
                .append(residency == null ? 0 : residency.probeChecks.sum()).append('\n');
        sb.append("flash_residency_checks_total{test=\"hint\"} ")
                .append(residency == null ? 0 : residency.hintedChecks.sum()).append('\n');
        counter(sb, "flash_residency_hints_withdrawn_total", "Residency tests that failed in this process (each"
                + " withdraws every whole-file residency hint: those files are tested again before their next send).",
                Integer.toUnsignedLong(flash.content.ResidencyHint.epoch()));
        counter(sb, "flash_bad_requests_total", "Requests refused by the parser, per loop.");
        for (LoopStats s : loops) sample(sb, "flash_bad_requests_total", s.name, s.badRequests.sum());
        counter(sb, "flash_timeouts_total", "Connections closed by a header-read or write timeout, per loop.");
        for (LoopStats s : loops) sample(sb, "flash_timeouts_total", s.name, s.timeouts.sum());
        counter(sb, "flash_idle_closes_total", "Keep-alive connections closed by the idle timeout, per loop.");
        for (LoopStats s : loops) sample(sb, "flash_idle_closes_total", s.name, s.idleCloses.sum());
        counter(sb, "flash_idle_sheds_total", "mt: idle keep-alive connections marked to close before their timeout"
                + " because a new connection waited for a thread (the one idle longest; a request arriving first"
                + " cancels it).");
        for (LoopStats s : loops) sample(sb, "flash_idle_sheds_total", s.name, s.idleSheds.sum());
        counter(sb, "flash_exchanges_total", "Exchanges ended (answered, aborted or refused), by status class.");
        for (int i = 1; i <= 5; i++) sb.append("flash_exchanges_total{class=\"").append(i).append("xx\"} ").append(byClass[i].sum()).append('\n');
        counter(sb, "flash_errors_total", "Exchanges ended with a 5xx status, by cause (a fixed set; they sum to class 5xx).");
        for (ErrorCause e : ErrorCause.values()) {
            sb.append("flash_errors_total{cause=\"").append(e.label()).append("\"} ").append(errors[e.ordinal()].sum()).append('\n');
        }
        counter(sb, "flash_exchanges_aborted_total", "Exchanges whose response did not reach the client whole.",
                aborted.sum());
        gauge(sb, "flash_open_connections", "Open client connections.", server.openConnections());
        gaugeHeader(sb, "flash_read_buffers_held", "Read buffers lent to connections by an event loop (0 while every connection is idle), per loop.");
        for (LoopStats s : loops) sample(sb, "flash_read_buffers_held", s.name, s.readBuffersHeld.get());
        gaugeHeader(sb, "flash_senders_held", "Response senders taken from an event loop's pool (0 while every connection is idle), per loop.");
        for (LoopStats s : loops) sample(sb, "flash_senders_held", s.name, s.sendersHeld.get());
        counter(sb, "flash_connections_accepted_total", "Connections accepted.", accepted.sum());
        counter(sb, "flash_connections_refused_total", "Connections refused at the connection limit.", refused.sum());
        counter(sb, "flash_access_log_dropped_total", "Access-log lines lost: the writer fell behind (a stalled disk or pipe) or a write failed.",
                server.accessLogDropped());
        PathCache pc = server.context().pathCache();
        HeaderCache hc = server.context().headerCache();
        ChunkCache cc = server.context().chunkCache();
        counter(sb, "flash_cache_hits_total", "Cache hits by cache.");
        sb.append("flash_cache_hits_total{cache=\"path\"} ").append(pc == null ? 0 : pc.hits.sum()).append('\n');
        sb.append("flash_cache_hits_total{cache=\"header\"} ").append(hc.hits.sum()).append('\n');
        sb.append("flash_cache_hits_total{cache=\"file\"} ").append(cc == null ? 0 : cc.hits.sum()).append('\n');
        counter(sb, "flash_cache_misses_total", "Cache misses by cache.");
        sb.append("flash_cache_misses_total{cache=\"path\"} ").append(pc == null ? 0 : pc.misses.sum()).append('\n');
        sb.append("flash_cache_misses_total{cache=\"header\"} ").append(hc.misses.sum()).append('\n');
        sb.append("flash_cache_misses_total{cache=\"file\"} ").append(cc == null ? 0 : cc.misses.sum()).append('\n');
        counter(sb, "flash_cache_evictions_total", "Entries dropped to stay within a cache's bounds, by cache (path-bytes: small files' bytes held by the path cache, refused or dropped; their translations stay).");
        sb.append("flash_cache_evictions_total{cache=\"path\"} ").append(pc == null ? 0 : pc.evictions.sum()).append('\n');
        sb.append("flash_cache_evictions_total{cache=\"path-bytes\"} ").append(pc == null ? 0 : pc.bodyEvictions.sum()).append('\n');
        sb.append("flash_cache_evictions_total{cache=\"file\"} ").append(cc == null ? 0 : cc.evictions.sum()).append('\n');
        gauge(sb, "flash_path_cache_entries", "Entries in the pathname-translation cache.", pc == null ? 0 : pc.size());
        gauge(sb, "flash_file_cache_bytes", "Small-file bytes held in memory by the path cache.", pc == null ? 0 : pc.bytesHeld());
        gauge(sb, "flash_body_memory_bytes", "Native memory of small files' bodies not yet freed: held by the byte budget, sent by a response, "
                + "or dropped and waiting for the collector.", flash.content.BodyMemory.outstanding());
        counter(sb, "flash_body_memory_fallback_bytes_total", "Bodies' bytes allocated as direct buffers because flash_body_memory_bytes was at its bound.",
                flash.content.BodyMemory.fallbackBytes());
        gauge(sb, "flash_path_cache_unheld_entries", "Small files' translations cached without their bytes held (the byte budget holds the most used files' bytes): served by a read that must not block.",
                pc == null ? 0 : pc.unheldEntries());
        counter(sb, "flash_unheld_reads_total", "Requests for an unheld entry, by outcome: hit = read without blocking and served at once, "
                + "fallback = could not be (not in memory, changed, a symlink on the path) and went where blocking is allowed (a helper under amped).");
        sb.append("flash_unheld_reads_total{outcome=\"hit\"} ").append(pc == null ? 0 : pc.unheldHits.sum()).append('\n');
        sb.append("flash_unheld_reads_total{outcome=\"fallback\"} ").append(pc == null ? 0 : pc.unheldFallbacks.sum()).append('\n');
        counter(sb, "flash_unheld_sendfile_total", "Of the unheld hits, the ones answered as a file region of the descriptor the entry keeps, for sendfile "
                + "(a connection that sends file regions, a file of at least 8 KiB that this process owns or may write), not copied into memory.",
                pc == null ? 0 : pc.unheldSent.sum());
        counter(sb, "flash_held_sendfile_total", "Requests for a small file whose bytes are held, answered instead as a file region of a descriptor its entry "
                + "keeps, for sendfile (a connection that sends file regions, a file this process owns or may write, of at least 24 KiB, or of 8 KiB "
                + "and not asked for 2,000 times already this second).",
                pc == null ? 0 : pc.heldSent.sum());
        counter(sb, "flash_held_page_refills_total", "Held files found with pages not in memory (evicted) whose pages were then read back "
                + "(posix_fadvise WILLNEED, a helper under amped), so that they are sent by sendfile again instead of copied: after a second's "
                + "first miss, one at a time per file.",
                pc == null ? 0 : pc.heldRefills.sum());
        counter(sb, "flash_unheld_waited_reads_total", "Unheld entries read where blocking is allowed (a helper under amped) from their cached "
                + "translation, not translated again: the fallbacks whose file was still the one cached.",
                pc == null ? 0 : pc.unheldWaited.sum());
        counter(sb, "flash_unheld_waited_sendfile_total", "Of the waited reads, the ones sent by sendfile from the file's descriptor (a connection "
                + "that sends file regions, a file of at least 8 KiB that this process owns or may write): the helper waited for the pages "
                + "without copying them, as nginx's aio threads do.",
                pc == null ? 0 : pc.unheldWaitedSent.sum());
        counter(sb, "flash_translations_without_waiting_total", "Path-cache misses translated on the event loop itself, not by a helper: "
                + "a small regular file with no symlink on its path, every name of which was in the kernel's dentry cache (openat2 "
                + "RESOLVE_CACHED) and every byte in the page cache (preadv2 RWF_NOWAIT); under --revalidate watch, in directories "
                + "already watched.", pc == null ? 0 : pc.translatedWithoutWaiting.sum());
        counter(sb, "flash_path_cache_bodies_offered_total", "Small files whose bytes were copied and offered to the byte budget again because "
                + "they were read unheld four times within a second (at most 256 a second); its policy admitted them or not.",
                pc == null ? 0 : pc.bodiesOffered.sum());
        gauge(sb, "flash_path_cache_open_files", "Entries of the path cache holding a large file open (bounded by a quarter of the descriptor limit).",
                pc == null ? 0 : pc.handleEntries());
        gauge(sb, "flash_path_cache_kept_descriptors", "Small files' entries keeping their file open between reads (unheld ones, and held ones sent by sendfile), so a read skips the open and the close "
                + "(within the room the connections and the open large files leave under the descriptor limit; shed when connections need it).", pc == null ? 0 : pc.keptDescriptors());
        counter(sb, "flash_path_cache_kept_descriptors_relieved_total", "Kept descriptors closed to make room for held files asked for often that found "
                + "the budget full: at most a batch a second (a sixty-fourth of the room), of those no read used for about 4 s, the longest unused first.",
                pc == null ? 0 : pc.keptDescriptorsRelieved());
        counter(sb, "flash_revalidations_total", "Cached translations of the document root found stale and dropped, by what noticed: "
                + "watch = the file system reported a change (--revalidate watch), stat = the entry outlived its bound and was translated again.");
        sb.append("flash_revalidations_total{by=\"watch\"} ").append(pc == null ? 0 : pc.revalidatedByWatch.sum()).append('\n');
        sb.append("flash_revalidations_total{by=\"stat\"} ").append(pc == null ? 0 : pc.revalidatedByStat.sum()).append('\n');
        counter(sb, "flash_rechecks_total", "Cached translations past their bound found unchanged in place without blocking "
                + "(openat2 of the same path with RESOLVE_CACHED, fstat) and kept instead of being translated again.",
                pc == null ? 0 : pc.recheckedInPlace.sum());
        flash.content.FileWatch fw = server.context().fileWatchIfStarted();
        gauge(sb, "flash_watched_dirs", "Directories watched for changes under cached translations (inotify watches).",
                fw == null ? 0 : fw.watchedDirs());
        counter(sb, "flash_watch_incomplete_total", "Translations cached without a full watch (watch limit reached): they keep --revalidate-ms.",
                fw == null ? 0 : fw.incomplete.sum());
        counter(sb, "flash_watch_overflows_total", "Watch event queue overflows (each dropped every watched translation).",
                fw == null ? 0 : fw.overflows.sum());
        gauge(sb, "flash_mapped_cache_bytes", "File bytes mapped by the mapped-file cache.", cc == null ? 0 : cc.bytesMapped());
        gauge(sb, "flash_mapped_cache_chunks", "Chunks in the mapped-file cache.", cc == null ? 0 : cc.chunks());
        compression(sb, server.context().compressedCache());
        HelperPool hp = server.dispatcher().helpers();
        gauge(sb, "flash_helpers", "Helper threads.", hp == null ? 0 : hp.size());
        gauge(sb, "flash_helpers_busy", "Helper threads running a disk operation now.", hp == null ? 0 : hp.busy());
        gauge(sb, "flash_helper_queue_depth", "Disk operations waiting for a helper.", hp == null ? 0 : hp.queueDepth());
        counter(sb, "flash_helper_tasks_total", "Disk operations completed by helpers.",
                hp == null ? 0 : hp.completed.sum());
        sb.append("# HELP flash_info Server build and architecture.\n# TYPE flash_info gauge\n");
        sb.append("flash_info{arch=\"").append(arch).append("\",residency=\"")
                .append(residency == null ? "none" : residency.test().name().toLowerCase()).append("\"} 1\n");
        if (tls != null) tls.render(sb, tlsEngine);
        return sb.toString();
    }

    /** --compress: the compressed-body cache (zeros without it, so dashboards need no special case). */
    private static void compression(StringBuilder sb, flash.compress.CompressedCache zc) {
        counter(sb, "flash_compress_cache_hits_total", "Responses compressed on the fly that were served from the cache.",
                zc == null ? 0 : zc.hits.sum());
        counter(sb, "flash_compress_cache_misses_total", "Responses compressed on the fly that were not in the cache.",
                zc == null ? 0 : zc.misses.sum());
        counter(sb, "flash_compressions_total", "Files compressed on the fly, by coding.");
        for (flash.compress.Coding c : flash.compress.Coding.values()) {
            if (!c.onTheFly) continue;
            sb.append("flash_compressions_total{coding=\"").append(c.token).append("\"} ")
                    .append(zc == null ? 0 : zc.compressions(c)).append('\n');
        }
        gauge(sb, "flash_compress_cache_bytes", "Bytes held by the compressed-body cache.", zc == null ? 0 : zc.bytesHeld());
    }

    private static void counter(StringBuilder sb, String name, String help) {
        sb.append("# HELP ").append(name).append(' ').append(help).append("\n# TYPE ").append(name).append(" counter\n");
    }

    /** A counter of one unlabelled sample. */
    private static void counter(StringBuilder sb, String name, String help, long value) {
        counter(sb, name, help);
        sb.append(name).append(' ').append(value).append('\n');
    }

    private static void gauge(StringBuilder sb, String name, String help, long value) {
        sb.append("# HELP ").append(name).append(' ').append(help).append("\n# TYPE ").append(name).append(" gauge\n");
        sb.append(name).append(' ').append(value).append('\n');
    }

    private static void gaugeHeader(StringBuilder sb, String name, String help) {
        sb.append("# HELP ").append(name).append(' ').append(help).append("\n# TYPE ").append(name).append(" gauge\n");
    }

    private static void sample(StringBuilder sb, String name, String loop, long v) {
        sb.append(name).append("{loop=\"").append(loop).append("\"} ").append(v).append('\n');
    }

}
