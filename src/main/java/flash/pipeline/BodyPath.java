package flash.pipeline;

import flash.content.ChunkCache;
import flash.content.FileEntry;
import flash.net.Transport;

/**
 * Which way a file body larger than the in-memory bound leaves: mapped chunks (written with writev, the bytes
 * copied from the mapping into the socket) or a region of the open file (sendfile, no copy through user space).
 * Decided per response by the file's size and the connection's transport (docs/performance.md sections 13 and 33):
 * <ul>
 *   <li>a non-blocking plain socket (the event loops: amped, sped) sends every file body above the in-memory bound
 *       ({@link #sendfileMin()} to {@link #sendfileMax()} bytes; default: all) by sendfile, the head written just
 *       before it with MSG_MORE, in turns of 256 KiB per connection ({@code Outgoing.SENDFILE_TURN}), as lighttpd
 *       does. On the NASA replay this served 1.2x what mapped chunks did; mapped chunks still cost the loop less for
 *       a single 1 MiB file sent to 50 connections (section 33), but on the mixed trace they lost;</li>
 *   <li>a transport without sendfile (TLS, which must encrypt the bytes itself) takes mapped chunks where the
 *       mapped-file cache covers the file: the engine reads the mapping directly, where a file region would be read
 *       into a buffer first;</li>
 *   <li>a blocking socket (mt, vt, mp) keeps mapped chunks unless {@link #sendfileBlocking()}: there sendfile goes
 *       through the JDK's transferTo (an extra failing copy_file_range per call), and a virtual thread's full socket
 *       turns it into 16 KiB copies.</li>
 * </ul>
 * The bounds are system properties, read when the server starts, so the lead can A/B them without new CLI options:
 * {@code -Dflash.sendfileMin=BYTES} (default 0: every body the in-memory copy does not hold),
 * {@code -Dflash.sendfileMax=BYTES} (default: no bound; larger files the mapped cache covers are mapped) and
 * {@code -Dflash.sendfileBlocking=true}. {@code -Dflash.sendfileMin=9223372036854775807} maps every body the cache
 * covers (sendfile only beyond it); {@code -Dflash.sendfileMax=1048576 -Dflash.sendfileTurn=0} is section 13's
 * rule.
 */
public record BodyPath(long sendfileMin, long sendfileMax, boolean sendfileBlocking) {
    /** Sendfile on the event loops for every body above the in-memory bound (section 33). */
    public static final BodyPath DEFAULT = new BodyPath(0, Long.MAX_VALUE, false);
    /** Mapped wherever the file cache covers; sendfile (plain sockets) only beyond it. */
    public static final BodyPath MAPPED = new BodyPath(Long.MAX_VALUE, Long.MAX_VALUE, false);
    /** Section 13's rule: sendfile on the event loops for covered bodies up to 1 MiB. */
    public static final BodyPath SENDFILE_TO_1MIB = new BodyPath(0, 1L << 20, false);

    /**
     * From {@code -Dflash.sendfileMin} and {@code -Dflash.sendfileMax} (the band of sizes, among the files the mapped
     * cache covers, that go by sendfile on a transport that supports it) and {@code -Dflash.sendfileBlocking}
     * (blocking sockets use sendfile too).
     */
    public static BodyPath fromSystemProperties() {
        return new BodyPath(Long.getLong("flash.sendfileMin", DEFAULT.sendfileMin),
                Long.getLong("flash.sendfileMax", DEFAULT.sendfileMax),
                Boolean.parseBoolean(System.getProperty("flash.sendfileBlocking", String.valueOf(DEFAULT.sendfileBlocking))));
    }

    /** Whether a connection over {@code t} should get file regions (sendfile) rather than mapped chunks. */
    public boolean prefersSendfile(Transport t) {
        return t.supportsSendfile() && (!t.isBlocking() || sendfileBlocking);
    }

    /** Whether {@code e}'s body goes out from mapped chunks of {@code cache} (null: no file cache). */
    boolean mapped(ChunkCache cache, FileEntry e, boolean sendfile) {
        if (cache == null || !cache.covers(e)) return false;
        return !sendfile || e.size() < sendfileMin || e.size() > sendfileMax;
    }
}
