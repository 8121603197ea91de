package flash.amped;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import flash.config.ServerConfig;
import flash.sys.DiskGuard;
import flash.content.FileEntry;
import flash.content.PathCache;
import flash.content.PathTranslator;
import flash.content.Translation;
import flash.http.RequestTarget;
import flash.net.EventLoop;
import flash.net.PlainTransport;
import flash.pipeline.Http1Connection;
import flash.pipeline.Router;
import flash.handlers.StaticHandler;
import java.util.List;
import flash.net.BlockingSeam;
import flash.pipeline.PipelineContext;
import flash.testing.RawClient;

import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The AMPED invariant, enforced: a loop thread that calls a blocking file operation fails loudly. The whole suite
 * runs with -Dflash.invariants=true, so every AMPED test doubles as a check that the loops never block.
 */
class InvariantTest {
    @TempDir Path root;

    @BeforeEach
    void enabled() { assumeTrue(DiskGuard.enabled(), "run with -Dflash.invariants=true (surefire sets it)"); }

    @Test
    void translatingOnAMarkedThreadThrows() throws Exception {
        Http.write(root.resolve("x.txt"), 10, 1);
        PipelineContext ctx = new PipelineContext(ServerConfig.defaults(root), null);
        RequestTarget.Normalized target = (RequestTarget.Normalized) RequestTarget.normalize("/x.txt");
        CompletableFuture<Throwable> thrown = new CompletableFuture<>();
        Thread.ofPlatform().start(() -> {
            DiskGuard.forbidBlockingOnThisThread();
            try {
                ctx.translator().translate(target);
                thrown.complete(null);
            } catch (Throwable e) {
                thrown.complete(e);
            }
        });
        assertThat(thrown.get(10, TimeUnit.SECONDS)).isInstanceOf(DiskGuard.BlockingOnLoopError.class);
        // the same call on an unmarked thread (a helper) is fine
        assertThat(ctx.translator().translate(target)).isNotNull();
        ctx.close();
    }

    /**
     * Issue #11's unheld entries: a loop reads one itself (openat2 RESOLVE_CACHED, fstat, preadv2 RWF_NOWAIT, close:
     * none can wait for the disk), so the invariant lets it, and still fails the translation that would block.
     */
    @Test
    void anUnheldEntryIsReadOnAMarkedThreadAndATranslationThereStillThrows() throws Exception {
        assumeTrue(flash.sys.Native.available() && flash.sys.Native.fdAccess(), "needs the native layer");
        byte[] data = Http.write(root.resolve("x.txt"), 20_000, 1);
        PathTranslator translator = new PathTranslator(root, false, false, false, 64 * 1024);
        PathCache cache = new PathCache(100, 1, Long.MAX_VALUE); // a byte budget that holds nothing
        RequestTarget.Normalized target = (RequestTarget.Normalized) RequestTarget.normalize("/x.txt");
        Translation first = translator.translate(target);
        cache.put(target, first);
        ((Translation.Found) first).entry().release();
        assertThat(cache.unheldEntries()).isEqualTo(1);
        CompletableFuture<byte[]> served = new CompletableFuture<>();
        CompletableFuture<Throwable> thrown = new CompletableFuture<>();
        Thread.ofPlatform().start(() -> {
            DiskGuard.forbidBlockingOnThisThread();
            try {
                FileEntry e = ((Translation.Found) cache.lookup(target)).entry();
                java.nio.ByteBuffer b = e.body();
                byte[] out = new byte[b.remaining()];
                b.get(out);
                e.release();
                served.complete(out);
            } catch (Throwable t) {
                served.completeExceptionally(t);
            }
            try {
                translator.translate(target);
                thrown.complete(null);
            } catch (Throwable t) {
                thrown.complete(t);
            }
        });
        assertThat(served.get(10, TimeUnit.SECONDS)).isEqualTo(data);
        assertThat(cache.unheldHits.sum()).isEqualTo(1);
        assertThat(thrown.get(10, TimeUnit.SECONDS)).isInstanceOf(DiskGuard.BlockingOnLoopError.class);
        cache.clear();
    }

    /** A loop wired with the inline seam but marked as AMPED's (the bug this invariant exists for) must die loudly. */
    @Test
    void aLoopThatTranslatesInlineFailsLoudly() throws Exception {
        Http.write(root.resolve("x.txt"), 10, 1);
        PipelineContext ctx = new PipelineContext(ServerConfig.defaults(root), null);
        CompletableFuture<Throwable> died = new CompletableFuture<>();
        Thread.UncaughtExceptionHandler previous = Thread.getDefaultUncaughtExceptionHandler();
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> died.complete(e));
        ctx.router(new Router(List.of(), new StaticHandler(ctx)));
        EventLoop loop = new EventLoop("broken-loop", 32 * 1024,
                (ch, driver, reg) -> new Http1Connection(new PlainTransport(ch), driver, reg, ctx), l -> BlockingSeam.INLINE, true, () -> { });
        try (ServerSocketChannel listener = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0))) {
            loop.start();
            int port = ((InetSocketAddress) listener.getLocalAddress()).getPort();
            try (RawClient c = new RawClient(port)) {
                SocketChannel accepted = listener.accept();
                loop.adopt(accepted);
                c.send("GET /x.txt HTTP/1.1\r\nHost: t\r\n\r\n");
                // The first blocking step of a translation: registering its inotify watches (--revalidate watch,
                // the default), or the translation itself (stat mode).
                assertThat(died.get(10, TimeUnit.SECONDS)).isInstanceOf(DiskGuard.BlockingOnLoopError.class)
                        .hasMessageMatching("blocking disk operation '(watch|translate) /x.txt' on event-loop thread broken-loop");
                assertThat(c.closedByServer()).isTrue();
            }
        } finally {
            Thread.setDefaultUncaughtExceptionHandler(previous);
            loop.stop();
            loop.join(2000);
            ctx.close();
        }
    }
}
