package flash.dispatch;

import flash.net.EventLoop;
import flash.net.BlockingSeam;

import java.util.concurrent.Executor;
import java.util.function.Consumer;

/** AMPED's seam: disk work goes to a helper; its completion comes back to the loop as an event. */
final class AmpedSeam implements BlockingSeam {
    private final EventLoop loop;
    private final HelperPool helpers;
    private final Executor detached;

    AmpedSeam(EventLoop loop, HelperPool helpers) {
        this.loop = loop;
        this.helpers = helpers;
        this.detached = task -> helpers.submit(() -> {
            try {
                task.run();
            } catch (Throwable e) {
                helpers.failed.increment(); // no request waits for it: counted, as a failed task is
            }
        });
    }

    @Override
    public <T> void run(Task<T> task, Consumer<Outcome<T>> then) {
        helpers.submit(() -> {
            Outcome<T> o;
            try {
                o = new Outcome<>(task.run(), null);
            } catch (Throwable e) {
                // An I/O error (EIO, a vanished file) fails this request only; the loop decides what to send.
                helpers.failed.increment();
                o = new Outcome<>(null, e);
            }
            Outcome<T> result = o;
            loop.execute(() -> then.accept(result));
        });
    }

    @Override
    public Executor detached() { return detached; }

    @Override
    public boolean checksResidency() { return true; }
}
