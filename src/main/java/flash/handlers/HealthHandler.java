package flash.handlers;

import flash.http.Request;
import flash.http.ResponseHead;
import flash.http.Status;
import flash.pipeline.Exchange;
import flash.pipeline.Handler;
import flash.pipeline.Responder;
import flash.pipeline.Response;
import flash.pipeline.Segment;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * The load balancer's health check ({@code --health-path}): 200 while the server serves, 503 from the moment a drain
 * begins (SIGTERM, then the {@code --drain-delay} during which everything else is still served normally), so the
 * balancer stops sending before the listener closes. Never cached by anyone ({@code no-store}): a cached 200 would hide
 * the drain. GET and HEAD.
 */
public final class HealthHandler implements Handler {
    private static final byte[] OK = "ok\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DRAINING = "draining\n".getBytes(StandardCharsets.US_ASCII);

    private final BooleanSupplier draining;

    public HealthHandler(BooleanSupplier draining) { this.draining = draining; }

    @Override
    public void handle(Exchange ex) {
        Request req = ex.request();
        if (Responder.refused(ex)) return;
        boolean down = draining.getAsBoolean();
        if (down) ex.failedBecause(flash.pipeline.ErrorCause.DRAINING, "draining"); // asked for: counted, not logged
        Status status = down ? Status.SERVICE_UNAVAILABLE : Status.OK;
        byte[] body = down ? DRAINING : OK;
        ResponseHead h = new ResponseHead(status, req.http10())
                .header("Content-Type", "text/plain; charset=utf-8")
                .header("Content-Length", body.length)
                .header("Cache-Control", "no-store")
                .connection(req.http10(), !req.keepAlive());
        // HEAD: the connection sends the head only, as for every other response.
        ex.respond(new Response(status, ByteBuffer.wrap(h.finish()), List.of(new Segment.Bytes(ByteBuffer.wrap(body))),
                body.length, !req.keepAlive()));
    }
}
