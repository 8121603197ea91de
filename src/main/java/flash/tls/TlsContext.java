package flash.tls;

import flash.config.TlsPair;

import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * The server's TLS configuration, made once at start: the certificates (chosen by SNI, {@link SniKeyManager}), the
 * protocol versions (1.3 and 1.2 by default, never older), a modern cipher list (TLS 1.3's AEAD suites; for 1.2 only
 * ECDHE key exchange with AES-GCM or ChaCha20-Poly1305, so every session has forward secrecy), ALPN offering
 * http/1.1, and session resumption by stateless tickets (the JDK's default since 13, for 1.3 and 1.2). One
 * {@link SSLContext} serves every connection, so tickets issued on one connection resume on any other of the process.
 */
public final class TlsContext implements TlsEngineFactory {
    static {
        // TLS 1.2 renegotiation started by a client costs the server a handshake per request on an open connection
        // (a cheap denial of service) and has been the door to attacks; nginx refuses it too. The JDK reads this
        // when its first server handshake starts, so setting it here (before any engine exists) is enough.
        if (System.getProperty("jdk.tls.rejectClientInitiatedRenegotiation") == null) {
            System.setProperty("jdk.tls.rejectClientInitiatedRenegotiation", "true");
        }
    }

    /** How long a session (a resumption ticket) stays good, in both engines. */
    static final int SESSION_LIFETIME_SECONDS = 24 * 3600;

    /** Every version this server may speak; --tls-protocols picks from these. */
    public static final Set<String> KNOWN_PROTOCOLS = Set.of("TLSv1.3", "TLSv1.2");

    /** Strongest first; the server's order wins. */
    static final List<String> CIPHER_SUITES = List.of(
            "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

    private final SSLContext context;
    private final SSLParameters parameters;
    private final SniKeyManager keys;

    private TlsContext(SSLContext context, SSLParameters parameters, SniKeyManager keys) {
        this.context = context;
        this.parameters = parameters;
        this.keys = keys;
    }

    /** Loads every pair; an unreadable file, a key that is not the certificate's, or an unknown protocol is an IllegalArgumentException. */
    public static TlsContext load(List<TlsPair> pairs, List<String> protocols) {
        SniKeyManager km = keys(pairs, protocols);
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(new KeyManager[] {km}, null, null);
            SSLParameters p = ctx.getDefaultSSLParameters();
            Set<String> supported = Set.of(ctx.getSupportedSSLParameters().getCipherSuites());
            p.setProtocols(protocols.toArray(String[]::new));
            p.setCipherSuites(CIPHER_SUITES.stream().filter(supported::contains).toArray(String[]::new));
            p.setUseCipherSuitesOrder(true);
            p.setApplicationProtocols(new String[] {"http/1.1"});
            p.setNeedClientAuth(false);
            ctx.getServerSessionContext().setSessionTimeout(SESSION_LIFETIME_SECONDS);
            return new TlsContext(ctx, p, km);
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("TLS cannot be set up: " + e.getMessage());
        }
    }

    /**
     * Every pair read and checked (the key is its certificate's), and the protocols checked: the certificates with
     * the names SNI matches, in the given order (the first is the default). Shared with {@link OpenSslContext}, so
     * both engines accept and refuse the same files with the same messages.
     */
    static SniKeyManager keys(List<TlsPair> pairs, List<String> protocols) {
        if (pairs.isEmpty()) throw new IllegalArgumentException("TLS needs at least one --tls-cert/--tls-key pair");
        for (String p : protocols) {
            if (!KNOWN_PROTOCOLS.contains(p)) {
                throw new IllegalArgumentException("--tls-protocols: '" + p + "' is not offered (choose from TLSv1.3, TLSv1.2)");
            }
        }
        if (protocols.isEmpty()) throw new IllegalArgumentException("--tls-protocols needs at least one protocol");
        List<SniKeyManager.Entry> entries = new ArrayList<>();
        for (int i = 0; i < pairs.size(); i++) {
            TlsPair pair = pairs.get(i);
            X509Certificate[] chain = PemFiles.certificates(pair.cert());
            PrivateKey key = PemFiles.privateKey(pair.key());
            if (!PemFiles.matches(key, chain[0].getPublicKey())) {
                throw new IllegalArgumentException("--tls-key '" + pair.key() + "' is not the private key of --tls-cert '" + pair.cert() + "'");
            }
            entries.add(new SniKeyManager.Entry(Integer.toString(i), chain, key, SniKeyManager.names(chain[0])));
        }
        return new SniKeyManager(entries);
    }

    /** A server-side engine for one accepted connection. */
    @Override
    public SSLEngine newEngine() {
        SSLEngine e = context.createSSLEngine();
        e.setUseClientMode(false);
        e.setSSLParameters(parameters);
        return e;
    }

    @Override
    public String engineName() { return SSLENGINE; }

    public List<String> protocols() { return Arrays.asList(parameters.getProtocols()); }

    public SniKeyManager keys() { return keys; }
}
