package flash.pipeline;

import flash.http.Request;
import flash.http.RequestTarget;

/** A generated page served at a configured path (the Prometheus counters); implemented by the dispatch layer. */
public interface StatusPage {
    boolean matches(RequestTarget.Normalized target);

    Response respond(Request request);
}
