package flash.pipeline;

import flash.http.Status;

import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.Map;

/** Small HTML bodies for error and redirect responses, encoded once. */
final class ErrorPages {
    private static final Map<Status, byte[]> BODIES = new EnumMap<>(Status.class);
    static {
        for (Status s : Status.values()) {
            String text = s.code() + " " + s.reason();
            BODIES.put(s, ("<!DOCTYPE html>\n<html><head><title>" + text + "</title></head><body><h1>" + text
                    + "</h1></body></html>\n").getBytes(StandardCharsets.US_ASCII));
        }
    }

    private ErrorPages() {}

    /** Shared array: callers wrap it read-only and never modify it. */
    static byte[] body(Status s) { return BODIES.get(s); }
}
