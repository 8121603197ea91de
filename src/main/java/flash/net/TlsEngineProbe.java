package flash.net;

import flash.sys.Native;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Which TLS engine serves HTTPS, and why kernel TLS does not, found out once per process at start (it reads a file
 * and opens sockets: never on an event loop).
 *
 * <p>Kernel TLS (sendfile under TLS) needs two things: the kernel's {@code tls} upper-layer protocol, attached to a
 * connected TCP socket by {@code setsockopt(SOL_TCP, TCP_ULP, "tls")}, and a TLS library that hands it the session
 * keys after the handshake (OpenSSL's {@code libssl.so.3}: the JDK's SSLEngine exposes no keys). The probe asks for
 * real rather than guessing from the kernel version: it reads {@code /proc/sys/net/ipv4/tcp_available_ulp}, tries
 * the setsockopt on the accepted end of a loopback TCP connection and keeps the errno, and opens libssl. Flash has no kernel TLS
 * transport: TLS runs in user space, by OpenSSL or the JDK's SSLEngine (--tls-engine, the engine named by the caller);
 * the answer says what a kernel TLS engine would lack here (on a kernel without the tls module: ENOENT).
 */
public record TlsEngineProbe(
        /** tcp_available_ulp's content, trimmed, or null when it cannot be read. */
        String availableUlps,
        /** Why tcp_available_ulp could not be read, or null. */
        String ulpsUnreadable,
        /** 0: the kernel attached "tls" to a socket; an errno; or {@link #NOT_TRIED}. */
        int ulpErrno,
        /** Why the setsockopt was not tried, or null. */
        String ulpNotTried,
        /** libssl.so.3 opens and has SSL_CTX_new. */
        boolean libssl,
        /** Why libssl is not usable, or null. */
        String libsslMissing) {

    public static final int NOT_TRIED = -1;
    static final int TCP_ULP = 31;
    static final Path AVAILABLE_ULP = Path.of("/proc/sys/net/ipv4/tcp_available_ulp");
    static final String LIBSSL = "libssl.so.3";

    private static final class Once {
        static final TlsEngineProbe RESULT = run();
    }

    /** The probe's answer for this process (run on the first call). */
    public static TlsEngineProbe get() { return Once.RESULT; }

    /** Runs the probe now. */
    @SuppressWarnings("try") // the client end is held open only so that the accepted end is connected
    public static TlsEngineProbe run() {
        String ulps = null, unreadable = null;
        try {
            ulps = Files.readString(AVAILABLE_ULP).strip();
        } catch (IOException | RuntimeException e) {
            unreadable = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
        }
        int errno = NOT_TRIED;
        String notTried = null;
        if (!Native.available()) {
            notTried = "the native layer is unavailable (" + Native.linkFailure() + ")";
        } else {
            try (ServerSocketChannel ss = ServerSocketChannel.open()
                    .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                 SocketChannel client = SocketChannel.open(ss.getLocalAddress());
                 SocketChannel accepted = ss.accept()) {
                int fd = Native.fd(accepted); // the server's end, as a server would attach it
                if (fd < 0) notTried = "socket descriptors are out of reach (needs --add-opens java.base/sun.nio.ch)";
                else errno = -Native.setsockoptString(fd, Native.SOL_TCP, TCP_ULP, "tls");
            } catch (IOException e) {
                notTried = "no loopback TCP connection: " + e.getMessage();
            }
        }
        boolean ssl = false;
        String sslMissing = null;
        try (Arena arena = Arena.ofConfined()) {
            ssl = SymbolLookup.libraryLookup(LIBSSL, arena).find("SSL_CTX_new").isPresent();
            if (!ssl) sslMissing = LIBSSL + " has no SSL_CTX_new";
        } catch (IllegalArgumentException | IllegalCallerException e) { // not found; native access not enabled
            sslMissing = LIBSSL + " cannot be loaded (" + e.getMessage() + ")";
        }
        return new TlsEngineProbe(ulps, unreadable, errno, notTried, ssl, sslMissing);
    }

    /** The kernel accepted the tls upper-layer protocol and libssl is there. */
    public boolean kernelTlsPossible() { return ulpErrno == 0 && libssl; }

    /** "available" or "unavailable", for the status page. */
    public String ktls() { return kernelTlsPossible() ? "available" : "unavailable"; }

    /** What the setsockopt answered, as a label: "ok", an errno name, or "not_tried". */
    public String ulpAnswer() {
        return ulpErrno == 0 ? "ok" : ulpErrno == NOT_TRIED ? "not_tried" : errnoName(ulpErrno);
    }

    /** The one start-up line (without the logger's prefix), for {@code engine} "openssl" or "sslengine". */
    public String startupLine(String engine) {
        String head = engine.equals("openssl") ? "TLS by OpenSSL (" + LIBSSL + ", " + flash.tls.OpenSsl.version() + "); "
                : "TLS by the JDK's SSLEngine; ";
        if (kernelTlsPossible()) {
            return head + "kernel TLS would be possible (the kernel attached \"tls\" to a TCP socket, " + LIBSSL
                    + " is installed) but Flash has no kernel TLS transport";
        }
        return head + "kernel TLS unavailable: " + String.join("; and ", reasons());
    }

    private List<String> reasons() {
        List<String> r = new ArrayList<>();
        String listed = availableUlps == null ? "unreadable: " + ulpsUnreadable : availableUlps.isEmpty() ? "empty" : availableUlps;
        String tried = ulpErrno == NOT_TRIED ? "not tried: " + ulpNotTried
                : ulpErrno == 0 ? "accepted" : errnoName(ulpErrno) + ", errno " + ulpErrno;
        boolean offered = availableUlps != null && List.of(availableUlps.split("\\s+")).contains("tls");
        if (ulpErrno != 0) {
            r.add((offered ? "the kernel lists a \"tls\" upper-layer protocol but refused it"
                    : "the kernel offers no \"tls\" upper-layer protocol")
                    + " (tcp_available_ulp: " + listed + "; setsockopt(SOL_TCP, TCP_ULP, \"tls\") on a loopback TCP socket: "
                    + tried + ")");
        }
        if (!libssl) r.add(libsslMissing);
        return r;
    }

    static String errnoName(int errno) {
        return switch (errno) {
            case 1 -> "EPERM";
            case 2 -> "ENOENT";
            case 13 -> "EACCES";
            case 17 -> "EEXIST";
            case 22 -> "EINVAL";
            case 38 -> "ENOSYS";
            case 92 -> "ENOPROTOOPT";
            case 95 -> "EOPNOTSUPP";
            case 107 -> "ENOTCONN";
            default -> "errno" + errno;
        };
    }

    /** The status page's gauge: which engine runs ("openssl", "sslengine"), whether kernel TLS could, the kernel's answer. */
    public void render(StringBuilder sb, String engine) {
        sb.append("# HELP flash_tls_engine The TLS engine serving HTTPS, whether kernel TLS could run here, and what "
                + "setsockopt(TCP_ULP, \"tls\") answered at start.\n# TYPE flash_tls_engine gauge\n");
        sb.append("flash_tls_engine{engine=\"").append(engine).append("\",ktls=\"").append(ktls())
                .append("\",tcp_ulp=\"").append(ulpAnswer()).append("\",libssl=\"").append(libssl ? "found" : "missing")
                .append("\"} 1\n");
    }
}
