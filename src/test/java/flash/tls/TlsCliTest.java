package flash.tls;

import flash.testing.Fixtures;
import flash.testing.FlashProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** The TLS options as a user gives them: one-line usage errors, and HTTPS from a real process (mp workers included). */
class TlsCliTest {
    static final TestCerts CERTS = TestCerts.get();
    private static final String ROOT = Fixtures.root().toString();
    private static final Pattern HTTPS = Pattern.compile("flash listening on https://127\\.0\\.0\\.1:(\\d+)/ \\(arch=([a-z]+), root=(.+)\\)");

    @Test
    void badTlsOptionsAreOneLineAndStatus2() throws Exception {
        String ec = CERTS.ecCert.toString(), ecKey = CERTS.ecKeyTraditional.toString(), rsaKey = CERTS.rsaKeyPkcs8.toString();
        assertUsageError(List.of("--tls-cert", ec), "come in pairs");
        assertUsageError(List.of("--tls-cert", ec, "--tls-key", ROOT + "/no-such.key"), "--tls-key");
        assertUsageError(List.of("--tls-cert", ec, "--tls-key", rsaKey), "is not the private key of --tls-cert");
        assertUsageError(List.of("--tls-cert", ROOT + "/hello.txt", "--tls-key", ecKey), "holds no PEM certificate");
        assertUsageError(List.of("--tls-cert", ec, "--tls-key", ecKey, "--tls-protocols", "TLSv1.3,TLSv1"), "'TLSv1' is not offered");
        assertUsageError(List.of("--http-redirect-port", "8081"), "needs --tls-cert");
        assertUsageError(List.of("--tls-cert", ec, "--tls-key", ecKey, "--tls-engine", "boringssl"),
                "--tls-engine must be auto, openssl or jdk, not 'boringssl'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"amped", "mp"})
    void serveAnnouncesHttpsAndServesIt(String arch) throws Exception {
        try (FlashProcess p = FlashProcess.start("serve", ROOT, "--port", "0", "--arch", arch, "--processes", "2",
                "--tls-cert", CERTS.ecCert.toString(), "--tls-key", CERTS.ecKeyPkcs8.toString(),
                "--tls-cert", CERTS.rsaCert.toString(), "--tls-key", CERTS.rsaKeyTraditional.toString())) {
            String line = p.readLine();
            Matcher m = HTTPS.matcher(line == null ? "" : line);
            assertThat(m.matches()).as(line).isTrue();
            String port = m.group(1);
            for (String host : List.of("localhost", "other.test")) { // the workers got both pairs
                TlsTest.Proc c = TlsTest.run(List.of("curl", "-sS", "--max-time", "30", "--cacert", CERTS.ca.toString(),
                        "--resolve", host + ":" + port + ":127.0.0.1", "https://" + host + ":" + port + "/hello.txt"), "");
                assertThat(c.out()).isEqualTo(Fixtures.HELLO);
            }
            p.process().destroy();
            assertThat(p.exitCode()).isZero();
        }
    }

    @Test
    void theConfigFileChoosesTheEngineAndMpWorkersInheritIt() throws Exception {
        java.nio.file.Path toml = java.nio.file.Files.createTempFile("flash-tls-engine-", ".toml");
        try {
            java.nio.file.Files.writeString(toml, "root = \"" + ROOT + "\"\nport = 0\ntls-engine = \"jdk\"\n"
                    + "tls-cert = [\"" + CERTS.ecCert + "\"]\ntls-key = [\"" + CERTS.ecKeyPkcs8 + "\"]\n");
            try (FlashProcess p = FlashProcess.start("serve", "--config", toml.toString())) {
                assertThat(p.readLine()).startsWith("flash listening on https://");
                p.process().destroy();
                assertThat(p.exitCode()).isZero();
                assertThat(p.stderrLines()).anyMatch(l -> l.contains("TLS by the JDK's SSLEngine; "));
            }
        } finally {
            java.nio.file.Files.deleteIfExists(toml);
        }
        List<String> args = flash.dispatch.PreforkArgs.of(flash.config.ServerConfig.defaults(Fixtures.root())
                .withTls(CERTS.pairs()).withTlsEngine(flash.config.TlsEngine.OPENSSL));
        assertThat(args.get(args.indexOf("--tls-engine") + 1)).isEqualTo("openssl");
    }

    private static void assertUsageError(List<String> extra, String named) throws Exception {
        List<String> args = new ArrayList<>(List.of("serve", ROOT, "--port", "0"));
        args.addAll(extra);
        try (FlashProcess p = FlashProcess.start(args.toArray(String[]::new))) {
            List<String> err = p.stderrLines();
            assertThat(p.exitCode()).as("exit status; stderr %s", err).isEqualTo(2);
            assertThat(err).as("stderr").hasSize(1);
            assertThat(err.getFirst()).startsWith("flash: ").contains(named).doesNotContain("\tat ");
        }
    }
}
