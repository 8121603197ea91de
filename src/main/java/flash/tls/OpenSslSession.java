package flash.tls;

import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSessionContext;
import java.security.Principal;
import java.security.cert.Certificate;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What an {@link OpenSslEngine}'s connection reports as its session: the buffer sizes the transport sizes its
 * buffers by, and the protocol and suite once the handshake is done ("NONE" and SSL_NULL_WITH_NULL_NULL before, as
 * the JDK's). Sessions resume by stateless tickets inside OpenSSL, so there is no session id or context to show, and
 * the client is never authenticated.
 */
final class OpenSslSession implements SSLSession {
    private final OpenSslEngine engine;
    private final long created = System.currentTimeMillis();
    private final Map<String, Object> values = new ConcurrentHashMap<>();

    OpenSslSession(OpenSslEngine engine) { this.engine = engine; }

    @Override public int getPacketBufferSize() { return OpenSslEngine.PACKET_BUFFER; }
    /** Any record a peer may send decrypts into this much (a TLS 1.2 record may carry 2048 bytes over 16 KiB). */
    @Override public int getApplicationBufferSize() { return OpenSslEngine.MAX_PAYLOAD; }
    @Override public String getProtocol() { return engine.protocol(); }
    @Override public String getCipherSuite() { return engine.cipherSuite(); }

    @Override public byte[] getId() { return new byte[0]; }
    @Override public SSLSessionContext getSessionContext() { return null; }
    @Override public long getCreationTime() { return created; }
    @Override public long getLastAccessedTime() { return created; }
    @Override public void invalidate() { }
    @Override public boolean isValid() { return !engine.isInboundDone() || !engine.isOutboundDone(); }
    @Override public void putValue(String name, Object value) { values.put(name, value); }
    @Override public Object getValue(String name) { return values.get(name); }
    @Override public void removeValue(String name) { values.remove(name); }
    @Override public String[] getValueNames() { return values.keySet().toArray(String[]::new); }

    @Override
    public Certificate[] getPeerCertificates() throws SSLPeerUnverifiedException {
        throw new SSLPeerUnverifiedException("the client is not authenticated");
    }

    @Override public Certificate[] getLocalCertificates() { return null; }

    @Override
    public Principal getPeerPrincipal() throws SSLPeerUnverifiedException {
        throw new SSLPeerUnverifiedException("the client is not authenticated");
    }

    @Override public Principal getLocalPrincipal() { return null; }
    @Override public String getPeerHost() { return null; }
    @Override public int getPeerPort() { return -1; }
}
