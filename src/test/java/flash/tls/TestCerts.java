package flash.tls;

import flash.config.TlsPair;
import org.junit.jupiter.api.Assumptions;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Certificates made by {@code openssl} once per test JVM: a test CA (ECDSA P-256), a leaf for "localhost" and
 * "*.example.test" with an ECDSA P-256 key, and a leaf for "other.test" with an RSA 2048 key, each key in PKCS#8 and
 * in the traditional format ("EC PRIVATE KEY", "RSA PRIVATE KEY").
 */
public final class TestCerts {
    public final Path dir;
    public final Path ca;
    public final Path ecCert, ecKeyPkcs8, ecKeyTraditional;
    public final Path rsaCert, rsaKeyPkcs8, rsaKeyTraditional;

    private static TestCerts made;

    private TestCerts(Path dir) {
        this.dir = dir;
        this.ca = dir.resolve("ca.crt");
        this.ecCert = dir.resolve("ec.crt");
        this.ecKeyPkcs8 = dir.resolve("ec.key");
        this.ecKeyTraditional = dir.resolve("ec-trad.key");
        this.rsaCert = dir.resolve("rsa.crt");
        this.rsaKeyPkcs8 = dir.resolve("rsa.key");
        this.rsaKeyTraditional = dir.resolve("rsa-trad.key");
    }

    /**
     * 600 bytes that start as a TLS handshake record (type 22, version 3.1, 0x240 bytes long) and go on as random
     * garbage: past the record header, so the engine must fail on the content, not refuse the framing.
     */
    static byte[] garbageHandshakeRecord() {
        byte[] junk = flash.testing.Fixtures.random(600, 5);
        junk[0] = 0x16;
        junk[1] = 3;
        junk[2] = 1;
        junk[3] = 2;
        junk[4] = 0x40;
        return junk;
    }

    public static synchronized TestCerts get() {
        if (made != null) return made;
        Assumptions.assumeTrue(hasOpenssl(), "openssl is not installed");
        try {
            Path dir = Files.createTempDirectory("flash-tls-");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> flash.testing.Fixtures.deleteTree(dir)));
            TestCerts c = new TestCerts(dir);
            c.make();
            made = c;
            return c;
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException("cannot make test certificates", e);
        }
    }

    /** EC (traditional key) first, the default; RSA (traditional key) second, for "other.test". */
    public List<TlsPair> pairs() {
        return List.of(new TlsPair(ecCert, ecKeyTraditional), new TlsPair(rsaCert, rsaKeyTraditional));
    }

    private void make() throws IOException, InterruptedException {
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "ca.key");
        openssl("req", "-x509", "-new", "-key", "ca.key", "-subj", "/CN=Flash Test CA", "-days", "2", "-out", "ca.crt",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "ec.key");
        openssl("pkey", "-in", "ec.key", "-traditional", "-out", "ec-trad.key");
        leaf("ec", "/CN=localhost", "subjectAltName=DNS:localhost,DNS:*.example.test,IP:127.0.0.1");
        openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "rsa.key");
        openssl("pkey", "-in", "rsa.key", "-traditional", "-out", "rsa-trad.key");
        leaf("rsa", "/CN=other.test", "subjectAltName=DNS:other.test");
    }

    private void leaf(String name, String subject, String san) throws IOException, InterruptedException {
        Files.writeString(dir.resolve(name + ".ext"), san + "\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                + "extendedKeyUsage=serverAuth\n");
        openssl("req", "-new", "-key", name + ".key", "-subj", subject, "-out", name + ".csr");
        openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                "-days", "2", "-extfile", name + ".ext", "-out", name + ".crt");
    }

    private void openssl(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("openssl"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) throw new IOException(cmd + " failed: " + out);
    }

    static boolean hasOpenssl() {
        try {
            Process p = new ProcessBuilder("openssl", "version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    /** A client context trusting the test CA only. */
    public SSLContext clientContext() {
        try (InputStream in = Files.newInputStream(ca)) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
