package flash.pipeline;

import flash.content.ChunkCache;
import flash.content.FileEntry;
import flash.net.Transport;

/**
 * Which way a file body larger than the in-memory bound leaves: mapped chunks (written with writev, the bytes
 * copied from the mapping into the socket) or a region of the open file (sendfile, no copy through user space).
 * Decided per response by the file's size and the connection's transport (docs/performance.md section 13):
 * <ul>
 *   <li>a transport without sendfile (TLS, which must encrypt the bytes itself) takes mapped chunks where the
 *       mapped-file cache covers the file: the engine reads the mapping directly, where a file region would be read
 *       into a buffer first;</li>
 *   <li>a non-blocking plain socket (the event loops: amped, sped) sends a file body of {@link #sendfileMin()} to
 *       {@link #sendfileMax()} bytes (default: above the in-memory bound up to 1 MiB), and every body the mapped
 *       cache does not cover (above 3/32 of --cache-mb), by sendfile, the head written just before it with MSG_MORE;
 *       between the two, mapped chunks measured cheaper on the loop;</li>
 *   <li>a blocking socket (mt, vt, mp) keeps mapped chunks unless {@link #sendfileBlocking()}: there sendfile goes
 *       through the JDK's transferTo (an extra failing copy_file_range per call), and a virtual thread's full socket
 *       turns it into 16 KiB copies.</li>
 * </ul>
 * The bounds are system properties, read when the server starts, so the lead can A/B them without new CLI options:
 * {@code -Dflash.sendfileMin=BYTES} (default 0: every body the in-memory copy does not hold),
 * {@code -Dflash.sendfileMax=BYTES} (default 1 MiB: larger files the mapped cache covers are mapped) and
 * {@code -Dflash.sendfileBlocking=true}. {@code -Dflash.sendfileMin=} a value above {@code flash.mapMax} restores
 * the previous behaviour (mapped up to mapMax, sendfile above); {@code -Dflash.sendfileMax=9223372036854775807}
 * sends every body above the in-memory bound by sendfile.
 */
public record BodyPath(long sendfileMin, long sendfileMax, boolean sendfileBlocking) {
    /**
     * The defaults: on non-blocking plain sockets, bodies the in-memory copy does not hold go by sendfile up to 1 MiB
     * (one sendfile chunk); larger files the mapped cache covers stay mapped, where the loop's CPU per response
     * measured lower (2 and 4 MiB; docs/performance.md section 13); blocking sockets keep the mapped chunks.
     */
    public static final BodyPath DEFAULT = new BodyPath(0, 1L << 20, false);
    /** The previous rule, for tests of the mapped path on plain sockets: mapped wherever the file cache covers. */
    public static final BodyPath MAPPED = new BodyPath(Long.MAX_VALUE, Long.MAX_VALUE, false);

    /**
     * From {@code -Dflash.sendfileMin} (smallest file that goes by sendfile on a transport that supports it; smaller
     * non-memory files are mapped), {@code -Dflash.sendfileMax} (larger files the mapped cache covers are mapped
     * again: the band where mapping measured cheaper on the loop, if any) and {@code -Dflash.sendfileBlocking}
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
