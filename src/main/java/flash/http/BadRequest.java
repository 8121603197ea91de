package flash.http;

/**
 * Why a request was refused: the status to send, and a reason for the log and the error body.
 * Every refusal closes the connection: after bad framing we cannot know where the next request starts.
 */
public record BadRequest(Status status, String reason) implements ParseResult {
    public static BadRequest of(Status status, String reason) { return new BadRequest(status, reason); }
}
