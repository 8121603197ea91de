package flash.net;

/** A handler's place on its driver: what it waits for next. Owned by the handler's thread. */
public interface Registration {
    int READ = java.nio.channels.SelectionKey.OP_READ;
    int WRITE = java.nio.channels.SelectionKey.OP_WRITE;

    /** Wait for these operations next ({@link #READ}, {@link #WRITE}, both, or 0 for none). */
    void interest(int ops);

    /** Removes the handler from its driver (it does not close the channel). */
    void cancel();
}
