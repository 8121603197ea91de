package flash.tls;

import flash.config.TlsEngine;
import flash.config.TlsPair;

import javax.net.ssl.SSLEngine;
import java.util.List;

/**
 * The server's TLS configuration as the connections see it: one server-side {@link SSLEngine} per accepted
 * connection. Two implementations: {@link OpenSslContext} (OpenSSL through FFM, the default) and {@link TlsContext}
 * (the JDK's own engine).
 */
public interface TlsEngineFactory {
    /** The label of the engine that runs, as the start-up line and the status page name it. */
    String OPENSSL = "openssl", SSLENGINE = "sslengine";

    /** A server-side engine for one accepted connection. */
    SSLEngine newEngine();

    /** {@link #OPENSSL} or {@link #SSLENGINE}. */
    String engineName();

    /** The engine {@code choice} resolves to on this machine: auto is OpenSSL when libssl.so.3 loads. */
    static String resolve(TlsEngine choice) {
        return switch (choice) {
            case OPENSSL -> OPENSSL;
            case JDK -> SSLENGINE;
            case AUTO -> OpenSsl.available() ? OPENSSL : SSLENGINE;
        };
    }

    /**
     * Loads every pair for the engine {@code choice} resolves to. An unreadable file, a key that is not its
     * certificate's, an unknown protocol, or OpenSSL asked for but not loadable: an IllegalArgumentException.
     */
    static TlsEngineFactory load(TlsEngine choice, List<TlsPair> pairs, List<String> protocols) {
        if (choice == TlsEngine.OPENSSL && !OpenSsl.available()) {
            throw new IllegalArgumentException("--tls-engine openssl: " + OpenSsl.unavailableReason());
        }
        return resolve(choice).equals(OPENSSL) ? OpenSslContext.load(pairs, protocols) : TlsContext.load(pairs, protocols);
    }
}
