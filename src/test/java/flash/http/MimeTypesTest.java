package flash.http;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

class MimeTypesTest {
    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
            "index.html     | text/html; charset=utf-8",
            "INDEX.HTM      | text/html; charset=utf-8",
            "style.css      | text/css; charset=utf-8",
            "app.js         | text/javascript; charset=utf-8",
            "notes.txt      | text/plain; charset=utf-8",
            "data.json      | application/json; charset=utf-8",
            "logo.svg       | image/svg+xml; charset=utf-8",
            "photo.png      | image/png",
            "doc.pdf        | application/pdf",
            "module.wasm    | application/wasm",
            "archive.tar.gz | application/gzip",
            "README         | application/octet-stream",
            "file.          | application/octet-stream",
            ".hidden        | application/octet-stream",
            "x.unknownext   | application/octet-stream",
    })
    void typeByExtension(String name, String type) {
        assertThat(MimeTypes.forFileName(name)).isEqualTo(type);
    }
}
