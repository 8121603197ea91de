package flash.cli;

import sun.misc.Signal;
import sun.misc.SignalHandler;

import java.util.logging.Logger;

/**
 * SIGTERM and SIGINT trigger a graceful stop. A signal handler (not a shutdown hook) so the process can
 * drain and then exit with status 0, as service managers expect of a clean stop.
 */
final class Signals {
    private Signals() {}

    static void onTermination(Runnable action) {
        Signal.handle(new Signal("TERM"), s -> action.run());
        Signal.handle(new Signal("INT"), s -> action.run());
    }

    /** SIGHUP and SIGUSR1 reopen the log files (logrotate's postrotate sends one of them). */
    static void onReopen(Runnable action) {
        onReopen(action, () -> { });
    }

    /**
     * SIGHUP and SIGUSR1 reopen the log files; SIGHUP then also runs {@code reload} (the config file), on a thread
     * of its own: a reload resolves upstream names, and the JVM's signal thread must not wait on DNS.
     */
    static void onReopen(Runnable reopen, Runnable reload) {
        SignalHandler before = Signal.handle(new Signal("HUP"), s -> {
            reopen.run();
            Thread.ofPlatform().name("flash-reload").start(reload);
        });
        // The JVM keeps a SIGHUP its parent ignored (nohup) ignored, silently: say so, or a reload is lost unseen.
        if (before == SignalHandler.SIG_IGN) {
            Logger.getLogger("flash.serve").warning("SIGHUP was ignored when Flash started (nohup?) and stays ignored: "
                    + "reload the config file by restarting; SIGUSR1 still reopens the logs");
        }
        Signal.handle(new Signal("USR1"), s -> reopen.run());
    }
}
