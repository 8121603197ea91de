package flash.listing;

import flash.config.Architecture;
import flash.testing.AllArchs;
import flash.testing.ArchServers;
import flash.testing.Http;
import flash.testing.Json;
import flash.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * --list-dirs as people and programs use it, with real requests under every architecture: directories first, sizes
 * and dates, sorting by plain links, escaping, only entries that would be served, and JSON on Accept.
 */
class DirectoryListingTest {
    private static final ArchServers SERVERS = new ArchServers(a -> TestServer.start(ListingFixture.root(), a,
            c -> c.withListDirs(true)));
    /** A name cell: the link and the text shown. */
    private static final Pattern NAME_CELL = Pattern.compile("<td class=\"n\"><a href=\"([^\"]*)\">([^<]*)</a></td>");

    @AfterAll
    static void stop() { SERVERS.close(); }

    private static String html(HttpResponse<byte[]> r) { return new String(r.body(), StandardCharsets.UTF_8); }

    /** The names listed, in order, unescaped, without the parent link and a directory's slash. */
    static List<String> names(String html) {
        List<String> out = new ArrayList<>();
        Matcher m = NAME_CELL.matcher(html);
        while (m.find()) {
            String shown = unescape(m.group(2));
            if (shown.equals("../")) continue;
            out.add(shown.endsWith("/") ? shown.substring(0, shown.length() - 1) : shown);
        }
        return out;
    }

    private static List<String> links(String html) {
        List<String> out = new ArrayList<>();
        Matcher m = NAME_CELL.matcher(html);
        while (m.find()) out.add(unescape(m.group(1)));
        return out;
    }

    private static String unescape(String s) {
        return s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&");
    }

    @AllArchs
    void htmlListsDirectoriesFirstWithSizesDatesAndNothingThatWould404(Architecture arch) throws Exception {
        HttpResponse<byte[]> r = Http.get(SERVERS.get(arch).uri("/"));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
        assertThat(r.headers().firstValue("Vary")).hasValue("Accept");
        String html = html(r);
        assertThat(names(html)).containsExactlyElementsOf(ListingFixture.BY_NAME);
        // Left out: a dotfile, a dead symlink, a symlink out of the root.
        assertThat(html).doesNotContain(".hidden", "dead", "escape.txt", "secret");
        // Sizes in human units (the exact count on hover), dates in UTC, directories without a size.
        assertThat(html).contains(">3.0 MiB<", "title=\"3145728 bytes\"", ">2.0 KiB<", ">10 B<", ">&mdash;<");
        assertThat(html).contains(">2022-01-01 12:30<", "datetime=\"2022-01-01T12:30:00Z\"");
        // Escaped as data, never markup; the style is inline and nothing is loaded from elsewhere.
        assertThat(html).contains("&lt;img src=x onerror=alert(1)&gt;.txt").doesNotContain("<img", "<script", "<link");
        assertThat(html).contains("<style>");
        // Plain links in the column headers; the root has no parent link.
        assertThat(html).contains("href=\"?sort=name&amp;order=desc\"", "href=\"?sort=size&amp;order=desc\"",
                "href=\"?sort=date&amp;order=desc\"");
        assertThat(links(html)).doesNotContain("../");
        assertThat(html).contains("2 directories, 6 files");
    }

    @AllArchs
    void everyListedLinkIsServed(Architecture arch) throws Exception {
        TestServer s = SERVERS.get(arch);
        try (HttpClient c = Http.client()) {
            List<String> links = links(html(Http.get(c, s.uri("/"))));
            assertThat(links).hasSize(ListingFixture.BY_NAME.size()).contains("./a:b.txt", "Zeta%20dir/",
                    "%3Cimg%20src=x%20onerror=alert(1)%3E.txt");
            for (String link : links) {
                HttpResponse<byte[]> r = Http.get(c, s.uri("/").resolve(link));
                assertThat(r.statusCode()).as(link).isEqualTo(200);
            }
            assertThat(Http.get(c, s.uri("/link-in.txt")).body()).hasSize(10);
        }
    }

    @AllArchs
    void sortsBySizeAndDateFromTheQuery(Architecture arch) throws Exception {
        TestServer s = SERVERS.get(arch);
        try (HttpClient c = Http.client()) {
            String bySize = html(Http.get(c, s.uri("/?sort=size&order=desc")));
            assertThat(names(bySize)).containsExactlyElementsOf(ListingFixture.BY_SIZE_DESC);
            // The sorted column's link reverses it; the others start from their natural first order.
            assertThat(bySize).contains("href=\"?sort=size&amp;order=asc\"", "href=\"?sort=name&amp;order=asc\"",
                    "aria-sort=\"descending\"");
            assertThat(names(html(Http.get(c, s.uri("/?sort=date&order=asc")))))
                    .containsExactlyElementsOf(ListingFixture.BY_DATE_ASC);
            List<String> reversed = new ArrayList<>(ListingFixture.BY_NAME.subList(2, ListingFixture.BY_NAME.size()).reversed());
            reversed.addAll(0, List.of("Zeta dir", "alpha"));
            assertThat(names(html(Http.get(c, s.uri("/?sort=name&order=desc"))))).containsExactlyElementsOf(reversed);
            // Parameters it does not know keep the default order rather than fail.
            HttpResponse<byte[]> odd = Http.get(c, s.uri("/?sort=colour&order=sideways&x"));
            assertThat(odd.statusCode()).isEqualTo(200);
            assertThat(names(html(odd))).containsExactlyElementsOf(ListingFixture.BY_NAME);
        }
    }

