package flash.config;

import java.util.Locale;

/**
 * Which library runs TLS (--tls-engine): OpenSSL's libssl.so.3 through FFM, or the JDK's SSLEngine. A full handshake
 * costs about three times the CPU in the JDK (its P-256 signatures and X25519 are slow, docs/tls.md), so AUTO takes
 * OpenSSL whenever libssl.so.3 loads and falls back to the JDK otherwise.
 */
public enum TlsEngine {
    AUTO, OPENSSL, JDK;

    public String cliName() { return name().toLowerCase(Locale.ROOT); }

    public static TlsEngine parse(String s) {
        for (TlsEngine e : values()) if (e.cliName().equals(s)) return e;
        throw new IllegalArgumentException("--tls-engine must be auto, openssl or jdk, not '" + s + "'");
    }
}
