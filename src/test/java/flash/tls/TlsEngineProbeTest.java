package flash.tls;

import flash.config.Architecture;
import flash.config.TlsEngine;
import flash.net.TlsEngineProbe;
import flash.testing.AllArchs;
import flash.testing.Fixtures;
import flash.testing.FlashProcess;
import flash.testing.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The start-up probe that decides the TLS engine and says why kernel TLS does not run. Its answer is checked against
 * what this machine's /proc says, not against a fixed expectation: on a kernel with the tls module the
 * setsockopt must succeed, on one without it (this Firecracker VM: tcp_available_ulp is "mptcp") it must fail
 * with ENOENT.
 */
class TlsEngineProbeTest {
    static final TestCerts CERTS = TestCerts.get();
    private static final Path ULPS = Path.of("/proc/sys/net/ipv4/tcp_available_ulp");

    @Test
    void theKernelsAnswerMatchesProc() throws Exception {
        assumeTrue(Files.isReadable(ULPS), "no " + ULPS);
        TlsEngineProbe p = TlsEngineProbe.run();
        // Read after the probe: a setsockopt may autoload the tls module, which then appears in the list.
        String listed = Files.readString(ULPS).strip();
        boolean offered = List.of(listed.split("\\s+")).contains("tls");
        assertThat(p.availableUlps()).isEqualTo(listed);
        assertThat(p.ulpErrno()).as("tried: %s", p.ulpNotTried()).isNotEqualTo(TlsEngineProbe.NOT_TRIED);
        if (offered) {
            assertThat(p.ulpErrno()).as("the kernel lists tls: setsockopt(TCP_ULP, tls) must succeed").isZero();
            assertThat(p.ulpAnswer()).isEqualTo("ok");
        } else {
            assertThat(p.ulpErrno()).as("no tls ULP: the kernel says ENOENT").isEqualTo(2);
            assertThat(p.ulpAnswer()).isEqualTo("ENOENT");
            assertThat(p.ktls()).isEqualTo("unavailable");
            assertThat(p.startupLine("sslengine")).startsWith("TLS by the JDK's SSLEngine; kernel TLS unavailable: ")
                    .contains("the kernel offers no \"tls\" upper-layer protocol (tcp_available_ulp: " + listed + ";")
                    .contains("ENOENT, errno 2");
        }
        boolean libssl = List.of("/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib").stream()
                .anyMatch(d -> Files.exists(Path.of(d, "libssl.so.3")));
        assertThat(p.libssl()).as("libssl.so.3 present").isEqualTo(libssl);
        if (!libssl) assertThat(p.startupLine("sslengine")).contains("libssl.so.3 cannot be loaded");
        assertThat(p.ktls()).isEqualTo(offered && libssl ? "available" : "unavailable");
        if (libssl) {
            assertThat(p.startupLine("openssl")).startsWith("TLS by OpenSSL (libssl.so.3, OpenSSL 3.");
        }
    }

    @AllArchs
    void theStatusPageNamesTheEngineThatRuns(Architecture arch) throws Exception {
        TlsEngineProbe p = TlsEngineProbe.run();
        // auto runs OpenSSL wherever libssl.so.3 loads; jdk always runs the JDK's engine
        String auto = OpenSsl.available() ? "openssl" : "sslengine";
        for (TlsEngine engine : List.of(TlsEngine.AUTO, TlsEngine.JDK)) {
            try (TestServer s = TestServer.start(Fixtures.root(), arch,
                    c -> c.withTls(CERTS.pairs()).withTlsEngine(engine).withStatusPath("/status"));
                 HttpClient c = TlsTest.client()) {
                String page = new String(TlsTest.get(c, TlsTest.uri(s, "/status")).body(), StandardCharsets.UTF_8);
                assertThat(page).contains("flash_tls_engine{engine=\"" + (engine == TlsEngine.JDK ? "sslengine" : auto)
                        + "\",ktls=\"" + p.ktls() + "\",tcp_ulp=\"" + p.ulpAnswer() + "\",libssl=\""
                        + (p.libssl() ? "found" : "missing") + "\"} 1\n");
            }
        }
    }

    @Test
    void withoutTlsTheStatusPageHasNoEngine() throws Exception {
        try (TestServer s = TestServer.start(Fixtures.root(), Architecture.AMPED, c -> c.withStatusPath("/status"))) {
            String page = new String(flash.testing.Http.get(s.uri("/status")).body(), StandardCharsets.UTF_8);
            assertThat(page).contains("flash_info{").doesNotContain("flash_tls_engine");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"amped,auto", "mp,auto", "amped,jdk"})
    void oneStartupLineSaysWhichEngineAndWhy(String archAndEngine) throws Exception {
        String arch = archAndEngine.split(",")[0], choice = archAndEngine.split(",")[1];
        String engine = TlsEngineFactory.resolve(TlsEngine.parse(choice));
        String expected = TlsEngineProbe.run().startupLine(engine);
        try (FlashProcess f = FlashProcess.start("serve", Fixtures.root().toString(), "--port", "0", "--arch", arch,
                "--processes", "2", "--tls-engine", choice,
                "--tls-cert", CERTS.ecCert.toString(), "--tls-key", CERTS.ecKeyPkcs8.toString())) {
            assertThat(f.readLine()).startsWith("flash listening on https://");
            f.process().destroy();
            assertThat(f.exitCode()).isZero();
            List<String> lines = f.stderrLines().stream().filter(l -> l.contains("TLS by ")).toList();
            assertThat(lines).as("the engine line, once (not once per mp worker)").hasSize(1);
            assertThat(lines.getFirst()).endsWith(expected)
                    .contains(engine.equals("openssl") ? "TLS by OpenSSL (libssl.so.3, OpenSSL 3." : "TLS by the JDK's SSLEngine; ");
        }
    }

    @Test
    void noEngineLineWithoutTls() throws Exception {
        try (FlashProcess f = FlashProcess.start("serve", Fixtures.root().toString(), "--port", "0")) {
            assertThat(f.awaitListening()).isPositive();
            f.process().destroy();
            assertThat(f.exitCode()).isZero();
            assertThat(f.stderrLines()).noneMatch(l -> l.contains("SSLEngine") || l.contains("TLS by "));
        }
    }
}
