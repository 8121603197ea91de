package flash.cgi;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CgiOutputParserTest {
    private static final int MAX = 16 * 1024;

    /** Parses {@code out} whole, and split at every byte; every way must give the same result and body start. */
    private static CgiOutputParser.Result parse(String out) throws CgiOutputException {
        byte[] bytes = out.getBytes(StandardCharsets.ISO_8859_1);
        CgiOutputParser.Result whole = null;
        String wholeBody = null;
        for (int split = 0; split <= bytes.length; split++) {
            CgiOutputParser p = new CgiOutputParser(MAX);
            ByteBuffer a = ByteBuffer.wrap(bytes, 0, split);
            CgiOutputParser.Result r = p.feed(a);
            ByteBuffer rest;
            if (r != null) {
                rest = ByteBuffer.wrap(bytes, a.position(), bytes.length - a.position());
            } else {
                assertThat(a.hasRemaining()).isFalse();
                rest = ByteBuffer.wrap(bytes, split, bytes.length - split);
                r = p.feed(rest);
            }
            if (r == null) {
                p.endOfInput(); // throws
                throw new AssertionError("unreachable");
            }
            String body = StandardCharsets.ISO_8859_1.decode(rest).toString();
            if (whole == null) {
                whole = r;
                wholeBody = body;
            } else {
                assertThat(r).as("split at %d", split).isEqualTo(whole);
                assertThat(body).as("split at %d", split).isEqualTo(wholeBody);
            }
        }
        return whole;
    }

    /** One byte at a time; returns the body bytes left after the block. */
    private static String bodyAfter(String out) throws CgiOutputException {
        byte[] bytes = out.getBytes(StandardCharsets.ISO_8859_1);
        CgiOutputParser p = new CgiOutputParser(MAX);
        for (int i = 0; i < bytes.length; i++) {
            if (p.feed(ByteBuffer.wrap(bytes, i, 1)) != null) {
                return new String(bytes, i + 1, bytes.length - i - 1, StandardCharsets.ISO_8859_1);
            }
        }
        p.endOfInput();
        throw new AssertionError("unreachable");
    }

    private static void malformed(String out, String reasonPart) {
        assertThatThrownBy(() -> parse(out)).isInstanceOf(CgiOutputException.class).hasMessageContaining(reasonPart);
    }

    @Test
    void contentTypeAndBody_LF() throws Exception {
        var r = parse("Content-Type: text/plain\n\nhello\n");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.reason()).isEqualTo("OK");
        assertThat(r.contentType()).isEqualTo("text/plain");
        assertThat(r.contentLength()).isEqualTo(-1);
        assertThat(r.localRedirect()).isNull();
        assertThat(r.fields()).containsExactly(new CgiOutputParser.Field("Content-Type", "text/plain"));
        assertThat(bodyAfter("Content-Type: text/plain\n\nhello\n")).isEqualTo("hello\n");
    }

    @Test
    void crlfAndMixedLineEndings() throws Exception {
        var crlf = parse("Content-Type: text/html\r\nX-A: 1\r\n\r\nbody");
        var mixed = parse("Content-Type: text/html\nX-A: 1\r\n\nbody");
        assertThat(crlf).isEqualTo(mixed);
        assertThat(bodyAfter("Content-Type: text/html\r\nX-A: 1\r\n\r\nbody")).isEqualTo("body");
        assertThat(bodyAfter("Content-Type: text/html\nX-A: 1\r\n\nbody")).isEqualTo("body");
        assertThat(bodyAfter("Content-Type: a/b\r\n\r\n\r\nx")).isEqualTo("\r\nx");
    }

    @Test
    void statusWithAndWithoutReason() throws Exception {
        var r = parse("Status: 404 Not Here\nContent-Type: text/plain\n\n");
        assertThat(r.status()).isEqualTo(404);
        assertThat(r.reason()).isEqualTo("Not Here");
        assertThat(r.fields()).extracting(CgiOutputParser.Field::name).containsExactly("Content-Type");
        var bare = parse("Status: 410\n\n");
        assertThat(bare.status()).isEqualTo(410);
        assertThat(bare.reason()).isEqualTo("Gone");
        assertThat(bare.contentType()).isNull();
        assertThat(parse("status:   503   Busy now  \n\n").reason()).isEqualTo("Busy now");
    }

    @Test
    void absoluteLocationIs302() throws Exception {
        var r = parse("Location: https://example.com/x?y\n\n");
        assertThat(r.status()).isEqualTo(302);
        assertThat(r.reason()).isEqualTo("Found");
        assertThat(r.localRedirect()).isNull();
        assertThat(r.head().get("Location")).isEqualTo("https://example.com/x?y");
    }

    @Test
    void absoluteLocationWithStatusKeepsIt() throws Exception {
        var r = parse("Status: 301 Moved\nLocation: http://a/\nContent-Type: text/html\n\n<a>");
        assertThat(r.status()).isEqualTo(301);
        assertThat(r.localRedirect()).isNull();
    }

    @Test
    void localLocationIsLocalRedirect() throws Exception {
        var r = parse("Location: /other/page?a=1\n\n");
        assertThat(r.localRedirect()).isEqualTo("/other/page?a=1");
        assertThat(r.status()).isEqualTo(200);
        var withStatus = parse("Status: 303 See Other\nLocation: /done\n\n");
        assertThat(withStatus.localRedirect()).isNull();
        assertThat(withStatus.status()).isEqualTo(303);
        // a network-path reference is not local: the client gets it
        var network = parse("Location: //elsewhere.example/\n\n");
        assertThat(network.localRedirect()).isNull();
        assertThat(network.status()).isEqualTo(302);
    }

    @Test
    void localRedirectWithBodyIsMalformed() throws Exception {
        var r = parse("Location: /x\n\n");
        assertThatThrownBy(r::checkBody).isInstanceOf(CgiOutputException.class);
    }

    @Test
    void bodyWithoutContentTypeIsMalformed() throws Exception {
        var r = parse("X-A: 1\n\n");
        assertThatThrownBy(r::checkBody).isInstanceOf(CgiOutputException.class).hasMessageContaining("Content-Type");
        parse("Content-Type: a/b\n\n").checkBody();
    }

    @Test
    void setCookieFieldsStayApart() throws Exception {
        var r = parse("Content-Type: text/plain\nSet-Cookie: a=1; Path=/\nSet-Cookie: b=2, c=3\n\n");
        assertThat(r.fields()).containsExactly(
                new CgiOutputParser.Field("Content-Type", "text/plain"),
                new CgiOutputParser.Field("Set-Cookie", "a=1; Path=/"),
                new CgiOutputParser.Field("Set-Cookie", "b=2, c=3"));
        var h = r.head();
        assertThat(h.size()).isEqualTo(3);
    }

    @Test
    void contentLengthIsReportedNotPassed() throws Exception {
        var r = parse("Content-Type: a/b\nContent-Length: 5\nContent-Length: 5\n\nhello");
        assertThat(r.contentLength()).isEqualTo(5);
        assertThat(r.fields()).extracting(CgiOutputParser.Field::name).containsExactly("Content-Type");
        malformed("Content-Type: a/b\nContent-Length: 5\nContent-Length: 6\n\n", "conflicting");
        malformed("Content-Type: a/b\nContent-Length: -1\n\n", "Content-Length");
        malformed("Content-Type: a/b\nContent-Length: 1 2\n\n", "Content-Length");
        malformed("Content-Type: a/b\nContent-Length: \n\n", "Content-Length");
    }

    @Test
    void hopByHopDateAndServerDropped() throws Exception {
        var r = parse("Content-Type: a/b\nConnection: close\nTransfer-Encoding: chunked\nKeep-Alive: 5\nDate: x\n"
                + "Server: evil\nTE: trailers\nTrailer: X\nUpgrade: h2c\nProxy-Connection: x\nX-Kept: y\n\n");
        assertThat(r.fields()).extracting(CgiOutputParser.Field::name).containsExactly("Content-Type", "X-Kept");
    }

    @Test
    void valuesAreTrimmedAndMayBeEmpty() throws Exception {
        var r = parse("Content-Type:text/plain\nX-Empty:\nX-Tab:\t v \t\n\n");
        assertThat(r.fields()).containsExactly(
                new CgiOutputParser.Field("Content-Type", "text/plain"),
                new CgiOutputParser.Field("X-Empty", ""),
                new CgiOutputParser.Field("X-Tab", "v"));
    }

    @Test
    void headIncludesStatusAndFields() throws Exception {
        var h = parse("Status: 201 Created\nContent-Type: a/b\nX: 1\n\n").head();
        assertThat(h.status()).isEqualTo(201);
        assertThat(h.reason()).isEqualTo("Created");
        assertThat(h.get("Content-Type")).isEqualTo("a/b");
        assertThat(h.get("X")).isEqualTo("1");
        assertThat(h.get("Status")).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "HTTP/1.1 200 OK\nContent-Type: a/b\n\n",       // NPH
            "Content-Type: a/b\n X-Fold: y\n\n",             // obs-fold
            "Content-Type: a/b\n\tX-Fold: y\n\n",
            "Content-Type : a/b\n\n",                        // space before colon
            "Content-Type\n\n",                              // no colon
            ": v\n\n",                                       // empty name
            "X(bad): v\nContent-Type: a/b\n\n",              // not a token
            "Content-Type: a/b\rX-Smuggled: 1\n\n",          // bare CR in a value
            "Content-Type: a/b\nX\r: 1\n\n",                 // CR in a name
            "Content-Type: a\u0000b\n\n",                    // control character
            "Content-Type: a\u007fb\n\n",
            "Status: 99 Low\n\n",
            "Status: 100 Continue\n\n",
            "Status: 600 High\n\n",
            "Status: 2000\n\n",
            "Status: abc\n\n",
            "Status: 20\n\n",
            "Status: 200 OK\nStatus: 404 Not Found\n\n",
            "Location: /a\nLocation: /b\n\n",
            "Content-Type: a/b\nContent-Type: c/d\n\n",
            "Location: relative/path\n\n",
            "Location:\n\n",
            "Content-Type:\n\n",
            "\n",                                            // empty block
            "\r\n",
            "Connection: close\n\n",                         // nothing left but dropped fields
    })
    void malformedBlocks(String out) {
        assertThatThrownBy(() -> parse(out)).isInstanceOf(CgiOutputException.class);
    }

    @Test
    void truncatedBlockIsMalformedAtEof() throws Exception {
        CgiOutputParser p = new CgiOutputParser(MAX);
        assertThat(p.feed(ByteBuffer.wrap("Content-Type: a/b\n".getBytes(StandardCharsets.US_ASCII)))).isNull();
        assertThatThrownBy(p::endOfInput).isInstanceOf(CgiOutputException.class).hasMessageContaining("ended");
        CgiOutputParser none = new CgiOutputParser(MAX);
        assertThatThrownBy(none::endOfInput).isInstanceOf(CgiOutputException.class).hasMessageContaining("no output");
    }

    @Test
    void endOfInputAfterResultIsFine() throws Exception {
        CgiOutputParser p = new CgiOutputParser(MAX);
        assertThat(p.feed(ByteBuffer.wrap("Status: 204\n\n".getBytes(StandardCharsets.US_ASCII)))).isNotNull();
        p.endOfInput();
        assertThatThrownBy(() -> p.feed(ByteBuffer.allocate(1))).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void blockSizeIsBounded() throws Exception {
        String field = "X-Pad: " + "a".repeat(90) + "\n"; // 98 bytes
        StringBuilder b = new StringBuilder("Content-Type: a/b\n");    // 18 bytes
        while (b.length() + field.length() <= 199) b.append(field);
        b.append("\n");
        int exact = b.length();
        CgiOutputParser fits = new CgiOutputParser(exact);
        assertThat(fits.feed(ByteBuffer.wrap(b.toString().getBytes(StandardCharsets.US_ASCII)))).isNotNull();
        CgiOutputParser tooSmall = new CgiOutputParser(exact - 1);
        assertThatThrownBy(() -> tooSmall.feed(ByteBuffer.wrap(b.toString().getBytes(StandardCharsets.US_ASCII))))
                .isInstanceOf(CgiOutputException.class).hasMessageContaining("larger");
        // a script that never ends its block fails once past the bound, without waiting for the end
        CgiOutputParser endless = new CgiOutputParser(1024);
        byte[] junk = new byte[600];
        java.util.Arrays.fill(junk, (byte) 'a');
        assertThat(endless.feed(ByteBuffer.wrap(junk))).isNull();
        assertThatThrownBy(() -> endless.feed(ByteBuffer.wrap(junk))).isInstanceOf(CgiOutputException.class);
        // and stays failed
        assertThatThrownBy(() -> endless.feed(ByteBuffer.wrap(junk))).isInstanceOf(CgiOutputException.class);
    }

    @Test
    void tooManyFields() {
        StringBuilder b = new StringBuilder("Content-Type: a/b\n");
        for (int i = 0; i < CgiOutputParser.MAX_FIELDS; i++) b.append("X-").append(i).append(": v\n");
        b.append('\n');
        assertThatThrownBy(() -> new CgiOutputParser(MAX).feed(ByteBuffer.wrap(b.toString().getBytes(StandardCharsets.US_ASCII))))
                .isInstanceOf(CgiOutputException.class).hasMessageContaining("fields");
    }

    @Test
    void latin1ValuesSurvive() throws Exception {
        var r = parse("Content-Type: a/b\nX-Name: caf\u00e9\n\n");
        assertThat(r.fields().get(1).value()).isEqualTo("caf\u00e9");
        assertThat(r.fields()).hasSize(2);
        assertThat(List.copyOf(r.fields())).isEqualTo(r.fields());
    }
}
