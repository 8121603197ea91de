package flash.net;

import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * The one seam through which the pipeline does anything that may block: disk reads, path translation, and
 * later process spawning, pipes, DNS and log writes. Each architecture decides where the work runs: SPED, MT,
 * VT and MP run it inline on the calling thread; AMPED hands it to a helper thread and delivers the result back
 * on the connection's own event loop, as just another event.
 */
public interface BlockingSeam {
    /** A blocking operation; it must not touch the connection (it may run on another thread). */
    @FunctionalInterface
    interface Task<T> {
        T run() throws Exception;
    }

    /** Runs {@code task}, then calls {@code then} with its result or failure on the connection's thread. */
    <T> void run(Task<T> task, Consumer<Outcome<T>> then);

    /**
     * Where blocking work that no connection waits for goes (reading a file's evicted pages back into the page cache):
     * AMPED's helpers, posting nothing back; the other architectures run it on the calling thread, as they run all
     * blocking work.
     */
    default Executor detached() { return Runnable::run; }

    /** Whether file data must be known resident before the connection's thread may send it (AMPED only). */
    default boolean checksResidency() { return false; }

    /** The result of a task: a value, or the exception it threw. */
    record Outcome<T>(T value, Throwable failure) {
        public boolean ok() { return failure == null; }
    }

    /** SPED, MT, VT, MP: blocking work runs right here. */
    BlockingSeam INLINE = new BlockingSeam() {
        @Override
        public <T> void run(Task<T> task, Consumer<Outcome<T>> then) {
            Outcome<T> o;
            try {
                o = new Outcome<>(task.run(), null);
            } catch (Exception e) {
                o = new Outcome<>(null, e);
            }
            then.accept(o);
        }
    };
}
