package flash.embed;

import flash.pipeline.Exchange;

import java.util.Set;

/**
 * The pipeline's side of an embedded route: each exchange gets a {@link Bridge} and the application's
 * {@link Handler} on a virtual thread; the connection's thread returns at once.
 */
final class EmbedRoute implements flash.pipeline.Handler {
    private final Handler handler;
    private final Set<Thread> running;

    EmbedRoute(Handler handler, Set<Thread> running) {
        this.handler = handler;
        this.running = running;
    }

    @Override
    public void handle(Exchange ex) {
        new Bridge(ex, running).start(handler);
    }
}
