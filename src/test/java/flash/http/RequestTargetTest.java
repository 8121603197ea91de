package flash.http;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Path normalisation: decode once, strict UTF-8, remove dot segments, refuse anything that could escape. */
class RequestTargetTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
            "/                     | /",
            "/index.html           | /index.html",
            "/a/b/c                | /a/b/c",
            "/a/b/                 | /a/b/",
            "//a///b               | /a/b",
            "/./a/./b/.            | /a/b/",
            "/a/../b               | /b",
            "/a/b/../../c          | /c",
            "/a/..                 | /",
            "/a/b/..               | /a/",
            "/a/%2e%2e/b           | /b",
            "/a/.%2e/b             | /b",
            "/a/%2E./b             | /b",
            "/%2e                  | /",
            "/%61%62               | /ab",
            "/caf%C3%A9            | /café",
            "/%252e%252e           | /%2e%2e",
            "/a%20b                | /a b",
            "/%ef%bc%8e%ef%bc%8e   | /．．",
            "/...                  | /...",
            "/a..                  | /a..",
            "/a/b;x=1              | /a/b;x=1",
    })
    void normalises(String raw, String expected) {
        assertThat(RequestTarget.normalize(raw)).isInstanceOfSatisfying(RequestTarget.Normalized.class,
                n -> assertThat(n.path()).isEqualTo(expected));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "", "a", "*", "/..", "/../", "/../a", "/a/../..", "/a/../../b", "/%2e%2e", "/.%2e/a", "/%2E%2E/",
            "/a%2fb", "/a%2Fb", "/%2f", "/a\\b", "/a%5cb", "/a%5Cb", "/%00", "/a%00.html", "/%0d%0a", "/%1f", "/%7f",
            "/%", "/%2", "/%g0", "/%0g", "/%u002e", "/a%", "/caf\u00e9",
            "/%c0%ae%c0%ae", "/%c0%af", "/%c1%9c", "/%e0%80%ae", "/%f0%80%80%ae", "/%ff", "/%c3", "/%ed%a0%80",
            "/%f4%90%80%80",
    })
    void refuses(String raw) {
        assertThat(RequestTarget.normalize(raw)).isInstanceOfSatisfying(BadRequest.class,
                b -> assertThat(b.status()).isEqualTo(Status.BAD_REQUEST));
    }

    @Test
    void segmentsAndSlashAreReported() {
        var n = (RequestTarget.Normalized) RequestTarget.normalize("/a//b/./c/");
        assertThat(n.segments()).isEqualTo(List.of("a", "b", "c"));
        assertThat(n.trailingSlash()).isTrue();
        assertThat(((RequestTarget.Normalized) RequestTarget.normalize("/")).trailingSlash()).isTrue();
        assertThat(((RequestTarget.Normalized) RequestTarget.normalize("/x")).trailingSlash()).isFalse();
    }

    @Test
    void dotSegmentsAreDetected() {
        assertThat(((RequestTarget.Normalized) RequestTarget.normalize("/a/.git/config")).hasDotSegment()).isTrue();
        assertThat(((RequestTarget.Normalized) RequestTarget.normalize("/%2ehidden")).hasDotSegment()).isTrue();
        assertThat(((RequestTarget.Normalized) RequestTarget.normalize("/a.b/c.d")).hasDotSegment()).isFalse();
    }

    @Test
    void decodingHappensExactlyOnce() {
        // Normalising the output again must not change it: a second decode would turn %2e%2e into "..".
        for (String raw : List.of("/%252e%252e/x", "/%2525", "/a%2520b", "/%25c0%25ae")) {
            String once = ((RequestTarget.Normalized) RequestTarget.normalize(raw)).path();
            assertThat(once).contains("%");
            assertThat(((RequestTarget.Normalized) RequestTarget.normalize(RequestTarget.encodePath(once))).path()).isEqualTo(once);
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
            "/a b/c     | /a%20b/c",
            "/café      | /caf%C3%A9",
            "/%2e%2e    | /%252e%252e",
            "/a?b#c     | /a%3Fb%23c",
            "/x-._~!$&'()*+,;=:@ | /x-._~!$&'()*+,;=:@",
    })
    void encodesPathsForLocationHeaders(String path, String expected) {
        assertThat(RequestTarget.encodePath(path)).isEqualTo(expected);
    }

    /**
     * Every path of up to eight characters over '/', '.' and 'a' (3^7 after the leading slash) normalises as the
     * general algorithm below does, whether or not the clean-path shortcut took it: same path, trailing slash and
     * segments, or the same refusal.
     */
    @Test
    void theCleanPathShortcutAgreesWithTheGeneralAlgorithmOnEveryShortPath() {
        char[] alphabet = {'/', '.', 'a'};
        int checked = 0, clean = 0;
        for (int len = 0; len <= 7; len++) {
            int combos = (int) Math.pow(3, len);
            for (int k = 0; k < combos; k++) {
                StringBuilder sb = new StringBuilder("/");
                for (int i = 0, x = k; i < len; i++, x /= 3) sb.append(alphabet[x % 3]);
                String raw = sb.toString();
                Object got = RequestTarget.normalize(raw);
                Object want = reference(raw);
                if (want == null) {
                    assertThat(got).as(raw).isInstanceOf(BadRequest.class);
                } else {
                    var n = (RequestTarget.Normalized) got;
                    var w = (RequestTarget.Normalized) want;
                    assertThat(n.path()).as(raw).isEqualTo(w.path());
                    assertThat(n.trailingSlash()).as(raw).isEqualTo(w.trailingSlash());
                    assertThat(n.segments()).as(raw).isEqualTo(w.segments());
                    assertThat(n.hasDotSegment()).as(raw).isEqualTo(w.segments().stream().anyMatch(s -> s.startsWith(".")));
                    assertThat(n).as(raw).isEqualTo(w);
                }
                if (RequestTarget.clean(raw)) clean++;
                checked++;
            }
        }
        assertThat(checked).isEqualTo(3280);
        assertThat(clean).as("the shortcut was taken for some paths and not for others").isBetween(100, 3000);
    }

    /** RFC 3986 dot-segment removal over split segments, without shortcuts; null when ".." climbs above the root. */
    private static RequestTarget.Normalized reference(String text) {
        java.util.ArrayList<String> segs = new java.util.ArrayList<>();
        for (String s : text.substring(1).split("/", -1)) {
            if (s.isEmpty() || s.equals(".")) continue;
            if (s.equals("..")) {
                if (segs.isEmpty()) return null;
                segs.removeLast();
            } else {
                segs.add(s);
            }
        }
        boolean slash = text.endsWith("/") || text.endsWith("/.") || text.endsWith("/..") || segs.isEmpty();
        String path = "/" + String.join("/", segs) + (slash && !segs.isEmpty() ? "/" : "");
        var n = new RequestTarget.Normalized(path, slash);
        assertThat(n.segments()).isEqualTo(segs);
        return n;
    }

    @Test
    void aCleanPathIsTheRequestsOwnString() {
        String raw = "/images/logo.png";
        assertThat(((RequestTarget.Normalized) RequestTarget.normalize(raw)).path()).isSameAs(raw);
    }
}
