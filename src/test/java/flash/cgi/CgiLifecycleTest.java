package flash.cgi;

import flash.config.Architecture;
import flash.config.CgiRoute;
import flash.testing.AllArchs;
import flash.testing.ArchServers;
import flash.testing.RawClient;
import flash.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What happens to the CGI process: stderr to the log, the timeout (504, or a close once the response started),
 * the whole process group killed (a forked child too), a client that goes away, and no zombies or descriptor
 * leaks afterwards.
 */
class CgiLifecycleTest {
    private static final ArchServers SERVERS = new ArchServers(arch -> TestServer.start(CgiScripts.ROOT, arch,
            c -> c.withCgis(List.of(CgiRoute.parse("/cgi-bin=" + CgiScripts.DIR))).withCgiTimeout(Duration.ofSeconds(1))));
    private static int tags;

    @AfterAll
    static void stop() { SERVERS.close(); }

    private static synchronized String tag(Architecture arch, String what) { return arch.cliName() + "-" + what + "-" + (++tags); }

    private static RawClient client(Architecture arch) throws Exception { return new RawClient(SERVERS.get(arch).port()); }

    @AllArchs
    void silenceGives504AndTheProcessGroupIsKilled(Architecture arch) throws Exception {
        String tag = tag(arch, "hang");
        try (RawClient c = client(arch)) {
            c.timeout(20_000);
            long start = System.nanoTime();
            c.send("GET /cgi-bin/hang.cgi?" + tag + " HTTP/1.1\r\nHost: t\r\n\r\n");
            RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(504);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isBetween(Duration.ofMillis(900), Duration.ofSeconds(10));
        }
        long[] pids = CgiScripts.pids(tag);
        assertThat(CgiScripts.awaitGone(pids[0], 10_000)).as("the script").isTrue();
        assertThat(CgiScripts.awaitGone(pids[1], 10_000)).as("the child it forked").isTrue();
    }

