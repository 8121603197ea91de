package flash.tls;

import flash.config.TlsPair;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** PEM keys in both formats and both algorithms; the key-to-certificate check; SNI name matching and choice. */
class PemAndSniTest {
    static final TestCerts CERTS = TestCerts.get();

    @Test
    void keysLoadInPkcs8AndTraditionalFormatsForEcAndRsa() throws Exception {
        assertThat(Files.readString(CERTS.ecKeyTraditional)).startsWith("-----BEGIN EC PRIVATE KEY-----");
        assertThat(Files.readString(CERTS.rsaKeyTraditional)).startsWith("-----BEGIN RSA PRIVATE KEY-----");
        assertThat(Files.readString(CERTS.ecKeyPkcs8)).startsWith("-----BEGIN PRIVATE KEY-----");
        X509Certificate ec = PemFiles.certificates(CERTS.ecCert)[0];
        X509Certificate rsa = PemFiles.certificates(CERTS.rsaCert)[0];
        for (Path k : List.of(CERTS.ecKeyPkcs8, CERTS.ecKeyTraditional)) {
            assertThat(PemFiles.privateKey(k).getAlgorithm()).isEqualTo("EC");
            assertThat(PemFiles.matches(PemFiles.privateKey(k), ec.getPublicKey())).isTrue();
            assertThat(PemFiles.matches(PemFiles.privateKey(k), rsa.getPublicKey())).isFalse();
        }
        for (Path k : List.of(CERTS.rsaKeyPkcs8, CERTS.rsaKeyTraditional)) {
            assertThat(PemFiles.privateKey(k).getAlgorithm()).isEqualTo("RSA");
            assertThat(PemFiles.matches(PemFiles.privateKey(k), rsa.getPublicKey())).isTrue();
        }
        // Every combination makes a context.
        TlsContext.load(List.of(new TlsPair(CERTS.ecCert, CERTS.ecKeyPkcs8), new TlsPair(CERTS.rsaCert, CERTS.rsaKeyPkcs8)),
                List.of("TLSv1.3"));
    }

    @Test
    void badFilesAndMismatchedKeysAreSentences() throws Exception {
        assertThatThrownBy(() -> TlsContext.load(List.of(new TlsPair(CERTS.ecCert, CERTS.rsaKeyTraditional)), List.of("TLSv1.3")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("is not the private key of --tls-cert");
        assertThatThrownBy(() -> PemFiles.privateKey(CERTS.ecCert))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("holds no PEM private key");
        assertThatThrownBy(() -> PemFiles.certificates(CERTS.ecKeyPkcs8))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("holds no PEM certificate");
        assertThatThrownBy(() -> TlsContext.load(CERTS.pairs(), List.of("TLSv1.1")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'TLSv1.1' is not offered");
        Path garbage = Files.createTempFile(CERTS.dir, "garbage", ".pem");
        Files.writeString(garbage, "-----BEGIN PRIVATE KEY-----\nnot base64 !!\n-----END PRIVATE KEY-----\n");
        assertThatThrownBy(() -> PemFiles.privateKey(garbage)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--tls-key");
    }

    @Test
    void namesMatchExactlyOrByOneWildcardLabel() {
        assertThat(SniKeyManager.matches("localhost", "localhost")).isTrue();
        assertThat(SniKeyManager.matches("*.example.test", "a.example.test")).isTrue();
        assertThat(SniKeyManager.matches("*.example.test", "example.test")).isFalse();
        assertThat(SniKeyManager.matches("*.example.test", "a.b.example.test")).isFalse();
        assertThat(SniKeyManager.names(PemFiles.certificates(CERTS.ecCert)[0])).containsExactly("localhost", "*.example.test");
    }

    @Test
    void theCertificateIsChosenByNameThenTypeWithTheFirstAsDefault() {
        SniKeyManager km = TlsContext.load(CERTS.pairs(), List.of("TLSv1.3", "TLSv1.2")).keys();
        assertThat(km.choose("EC", "localhost")).isEqualTo("0");
        assertThat(km.choose("EC", "A.Example.Test.")).isEqualTo("0");
        assertThat(km.choose("EC", "other.test")).isNull();   // named, but RSA: the JDK asks for RSA next
        assertThat(km.choose("RSA", "other.test")).isEqualTo("1");
        assertThat(km.choose("EC", "unknown.test")).isEqualTo("0"); // the default
        assertThat(km.choose("EC", null)).isEqualTo("0");
        assertThat(km.choose("RSA", null)).isEqualTo("1");          // a client that cannot verify ECDSA
    }
}
