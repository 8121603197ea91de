package flash.tls;

import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import javax.net.ssl.StandardConstants;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Chooses the server certificate by the name the client asks for (SNI), against each certificate's DNS names
 * (subjectAltName dNSName entries, wildcards included; the subject CN only when there are none, as browsers once
 * did). No match, or no SNI: the first certificate, the default. The key type must suit the signature the client
 * can verify (the JDK asks once per type, EC and RSA), so a client that cannot use the default's type still gets
 * a certificate it can use when there is one.
 */
public final class SniKeyManager extends X509ExtendedKeyManager {
    /** One configured certificate: its alias is its index. */
    public record Entry(String alias, X509Certificate[] chain, PrivateKey key, List<String> names) {}

    private final List<Entry> entries;

    public SniKeyManager(List<Entry> entries) {
        if (entries.isEmpty()) throw new IllegalArgumentException("no certificate");
        this.entries = List.copyOf(entries);
    }

    public List<Entry> entries() { return entries; }

    /** The DNS names a certificate is valid for, lower case. */
    public static List<String> names(X509Certificate cert) {
        List<String> names = new ArrayList<>();
        try {
            var sans = cert.getSubjectAlternativeNames();
            if (sans != null) {
                for (List<?> san : sans) {
                    if (san.size() >= 2 && Integer.valueOf(2).equals(san.get(0)) && san.get(1) instanceof String s) {
                        names.add(s.toLowerCase(Locale.ROOT));
                    }
                }
            }
        } catch (CertificateParsingException ignored) {
            // no usable SANs: fall back to the CN
        }
        if (names.isEmpty()) {
            try {
                for (Rdn rdn : new LdapName(cert.getSubjectX500Principal().getName()).getRdns()) {
                    if (rdn.getType().equalsIgnoreCase("CN")) names.add(rdn.getValue().toString().toLowerCase(Locale.ROOT));
                }
            } catch (InvalidNameException ignored) {
                // no name at all: the certificate can only be the default
            }
        }
        return names;
    }

    /** RFC 6125 matching: exact, or "*.example.com" for exactly one more label ("a.example.com", not "example.com"). */
    static boolean matches(String pattern, String host) {
        if (pattern.equals(host)) return true;
        if (!pattern.startsWith("*.")) return false;
        int dot = host.indexOf('.');
        return dot > 0 && host.substring(dot).equals(pattern.substring(1));
    }

    /**
     * The JDK asks once per key type the client can verify, in the client's order: a name that some certificate has
     * answers only with certificates of that name (null for this type, so the JDK asks for the next type); a name no
     * certificate has, or none, gets the default, or the first certificate of the type asked for.
     */
    String choose(String keyType, String sni) {
        if (sni != null) {
            String host = sni.toLowerCase(Locale.ROOT);
            if (host.endsWith(".")) host = host.substring(0, host.length() - 1);
            boolean named = false;
            for (Entry e : entries) {
                if (!hasName(e, host)) continue;
                named = true;
                if (suits(e, keyType)) return e.alias();
            }
            if (named) return null;
        }
        if (suits(entries.getFirst(), keyType)) return entries.getFirst().alias();
        for (Entry e : entries) if (suits(e, keyType)) return e.alias();
        return null;
    }

    /**
     * For an engine that takes one certificate per name (OpenSSL's SNI callback switches to one SSL_CTX): the index
     * of the first certificate that has the name the client asks for, else 0, the default.
     */
    int indexFor(String sni) {
        if (sni == null) return 0;
        String host = sni.toLowerCase(Locale.ROOT);
        if (host.endsWith(".")) host = host.substring(0, host.length() - 1);
        for (int i = 0; i < entries.size(); i++) if (hasName(entries.get(i), host)) return i;
        return 0;
    }

    private static boolean hasName(Entry e, String host) {
        for (String n : e.names()) if (matches(n, host)) return true;
        return false;
    }

    /** The JDK asks by key type: "EC", "RSA", "RSASSA-PSS", and for TLS 1.2 also forms like "EC_EC". */
    private static boolean suits(Entry e, String keyType) {
        if (keyType == null) return true;
        String alg = e.key().getAlgorithm();
        int u = keyType.indexOf('_');
        String t = u < 0 ? keyType : keyType.substring(0, u);
        return t.equalsIgnoreCase(alg) || (t.equalsIgnoreCase("EdDSA") && alg.startsWith("Ed"));
    }

    private static String requestedName(SSLSession handshake) {
        if (!(handshake instanceof ExtendedSSLSession s)) return null;
        for (SNIServerName n : s.getRequestedServerNames()) {
            if (n.getType() == StandardConstants.SNI_HOST_NAME && n instanceof SNIHostName h) return h.getAsciiName();
        }
        return null;
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        return choose(keyType, engine == null ? null : requestedName(engine.getHandshakeSession()));
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        SSLSession hs = socket instanceof javax.net.ssl.SSLSocket s ? s.getHandshakeSession() : null;
        return choose(keyType, requestedName(hs));
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        return entries.stream().filter(e -> suits(e, keyType)).map(Entry::alias).toArray(String[]::new);
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        Entry e = byAlias(alias);
        return e == null ? null : e.chain().clone();
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        Entry e = byAlias(alias);
        return e == null ? null : e.key();
    }

    private Entry byAlias(String alias) {
        for (Entry e : entries) if (e.alias().equals(alias)) return e;
        return null;
    }

    // A server never authenticates itself as a client.
    @Override public String[] getClientAliases(String keyType, Principal[] issuers) { return null; }
    @Override public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) { return null; }
    @Override public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) { return null; }
}