    @AllArchs
    void silenceAfterTheHeadClosesTheConnection(Architecture arch) throws Exception {
        String tag = tag(arch, "hang-after-head");
        try (RawClient c = client(arch)) {
            c.timeout(20_000);
            c.send("GET /cgi-bin/hang-after-head.cgi?" + tag + " HTTP/1.1\r\nHost: t\r\n\r\n");
            RawClient.Response head = c.read(true);
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.header("Transfer-Encoding")).isEqualTo("chunked");
            String rest = new String(c.readToEnd(), java.nio.charset.StandardCharsets.ISO_8859_1);
            assertThat(rest).contains("started").doesNotContain("0\r\n\r\n"); // cut short, never a complete body
        }
        long[] pids = CgiScripts.pids(tag);
        assertThat(CgiScripts.awaitGone(pids[0], 10_000)).isTrue();
        assertThat(CgiScripts.awaitGone(pids[1], 10_000)).isTrue();
    }

    @AllArchs
    void aClientThatGoesAwayGetsItsScriptKilled(Architecture arch) throws Exception {
        String tag = tag(arch, "chatty");
        try (RawClient c = client(arch)) {
            c.timeout(20_000);
            c.send("GET /cgi-bin/chatty.cgi?" + tag + " HTTP/1.1\r\nHost: t\r\n\r\n");
            assertThat(c.read(true).status()).isEqualTo(200);
            c.socket().setSoLinger(true, 0); // a reset: gone for sure
        }
        long[] pids = CgiScripts.pids(tag);
        assertThat(CgiScripts.awaitGone(pids[0], 10_000)).as("the script").isTrue();
        assertThat(CgiScripts.awaitGone(pids[1], 10_000)).as("the child it forked").isTrue();
    }

    static Stream<Architecture> inProcess() { return TestServer.archs().stream(); }

    @ParameterizedTest(name = "{0}")
    @MethodSource("inProcess")
    void stderrLinesGoToTheLogWithTheScriptName(Architecture arch) throws Exception {
        List<String> lines = new CopyOnWriteArrayList<>();
        Logger log = Logger.getLogger(CgiProcess.class.getName());
        Handler h = new Handler() {
            @Override public void publish(LogRecord r) { lines.add(r.getMessage()); }
            @Override public void flush() { }
            @Override public void close() { }
        };
        log.addHandler(h);
        try (RawClient c = client(arch)) {
            c.timeout(20_000);
            c.send("GET /cgi-bin/stderr.cgi HTTP/1.1\r\nHost: t\r\n\r\n");
            RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(200); // 150 KB of stderr (more than a pipe holds) did not block the script
            assertThat(r.bodyText()).isEqualTo("ok");
            long end = System.currentTimeMillis() + 10_000;
            while (!lines.contains("cgi /cgi-bin/stderr.cgi: last complaint") && System.currentTimeMillis() < end) Thread.sleep(20);
        } finally {
            log.removeHandler(h);
        }
        assertThat(lines).contains("cgi /cgi-bin/stderr.cgi: first complaint", "cgi /cgi-bin/stderr.cgi: last complaint");
        assertThat(lines.stream().filter(l -> l.equals("cgi /cgi-bin/stderr.cgi: " + "e".repeat(100))).count()).isEqualTo(1_500);
    }

    /** Children of this JVM that are zombies, or CGI scripts still running. */
    private static List<String> leftovers() throws Exception {
        long me = ProcessHandle.current().pid();
        List<String> out = new ArrayList<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                String stat;
                try {
                    stat = Files.readString(p.resolve("stat"));
                } catch (Exception e) {
                    continue;
                }
                String after = stat.substring(stat.lastIndexOf(')') + 2);
                long ppid = Long.parseLong(after.substring(2, after.indexOf(' ', 2)));
                if (ppid != me) continue;
                String cmd;
                try {
                    cmd = Files.readString(p.resolve("cmdline")).replace('\0', ' ');
                } catch (Exception e) {
                    cmd = "";
                }
                if (after.charAt(0) == 'Z' || cmd.contains(CgiScripts.DIR.toString())) out.add(stat.trim() + " " + cmd);
            }
        }
        return out;
    }

    private static long openDescriptors() throws Exception {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("inProcess")
    void noZombiesAndNoDescriptorLeaks(Architecture arch) throws Exception {
        SERVERS.get(arch);
        // warm up: pools, the pump threads, the process reaper
        for (int i = 0; i < 3; i++) request(arch, "GET /cgi-bin/status.cgi HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        Thread.sleep(500);
        long before = openDescriptors();
        for (int i = 0; i < 20; i++) {
            request(arch, "GET /cgi-bin/status.cgi HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
            request(arch, "HEAD /cgi-bin/big.cgi HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
            request(arch, "GET /cgi-bin/malformed.cgi HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
            request(arch, "POST /cgi-bin/post.cgi HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
        }
        String tag = tag(arch, "leak-hang");
        request(arch, "GET /cgi-bin/hang.cgi?" + tag + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        long[] pids = CgiScripts.pids(tag);
        assertThat(CgiScripts.awaitGone(pids[0], 10_000)).isTrue();
        assertThat(CgiScripts.awaitGone(pids[1], 10_000)).isTrue();
        List<String> left = List.of();
        long after = 0;
        long end = System.currentTimeMillis() + 15_000;
        while (System.currentTimeMillis() < end) { // HEAD lets big.cgi finish on its own: give it the time
            left = leftovers();
            after = openDescriptors();
            if (left.isEmpty() && after <= before + 4) break;
            Thread.sleep(200);
        }
        assertThat(left).as("zombies or running scripts").isEmpty();
        assertThat(after).as("open descriptors, %d before", before).isLessThanOrEqualTo(before + 4);
    }

    private static void request(Architecture arch, String raw) throws Exception {
        try (RawClient c = client(arch)) {
            c.timeout(20_000);
            c.send(raw);
            c.readToEnd();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("inProcess")
    void aProcessGroupIsKilledWhole(Architecture arch) throws Exception {
        Assumptions.assumeTrue(flash.sys.Native.available());
        String tag = tag(arch, "group");
        try (RawClient c = client(arch)) {
            c.timeout(20_000);
            c.send("GET /cgi-bin/hang.cgi?" + tag + " HTTP/1.1\r\nHost: t\r\n\r\n");
            long[] pids = CgiScripts.pids(tag);
            // the script leads its own process group, and its child is in it
            assertThat(pgid(pids[0])).isEqualTo(pids[0]);
            assertThat(pgid(pids[1])).isEqualTo(pids[0]);
            assertThat(c.read().status()).isEqualTo(504);
        }
    }

    private static long pgid(long pid) throws Exception {
        String s = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[2]);
    }
}
