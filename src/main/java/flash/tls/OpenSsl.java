package flash.tls;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The OpenSSL 3 calls of {@link OpenSslContext} and {@link OpenSslEngine}, linked once through FFM against
 * {@code libssl.so.3} and {@code libcrypto.so.3}. When either cannot be loaded (not installed, an OpenSSL older than
 * 3, native access not enabled) {@link #available()} is false and {@link #unavailableReason()} says why; nothing
 * else here may be touched then.
 *
 * <p>Calls that only move bytes between memory BIOs or read a flag never call back into Java and take no time, so
 * they are linked {@code critical} (no thread-state transition); the handshake, SSL_read/SSL_write and SSL_shutdown
 * may call our SNI and ALPN callbacks and are linked as ordinary downcalls.
 */
public final class OpenSsl {
    public static final String LIBSSL = "libssl.so.3";
    static final int SSL_ERROR_SSL = 1, SSL_ERROR_WANT_READ = 2, SSL_ERROR_WANT_WRITE = 3, SSL_ERROR_SYSCALL = 5,
            SSL_ERROR_ZERO_RETURN = 6;
    static final int SSL_RECEIVED_SHUTDOWN = 2;
    static final int SSL_FILETYPE_PEM = 1;
    static final int TLS1_2_VERSION = 0x0303, TLS1_3_VERSION = 0x0304;
    static final int SSL_CTRL_MODE = 33, SSL_CTRL_SET_SESS_CACHE_MODE = 44, SSL_CTRL_SET_TLSEXT_SERVERNAME_CB = 53,
            SSL_CTRL_SET_MIN_PROTO_VERSION = 123, SSL_CTRL_SET_MAX_PROTO_VERSION = 124;
    static final int BIO_CTRL_PENDING = 10;
    static final long SSL_OP_CIPHER_SERVER_PREFERENCE = 1L << 22, SSL_OP_NO_RENEGOTIATION = 1L << 30;
    static final long SSL_MODE_RELEASE_BUFFERS = 0x10;
    static final long SSL_SESS_CACHE_OFF = 0;
    static final int SSL_TLSEXT_ERR_OK = 0, SSL_TLSEXT_ERR_NOACK = 3;

    private OpenSsl() {}

    /** Whether libssl.so.3 (OpenSSL 3) is linked; the first call links it. */
    public static boolean available() { return Probe.FAILURE == null; }

    /** Why OpenSSL cannot be used, or null. */
    public static String unavailableReason() { return Probe.FAILURE; }

    /** "OpenSSL 3.0.19 27 Jan 2026", say. */
    public static String version() { return available() ? Lib.VERSION : null; }

    private static final class Probe {
        static final String FAILURE = probe();

        private static String probe() {
            try {
                return Lib.VERSION_NUM >= 0x30000000L ? null
                        : LIBSSL + " is OpenSSL " + Lib.VERSION + ", older than 3";
            } catch (ExceptionInInitializerError e) {
                Throwable c = e.getCause() == null ? e : e.getCause();
                return LIBSSL + " cannot be loaded (" + c.getMessage() + ")";
            } catch (LinkageError | RuntimeException e) {
                return LIBSSL + " cannot be loaded (" + e + ")";
            }
        }
    }

    /** The linked functions; its initialisation fails when the libraries cannot be loaded. */
    static final class Lib {
        private static final Linker LINKER = Linker.nativeLinker();
        private static final SymbolLookup SSL = SymbolLookup.libraryLookup(LIBSSL, Arena.global());
        private static final SymbolLookup CRYPTO = SymbolLookup.libraryLookup("libcrypto.so.3", Arena.global());
        private static final Linker.Option CRITICAL = Linker.Option.critical(false);

        static final MethodHandle OPENSSL_VERSION_NUM = link("OpenSSL_version_num", FunctionDescriptor.of(JAVA_LONG));
        static final MethodHandle OPENSSL_VERSION = link("OpenSSL_version", FunctionDescriptor.of(ADDRESS, JAVA_INT));
        static final long VERSION_NUM = versionNum();
        static final String VERSION = versionText();

        static final MethodHandle TLS_SERVER_METHOD = link("TLS_server_method", FunctionDescriptor.of(ADDRESS));
        static final MethodHandle SSL_CTX_NEW = link("SSL_CTX_new", FunctionDescriptor.of(ADDRESS, ADDRESS));
        static final MethodHandle SSL_CTX_USE_CERTIFICATE_CHAIN_FILE = link("SSL_CTX_use_certificate_chain_file",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        static final MethodHandle SSL_CTX_USE_PRIVATEKEY_FILE = link("SSL_CTX_use_PrivateKey_file",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
        static final MethodHandle SSL_CTX_CHECK_PRIVATE_KEY = link("SSL_CTX_check_private_key",
                FunctionDescriptor.of(JAVA_INT, ADDRESS));
        static final MethodHandle SSL_CTX_CTRL = link("SSL_CTX_ctrl",
                FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS));
        static final MethodHandle SSL_CTX_CALLBACK_CTRL = link("SSL_CTX_callback_ctrl",
                FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_INT, ADDRESS));
        static final MethodHandle SSL_CTX_SET_OPTIONS = link("SSL_CTX_set_options",
                FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_LONG));
        static final MethodHandle SSL_CTX_SET_CIPHER_LIST = link("SSL_CTX_set_cipher_list",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        static final MethodHandle SSL_CTX_SET_CIPHERSUITES = link("SSL_CTX_set_ciphersuites",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        static final MethodHandle SSL_CTX_SET_ALPN_SELECT_CB = link("SSL_CTX_set_alpn_select_cb",
                FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS));
        static final MethodHandle SSL_CTX_SET_SESSION_ID_CONTEXT = link("SSL_CTX_set_session_id_context",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
        static final MethodHandle SSL_CTX_SET_TIMEOUT = link("SSL_CTX_set_timeout",
                FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_LONG));

        static final MethodHandle SSL_NEW = link("SSL_new", FunctionDescriptor.of(ADDRESS, ADDRESS));
        static final MethodHandle SSL_FREE = link("SSL_free", FunctionDescriptor.ofVoid(ADDRESS));
        static final MethodHandle SSL_SET_BIO = link("SSL_set_bio", FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS));
        static final MethodHandle SSL_SET_ACCEPT_STATE = link("SSL_set_accept_state", FunctionDescriptor.ofVoid(ADDRESS));
        static final MethodHandle SSL_DO_HANDSHAKE = link("SSL_do_handshake", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        static final MethodHandle SSL_READ = link("SSL_read", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
        static final MethodHandle SSL_WRITE = link("SSL_write", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
        static final MethodHandle SSL_SHUTDOWN = link("SSL_shutdown", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        static final MethodHandle SSL_GET_ERROR = link("SSL_get_error",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), CRITICAL);
        static final MethodHandle SSL_GET_SHUTDOWN = link("SSL_get_shutdown", FunctionDescriptor.of(JAVA_INT, ADDRESS), CRITICAL);
        static final MethodHandle SSL_GET_VERSION = link("SSL_get_version", FunctionDescriptor.of(ADDRESS, ADDRESS), CRITICAL);
        static final MethodHandle SSL_GET_CURRENT_CIPHER = link("SSL_get_current_cipher",
                FunctionDescriptor.of(ADDRESS, ADDRESS), CRITICAL);
        static final MethodHandle SSL_CIPHER_STANDARD_NAME = link("SSL_CIPHER_standard_name",
                FunctionDescriptor.of(ADDRESS, ADDRESS), CRITICAL);
        static final MethodHandle SSL_GET0_ALPN_SELECTED = link("SSL_get0_alpn_selected",
                FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS), CRITICAL);
        static final MethodHandle SSL_GET_SERVERNAME = link("SSL_get_servername",
                FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT), CRITICAL);
        static final MethodHandle SSL_SET_SSL_CTX = link("SSL_set_SSL_CTX", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));

        static final MethodHandle BIO_S_MEM = link("BIO_s_mem", FunctionDescriptor.of(ADDRESS));
        static final MethodHandle BIO_NEW = link("BIO_new", FunctionDescriptor.of(ADDRESS, ADDRESS));
        static final MethodHandle BIO_READ = link("BIO_read", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT), CRITICAL);
        static final MethodHandle BIO_WRITE = link("BIO_write", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT), CRITICAL);
        static final MethodHandle BIO_CTRL = link("BIO_ctrl",
                FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS), CRITICAL);

        static final MethodHandle ERR_GET_ERROR = link("ERR_get_error", FunctionDescriptor.of(JAVA_LONG), CRITICAL);
        static final MethodHandle ERR_CLEAR_ERROR = link("ERR_clear_error", FunctionDescriptor.ofVoid(), CRITICAL);
        static final MethodHandle ERR_ERROR_STRING_N = link("ERR_error_string_n",
                FunctionDescriptor.ofVoid(JAVA_LONG, ADDRESS, JAVA_LONG));

        /** The memory BIO's method table, static in libcrypto. */
        static final MemorySegment MEM_METHOD = memMethod();

        private static MethodHandle link(String name, FunctionDescriptor fd, Linker.Option... options) {
            MemorySegment sym = SSL.find(name).or(() -> CRYPTO.find(name))
                    .orElseThrow(() -> new IllegalStateException(name + " is missing from " + LIBSSL + "/libcrypto.so.3"));
            return LINKER.downcallHandle(sym, fd, options);
        }

        private static long versionNum() {
            try {
                return (long) OPENSSL_VERSION_NUM.invokeExact();
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }

        private static String versionText() {
            try {
                return cString((MemorySegment) OPENSSL_VERSION.invokeExact(0));
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }

        private static MemorySegment memMethod() {
            try {
                return (MemorySegment) BIO_S_MEM.invokeExact();
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }
    }

    /** A NUL-terminated string OpenSSL owns (a version, a cipher's name, a server name of at most 255 bytes). */
    static String cString(MemorySegment p) {
        return p.address() == 0 ? null : p.reinterpret(1024).getString(0);
    }

    /** Every error in this thread's OpenSSL error queue, joined, and the queue emptied. */
    static String drainErrors() {
        StringBuilder sb = new StringBuilder();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(256);
            for (int i = 0; i < 8; i++) {
                long e = (long) Lib.ERR_GET_ERROR.invokeExact();
                if (e == 0) break;
                Lib.ERR_ERROR_STRING_N.invokeExact(e, buf, 256L);
                if (!sb.isEmpty()) sb.append("; ");
                sb.append(buf.getString(0));
            }
            Lib.ERR_CLEAR_ERROR.invokeExact();
        } catch (Throwable t) {
            sb.append(t);
        }
        return sb.toString();
    }

    static void clearErrors() {
        try {
            Lib.ERR_CLEAR_ERROR.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
