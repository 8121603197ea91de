package flash.content;

import java.io.IOException;
import java.nio.channels.FileChannel;

/**
 * An open file shared by the responses that send from it (positional reads and transferTo need no lock).
 * Reference counted so that a cache can drop it while a transfer is still running: the descriptor is closed
 * when the last holder releases it, never earlier and never leaked.
 */
public final class FileHandle {
    private final FileChannel channel;
    private final RefCount refs = new RefCount();

    public FileHandle(FileChannel channel) { this.channel = channel; }

    public FileChannel channel() { return channel; }

    /** Takes one more reference; false if the handle is already closed (the caller must not use it). */
    public boolean retain() { return refs.retain(); }

    public void release() {
        if (refs.release()) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // closing a read-only descriptor cannot lose data
            }
        }
    }

    public boolean isOpen() { return refs.live(); }
}
