package flash.net;

import flash.pipeline.HttpConnection;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Enforces header, idle and write timeouts for blocking connections: one daemon thread scans the watched
 * connections a few times a second and interrupts those past their deadline: it wakes the thread serving each
 * one out of its blocking read or write, and that thread answers, closes and releases (a timer only interrupts).
 */
public final class Watchdog {
    private static final long TICK_MS = 250;
    private final Set<HttpConnection> watched = ConcurrentHashMap.newKeySet();
    private final Thread thread;

    public Watchdog(String name) {
        this.thread = Thread.ofPlatform().name(name).daemon(true).unstarted(this::run);
    }

    public void start() { thread.start(); }

    public void stop() { thread.interrupt(); }

    public void watch(HttpConnection c) { watched.add(c); }

    public void forget(HttpConnection c) { watched.remove(c); }

    public Set<HttpConnection> connections() { return watched; }

    private void run() {
        while (!Thread.currentThread().isInterrupted()) {
            try {
                Thread.sleep(TICK_MS);
            } catch (InterruptedException e) {
                return;
            }
            long now = System.nanoTime();
            for (HttpConnection c : watched) {
                if (c.phase() != HttpConnection.Phase.BUSY && now - c.deadline() > 0) c.interrupt();
            }
        }
    }
}