    @AllArchs
    void aSubdirectoryHasAParentLink(Architecture arch) throws Exception {
        String html = html(Http.get(SERVERS.get(arch).uri("/alpha/")));
        assertThat(links(html)).containsExactly("../", "inner.txt");
        assertThat(html).contains("Index of</span> /alpha/");
    }

    @AllArchs
    void jsonOnAcceptIsAnArrayOfNameTypeSizeMtime(Architecture arch) throws Exception {
        HttpResponse<byte[]> r = Http.get(SERVERS.get(arch).uri("/"), "Accept", "application/json");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(r.headers().firstValue("Vary")).hasValue("Accept");
        String body = new String(r.body(), StandardCharsets.UTF_8);
        assertPythonParses(body, ListingFixture.BY_NAME.size());
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> entries = (List<Map<String, Object>>) Json.parse(body);
        assertThat(entries).extracting(e -> e.get("name")).containsExactlyElementsOf(ListingFixture.BY_NAME);
        for (Map<String, Object> e : entries) {
            String name = (String) e.get("name");
            assertThat(e.keySet()).containsExactly("name", "type", "size", "mtime");
            boolean dir = name.equals("alpha") || name.equals("Zeta dir");
            assertThat(e.get("type")).as(name).isEqualTo(dir ? "dir" : "file");
            assertThat(e.get("size")).as(name).isEqualTo(dir ? 0L : ListingFixture.SIZES.get(name));
            var mtime = ListingFixture.MTIMES.getOrDefault(name, ListingFixture.MTIMES.get("small.txt"));
            assertThat(e.get("mtime")).as(name).isEqualTo(mtime.toString());
        }
        // The query sorts JSON too; a browser's Accept (no JSON named) keeps HTML.
        HttpResponse<byte[]> sorted = Http.get(SERVERS.get(arch).uri("/?sort=size&order=desc"), "Accept",
                "application/json;q=0.9, text/html;q=0.5");
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> bySize = (List<Map<String, Object>>) Json.parse(new String(sorted.body(), StandardCharsets.UTF_8));
        assertThat(bySize).extracting(e -> e.get("name")).containsExactlyElementsOf(ListingFixture.BY_SIZE_DESC);
        HttpResponse<byte[]> browser = Http.get(SERVERS.get(arch).uri("/"), "Accept",
                "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8");
        assertThat(browser.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
    }

    /** A second, strict parser: Python's json module must read the same array with the same length. */
    private static void assertPythonParses(String body, int expected) throws Exception {
        Path py = Path.of("/usr/bin/python3");
        if (!Files.isExecutable(py)) return; // the Java parser above still checks the document
        Process p = new ProcessBuilder(py.toString(), "-c",
                "import json,sys; d=json.load(sys.stdin); assert isinstance(d, list); "
                        + "assert all(set(e)=={'name','type','size','mtime'} for e in d); print(len(d))")
                .redirectErrorStream(true).start();
        try (var in = p.getOutputStream()) {
            in.write(body.getBytes(StandardCharsets.UTF_8));
        }
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).isEqualTo(Integer.toString(expected));
    }

    @Test
    void followSymlinksAndDotfilesListWhatTheyServe() throws Exception {
        try (TestServer s = TestServer.start(ListingFixture.root(), Architecture.AMPED,
                c -> c.withListDirs(true).withFollowSymlinks(true).withDotfiles(true))) {
            List<String> names = names(html(Http.get(s.uri("/"))));
            assertThat(names).contains(".hidden", "escape.txt").doesNotContain("dead");
            assertThat(Http.get(s.uri("/escape.txt")).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void acceptNegotiation() {
        assertThat(flash.content.DirectoryListing.wantsJson("application/json")).isTrue();
        assertThat(flash.content.DirectoryListing.wantsJson("application/json, */*")).isTrue();
        assertThat(flash.content.DirectoryListing.wantsJson("text/html, application/json")).isFalse();
        assertThat(flash.content.DirectoryListing.wantsJson("application/json;q=0")).isFalse();
        assertThat(flash.content.DirectoryListing.wantsJson("*/*")).isFalse();
        assertThat(flash.content.DirectoryListing.wantsJson(null)).isFalse();
        assertThat(flash.content.DirectoryListing.humanSize(1023)).isEqualTo("1023 B");
        assertThat(flash.content.DirectoryListing.humanSize(1536)).isEqualTo("1.5 KiB");
        assertThat(flash.content.DirectoryListing.humanSize(23 * 1024)).isEqualTo("23 KiB");
    }
}
