package flash.compress;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

/** Accept-Encoding q-values and the choice among the codings on offer. */
class AcceptEncodingTest {
    private static final boolean[] ALL = {true, true, true};
    private static final boolean[] GZIP_ONLY = {false, false, true};

    private static String choose(String field, boolean[] offered) {
        Coding c = AcceptEncoding.parse(field).choose(offered);
        return c == null ? "identity" : c.token;
    }

    @ParameterizedTest(name = "[{0}] -> {1}")
    @CsvSource(delimiter = '|', nullValues = "NULL", value = {
            "NULL                               | identity",
            "''                                 | identity",
            "gzip                               | gzip",
            "x-gzip                             | gzip",
            "GZIP                               | gzip",
            "gzip, deflate, br, zstd            | br",        // equal q: the server's order (smallest first)
            "gzip, zstd                         | zstd",
            "gzip;q=1, br;q=0.5, zstd;q=0.8     | gzip",      // the highest q wins
            "br;q=0, gzip                       | gzip",      // q=0 excludes one
            "br;q=0, zstd;q=0, gzip;q=0         | identity",
            "*                                  | br",        // * offers every coding
            "*;q=0.5, gzip                      | gzip",
            "*, br;q=0                          | zstd",
            "*;q=0                              | identity",  // identity refused, nothing acceptable: identity anyway
            "gzip;q=0.5, identity               | identity",  // a named identity competes with its q
            "gzip, identity                     | gzip",      // ties go to the coding
            "identity;q=0, gzip;q=0.1           | gzip",
            "gzip;q=0.5                         | gzip",      // an unnamed identity is the last resort
            "deflate, compress                  | identity",  // codings Flash does not produce
            "gzip;q=2                           | identity",  // malformed q: the element is ignored
            "gzip;q=abc                         | identity",
            "gzip ; q=0.001                     | gzip",
            "gzip;q=0.0001                      | identity"})
    void choosesByQ(String field, String expected) {
        assertThat(choose(field, ALL)).isEqualTo(expected);
    }

    @Test
    void onlyWhatIsOfferedIsChosen() {
        assertThat(choose("br, zstd", GZIP_ONLY)).isEqualTo("identity");
        assertThat(choose("br, gzip;q=0.1", GZIP_ONLY)).isEqualTo("gzip");
        assertThat(choose("*", GZIP_ONLY)).isEqualTo("gzip");
        assertThat(choose("gzip", new boolean[3])).isEqualTo("identity");
    }

    @Test
    void qvalues() {
        assertThat(AcceptEncoding.qvalue("1")).isEqualTo(1000);
        assertThat(AcceptEncoding.qvalue("1.000")).isEqualTo(1000);
        assertThat(AcceptEncoding.qvalue("0.5")).isEqualTo(500);
        assertThat(AcceptEncoding.qvalue("0.25")).isEqualTo(250);
        assertThat(AcceptEncoding.qvalue("0")).isZero();
        assertThat(AcceptEncoding.qvalue("1.5")).isEqualTo(-1);
        assertThat(AcceptEncoding.qvalue("")).isEqualTo(-1);
        assertThat(AcceptEncoding.qvalue(".5")).isEqualTo(-1);
    }

    @Test
    void compressibleTypes() {
        assertThat(Compressible.type("text/html; charset=utf-8")).isTrue();
        assertThat(Compressible.type("text/javascript; charset=utf-8")).isTrue();
        assertThat(Compressible.type("application/json")).isTrue();
        assertThat(Compressible.type("application/wasm")).isTrue();
        assertThat(Compressible.type("image/svg+xml; charset=utf-8")).isTrue();
        assertThat(Compressible.type("application/atom+xml")).isTrue();
        assertThat(Compressible.type("font/ttf")).isTrue();
        assertThat(Compressible.type("font/woff2")).isFalse();
        assertThat(Compressible.type("font/woff")).isFalse();
        assertThat(Compressible.type("image/png")).isFalse();
        assertThat(Compressible.type("video/mp4")).isFalse();
        assertThat(Compressible.type("application/gzip")).isFalse();
        assertThat(Compressible.type("application/octet-stream")).isFalse();
        assertThat(Compressible.file("logo.svgz", "image/svg+xml; charset=utf-8")).isFalse();
        assertThat(Compressible.file("a.css.gz", "text/css")).isFalse();
    }

    @Test
    void onTheFlyEtagIsWeakAndPerCoding() {
        assertThat(CompressedCache.etag("\"1-2-3\"", Coding.GZIP)).isEqualTo("W/\"1-2-3-gzip\"");
        assertThat(CompressedCache.etag("\"1-2-3\"", Coding.ZSTD)).isEqualTo("W/\"1-2-3-zstd\"");
    }
}
