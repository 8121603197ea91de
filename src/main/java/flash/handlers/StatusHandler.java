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
import java.util.function.Supplier;

/** A generated text page at a configured path: the Prometheus counters ({@code --status-path}). GET and HEAD. */
public final class StatusHandler implements Handler {
    private final Supplier<String> render;

    public StatusHandler(Supplier<String> render) { this.render = render; }

    @Override
    public void handle(Exchange ex) {
        Request req = ex.request();
        if (Responder.refused(ex)) return;
        byte[] body = render.get().getBytes(StandardCharsets.UTF_8);
        ResponseHead h = new ResponseHead(Status.OK, req.http10())
                .header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                .header("Content-Length", body.length)
                .header("Cache-Control", "no-store")
                .connection(req.http10(), !req.keepAlive());
        // HEAD: the connection sends the head only, as for every other response.
        ex.respond(new Response(Status.OK, ByteBuffer.wrap(h.finish()), List.of(new Segment.Bytes(ByteBuffer.wrap(body))),
                body.length, !req.keepAlive()));
    }
}
