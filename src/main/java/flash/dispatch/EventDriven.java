package flash.dispatch;

import flash.config.Architecture;
import flash.net.Adopter;
import flash.net.EventLoop;
import flash.net.BlockingSeam;
import flash.net.LoopStats;
import flash.pipeline.PipelineContext;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;

/**
 * AMPED and SPED: N event loops, connections spread round-robin. The only difference is the disk seam:
 * AMPED sends disk work to helpers and tests residency before sending file data; SPED runs it inline.
 */
public final class EventDriven implements Dispatcher {
    private final List<EventLoop> loops = new ArrayList<>();
    private final HelperPool helpers;
    private int next;

    public EventDriven(PipelineContext ctx, Architecture arch, Adopter adopter, Runnable onConnectionClosed) {
        int n = Math.max(1, ctx.config().loops());
        this.helpers = arch == Architecture.AMPED ? new HelperPool(Math.max(1, ctx.config().helpers())) : null;
        try {
            for (int i = 0; i < n; i++) {
                boolean amped = helpers != null;
                // A read buffer holds the largest head the parser accepts, rounded up to a power of two.
                int bufferSize = Integer.highestOneBit(ctx.config().limits().maxHeadBytes() - 1) << 1;
                loops.add(new EventLoop("flash-loop-" + i, bufferSize, adopter,
                        loop -> amped ? new AmpedSeam(loop, helpers) : BlockingSeam.INLINE, amped, onConnectionClosed));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open a Selector", e);
        }
    }

    @Override public void start() { loops.forEach(EventLoop::start); }

    @Override
    public void adopt(SocketChannel ch) {
        EventLoop loop = loops.get(next);
        next = (next + 1) % loops.size(); // only the acceptor thread calls adopt
        loop.adopt(ch);
    }

    @Override public void drain() { loops.forEach(EventLoop::drain); }

    @Override public int openConnections() { return loops.stream().mapToInt(EventLoop::connectionCount).sum(); }

    @Override
    public void stop() {
        loops.forEach(EventLoop::stop);
        for (EventLoop l : loops) {
            try {
                l.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (helpers != null) helpers.stop();
    }

    @Override public List<LoopStats> stats() { return loops.stream().map(EventLoop::stats).toList(); }

    @Override public HelperPool helpers() { return helpers; }
}
