package flash.http;

/**
 * How an upstream response's body is delimited ({@link ResponseParser#framing}): a {@link BodyDecoder} to
 * read it with, or {@link UpstreamParse.Invalid} when the framing header fields are unusable.
 */
public sealed interface UpstreamFraming permits BodyDecoder, UpstreamParse.Invalid {}
