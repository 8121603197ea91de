package flash.tls;

import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads PEM certificates and private keys with BouncyCastle's parser (the JDK's PEM API is still a preview in 25).
 * Keys come in PKCS#8 ("PRIVATE KEY") or the traditional OpenSSL formats ("EC PRIVATE KEY", "RSA PRIVATE KEY"), RSA
 * or ECDSA; an "EC PARAMETERS" block before the key (as {@code openssl ecparam -genkey} writes it) is skipped.
 * Every failure is an {@link IllegalArgumentException} with a sentence naming the file, for the command line.
 */
public final class PemFiles {
    private PemFiles() {}

    /** The certificate chain in {@code file}, leaf first. */
    public static X509Certificate[] certificates(Path file) {
        List<X509Certificate> chain = new ArrayList<>();
        JcaX509CertificateConverter conv = new JcaX509CertificateConverter();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.US_ASCII); PEMParser p = new PEMParser(r)) {
            Object o;
            while ((o = p.readObject()) != null) {
                if (o instanceof X509CertificateHolder h) chain.add(conv.getCertificate(h));
            }
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            throw new IllegalArgumentException("--tls-cert '" + file + "' cannot be read as PEM certificates: " + message(e));
        }
        if (chain.isEmpty()) throw new IllegalArgumentException("--tls-cert '" + file + "' holds no PEM certificate");
        return chain.toArray(X509Certificate[]::new);
    }

    /** The (first) private key in {@code file}. */
    public static PrivateKey privateKey(Path file) {
        JcaPEMKeyConverter conv = new JcaPEMKeyConverter();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.US_ASCII); PEMParser p = new PEMParser(r)) {
            Object o;
            while ((o = p.readObject()) != null) {
                switch (o) {
                    case PrivateKeyInfo pki -> { return conv.getPrivateKey(pki); }          // PKCS#8
                    case PEMKeyPair kp -> { return conv.getKeyPair(kp).getPrivate(); }      // EC or RSA PRIVATE KEY
                    case PEMEncryptedKeyPair ignored -> throw new IllegalArgumentException(
                            "--tls-key '" + file + "' is encrypted; give an unencrypted key (openssl pkey -in KEY -out PLAIN)");
                    case PKCS8EncryptedPrivateKeyInfo ignored -> throw new IllegalArgumentException(
                            "--tls-key '" + file + "' is encrypted; give an unencrypted key (openssl pkey -in KEY -out PLAIN)");
                    case ASN1ObjectIdentifier ignored -> { }  // EC PARAMETERS (a named curve) before the key
                    case X9ECParameters ignored -> { }
                    default -> { }                              // a certificate in the same file, say
                }
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof IllegalArgumentException iae && iae.getMessage() != null && iae.getMessage().startsWith("--tls-key")) throw iae;
            throw new IllegalArgumentException("--tls-key '" + file + "' cannot be read as a PEM private key: " + message(e));
        }
        throw new IllegalArgumentException("--tls-key '" + file + "' holds no PEM private key");
    }

    /** Whether {@code key} is the private half of {@code pub}: a signature made with one verifies with the other. */
    public static boolean matches(PrivateKey key, PublicKey pub) {
        String alg = switch (key.getAlgorithm()) {
            case "EC" -> "SHA256withECDSA";
            case "RSA" -> "SHA256withRSA";
            case "RSASSA-PSS" -> "RSASSA-PSS";
            case "Ed25519", "EdDSA" -> "Ed25519";
            default -> null;
        };
        if (alg == null) return true; // an algorithm we cannot test here: the handshake will tell
        try {
            byte[] data = "flash key check".getBytes(StandardCharsets.US_ASCII);
            Signature s = Signature.getInstance(alg);
            if (alg.equals("RSASSA-PSS")) s.setParameter(new java.security.spec.PSSParameterSpec("SHA-256", "MGF1",
                    java.security.spec.MGF1ParameterSpec.SHA256, 32, 1));
            s.initSign(key);
            s.update(data);
            byte[] sig = s.sign();
            Signature v = Signature.getInstance(alg);
            if (alg.equals("RSASSA-PSS")) v.setParameter(new java.security.spec.PSSParameterSpec("SHA-256", "MGF1",
                    java.security.spec.MGF1ParameterSpec.SHA256, 32, 1));
            v.initVerify(pub);
            v.update(data);
            return v.verify(sig);
        } catch (GeneralSecurityException | RuntimeException e) {
            return false;
        }
    }

    private static String message(Throwable e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
