package flash.tls;

import flash.config.TlsPair;

import javax.net.ssl.SSLEngine;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static flash.tls.OpenSsl.Lib;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The server's TLS configuration in OpenSSL, made once at start from the same settings as {@link TlsContext}: one
 * SSL_CTX per certificate pair (the chain and key loaded by OpenSSL from the PEM files, which {@link TlsContext#keys}
 * has checked first, so both engines refuse bad files with the same message), the first the default. Every SSL starts
 * on the default; the client's SNI name switches it, in the servername callback, to the first pair whose names match
 * by {@link SniKeyManager}'s rules. Each context has: TLS 1.2 and/or 1.3 as --tls-protocols says, the modern
 * suites of {@link TlsContext#CIPHER_SUITES} in the server's order, ALPN answering http/1.1 only, client-initiated
 * renegotiation refused, buffers released while a connection is idle, and stateless session tickets (TLS 1.2 and
 * 1.3) with the same 24 hour lifetime; the stateful session cache is off (a shared, locked table growing with
 * every handshake, which tickets make unnecessary). Tickets are sealed with the default context's keys, whichever
 * certificate SNI chose, so one ticket resumes on any connection of the process.
 *
 * <p>The contexts and their callbacks live as long as the process (one per server start): an SSL holds a reference
 * to its context, and the callbacks are bound to this object.
 */
public final class OpenSslContext implements TlsEngineFactory {
    private static final String TLS12_CIPHERS = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
            + "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
            + "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
    private static final String TLS13_SUITES = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
    private static final byte[] SESSION_ID_CONTEXT = "flash".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] HTTP11 = "http/1.1".getBytes(StandardCharsets.US_ASCII);

    private final SniKeyManager keys;
    private final MemorySegment[] contexts;
    private final List<String> protocols;

    private OpenSslContext(SniKeyManager keys, List<String> protocols) {
        this.keys = keys;
        this.protocols = List.copyOf(protocols);
        this.contexts = new MemorySegment[keys.entries().size()];
    }

    /** Loads every pair: an unreadable file, a key not its certificate's, a file OpenSSL refuses: IllegalArgumentException. */
    public static OpenSslContext load(List<TlsPair> pairs, List<String> protocols) {
        if (!OpenSsl.available()) throw new IllegalArgumentException(OpenSsl.unavailableReason());
        OpenSslContext c = new OpenSslContext(TlsContext.keys(pairs, protocols), protocols);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment sni = Linker.nativeLinker().upcallStub(MethodHandles.lookup().findVirtual(OpenSslContext.class,
                            "onServerName", MethodType.methodType(int.class, MemorySegment.class, MemorySegment.class,
                                    MemorySegment.class)).bindTo(c),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS), Arena.global());
            MemorySegment alpn = Linker.nativeLinker().upcallStub(MethodHandles.lookup().findStatic(OpenSslContext.class,
                            "onAlpn", MethodType.methodType(int.class, MemorySegment.class, MemorySegment.class,
                                    MemorySegment.class, MemorySegment.class, int.class, MemorySegment.class)),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS), Arena.global());
            for (int i = 0; i < pairs.size(); i++) {
                c.contexts[i] = c.newContext(a, pairs.get(i), sni, alpn);
            }
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
        return c;
    }

    private MemorySegment newContext(Arena a, TlsPair pair, MemorySegment sni, MemorySegment alpn) {
        try {
            OpenSsl.clearErrors();
            MemorySegment ctx = (MemorySegment) Lib.SSL_CTX_NEW.invokeExact((MemorySegment) Lib.TLS_SERVER_METHOD.invokeExact());
            if (ctx.address() == 0) throw new IllegalArgumentException("TLS cannot be set up: SSL_CTX_new: " + OpenSsl.drainErrors());
            if ((int) Lib.SSL_CTX_USE_CERTIFICATE_CHAIN_FILE.invokeExact(ctx, a.allocateFrom(pair.cert().toString())) != 1) {
                throw new IllegalArgumentException("--tls-cert '" + pair.cert() + "' is refused by OpenSSL: " + OpenSsl.drainErrors());
            }
            if ((int) Lib.SSL_CTX_USE_PRIVATEKEY_FILE.invokeExact(ctx, a.allocateFrom(pair.key().toString()),
                    OpenSsl.SSL_FILETYPE_PEM) != 1) {
                throw new IllegalArgumentException("--tls-key '" + pair.key() + "' is refused by OpenSSL: " + OpenSsl.drainErrors());
            }
            if ((int) Lib.SSL_CTX_CHECK_PRIVATE_KEY.invokeExact(ctx) != 1) {
                throw new IllegalArgumentException("--tls-key '" + pair.key() + "' is not the private key of --tls-cert '"
                        + pair.cert() + "' (OpenSSL: " + OpenSsl.drainErrors() + ")");
            }
            ctrl(ctx, OpenSsl.SSL_CTRL_SET_MIN_PROTO_VERSION, protocols.contains("TLSv1.2") ? OpenSsl.TLS1_2_VERSION : OpenSsl.TLS1_3_VERSION);
            ctrl(ctx, OpenSsl.SSL_CTRL_SET_MAX_PROTO_VERSION, protocols.contains("TLSv1.3") ? OpenSsl.TLS1_3_VERSION : OpenSsl.TLS1_2_VERSION);
            long ignored = (long) Lib.SSL_CTX_SET_OPTIONS.invokeExact(ctx,
                    OpenSsl.SSL_OP_CIPHER_SERVER_PREFERENCE | OpenSsl.SSL_OP_NO_RENEGOTIATION);
            ctrl(ctx, OpenSsl.SSL_CTRL_MODE, OpenSsl.SSL_MODE_RELEASE_BUFFERS);
            ctrl(ctx, OpenSsl.SSL_CTRL_SET_SESS_CACHE_MODE, OpenSsl.SSL_SESS_CACHE_OFF);
            ignored = (long) Lib.SSL_CTX_SET_TIMEOUT.invokeExact(ctx, (long) TlsContext.SESSION_LIFETIME_SECONDS);
            if ((int) Lib.SSL_CTX_SET_CIPHER_LIST.invokeExact(ctx, a.allocateFrom(TLS12_CIPHERS)) != 1
                    || (int) Lib.SSL_CTX_SET_CIPHERSUITES.invokeExact(ctx, a.allocateFrom(TLS13_SUITES)) != 1) {
                throw new IllegalArgumentException("TLS cannot be set up: OpenSSL refuses the cipher suites: " + OpenSsl.drainErrors());
            }
            MemorySegment sid = a.allocate(SESSION_ID_CONTEXT.length);
            sid.copyFrom(MemorySegment.ofArray(SESSION_ID_CONTEXT));
            if ((int) Lib.SSL_CTX_SET_SESSION_ID_CONTEXT.invokeExact(ctx, sid, SESSION_ID_CONTEXT.length) != 1) {
                throw new IllegalArgumentException("TLS cannot be set up: SSL_CTX_set_session_id_context: " + OpenSsl.drainErrors());
            }
            Lib.SSL_CTX_SET_ALPN_SELECT_CB.invokeExact(ctx, alpn, MemorySegment.NULL);
            ignored = (long) Lib.SSL_CTX_CALLBACK_CTRL.invokeExact(ctx, OpenSsl.SSL_CTRL_SET_TLSEXT_SERVERNAME_CB, sni);
            return ctx;
        } catch (IllegalArgumentException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("OpenSSL: " + t, t);
        }
    }

    private static void ctrl(MemorySegment ctx, int cmd, long arg) throws Throwable {
        long ignored = (long) Lib.SSL_CTX_CTRL.invokeExact(ctx, cmd, arg, MemorySegment.NULL);
    }

    /**
     * The servername callback (int cb(SSL *, int *alert, void *arg)): the certificate whose names match, else the
     * default's, which the SSL already has. Never throws (an upcall that throws ends the JVM): on any trouble the
     * default certificate answers.
     */
    private int onServerName(MemorySegment ssl, MemorySegment alert, MemorySegment arg) {
        try {
            String name = OpenSsl.cString((MemorySegment) Lib.SSL_GET_SERVERNAME.invokeExact(ssl, 0));
            int i = keys.indexFor(name);
            if (i > 0) {
                MemorySegment ignored = (MemorySegment) Lib.SSL_SET_SSL_CTX.invokeExact(ssl, contexts[i]);
            }
        } catch (Throwable ignored) {
            // the default certificate
        }
        return OpenSsl.SSL_TLSEXT_ERR_OK;
    }

    /**
     * The ALPN callback (int cb(SSL *, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
     * unsigned int inlen, void *arg)): http/1.1 when the client offers it, pointing into the client's own list (which
     * outlives the callback); otherwise no ALPN at all, as nginx answers, rather than a fatal alert. Never throws.
     */
    private static int onAlpn(MemorySegment ssl, MemorySegment out, MemorySegment outLen, MemorySegment in, int inLen,
                              MemorySegment arg) {
        try {
            MemorySegment list = in.reinterpret(Integer.toUnsignedLong(inLen));
            for (long i = 0; i < list.byteSize(); ) {
                int len = list.get(JAVA_BYTE, i) & 0xff;
                if (i + 1 + len > list.byteSize()) break;
                if (len == HTTP11.length && list.asSlice(i + 1, len).mismatch(MemorySegment.ofArray(HTTP11)) == -1) {
                    out.reinterpret(ADDRESS.byteSize()).set(ADDRESS, 0, list.asSlice(i + 1, len));
                    outLen.reinterpret(1).set(JAVA_BYTE, 0, (byte) len);
                    return OpenSsl.SSL_TLSEXT_ERR_OK;
                }
                i += 1 + len;
            }
        } catch (Throwable ignored) {
            // no ALPN
        }
        return OpenSsl.SSL_TLSEXT_ERR_NOACK;
    }

    /** The default context: where every connection's SSL starts. */
    MemorySegment defaultContext() { return contexts[0]; }

    @Override
    public SSLEngine newEngine() { return new OpenSslEngine(this); }

    @Override
    public String engineName() { return OPENSSL; }

    public List<String> protocols() { return protocols; }

    public SniKeyManager keys() { return keys; }
}
