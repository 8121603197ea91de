package flash.net;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Reads the PROXY protocol header (haproxy's doc/proxy-protocol.txt, versions 1 and 2) that a load balancer sends
 * before the first byte of the client's own data, to tell us who the client is. Incremental: feed it whatever a
 * non-blocking read brought, split anywhere, until {@link #read} says the header is complete; it consumes exactly
 * the header's bytes, so what follows in the buffer is the client's first HTTP bytes.
 *
 * <p>Accepted: v1 {@code TCP4}, {@code TCP6} and {@code UNKNOWN}; v2 {@code PROXY} over TCP/IPv4 and TCP/IPv6, and
 * {@code LOCAL} (a health check: the proxy speaks for itself). For v1 {@code UNKNOWN}, v2 {@code LOCAL} and the v2
 * families we do not use (AF_UNSPEC, AF_UNIX, UDP), the connection keeps its real peer address, as the
 * specification asks. v2 TLVs are skipped as they arrive, so a header larger than the read buffer is fine.
 * Anything else (a plain HTTP request, a bad address, a bare CR or LF, no CRLF within 107 bytes) is
 * {@link Malformed}, detected as early as the bytes allow, and the connection must be closed without an answer.
 * Addresses are parsed as literals only: never a DNS lookup.
 */
public final class ProxyProtocol {
    /** The longest v1 line, CRLF included ("PROXY UNKNOWN" with two full IPv6 addresses and ports). */
    static final int V1_MAX = 107;
    private static final byte[] V1_SIGNATURE = "PROXY ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
    private static final int V2_FIXED = 16;

    /** The header is not the PROXY protocol, or breaks it: the connection is closed without a response. */
    public static final class Malformed extends Exception {
        public Malformed(String message) { super(message, null, false, false); }
    }

    private long skip = -1;          // v2: header bytes (TLVs) still to discard; -1 until the fixed part is read
    private InetSocketAddress source;
    private boolean done;

    /**
     * Consumes header bytes from {@code in} (read mode). True once the whole header has been consumed (the rest of
     * {@code in} is the client's data); false when more bytes are needed (what was not consumed must be kept and
     * presented again, with the next bytes after it).
     */
    public boolean read(ByteBuffer in) throws Malformed {
        if (done) return true;
        if (skip < 0) {
            if (!in.hasRemaining()) return false;
            boolean v2 = in.get(in.position()) == V2_SIGNATURE[0];
            if (!(v2 ? readV2(in) : readV1(in))) return false;
        }
        int n = (int) Math.min(skip, in.remaining());
        in.position(in.position() + n);
        skip -= n;
        done = skip == 0;
        return done;
    }

    /**
     * The client's address and port from the header, or null when the connection's real peer stands (v1 UNKNOWN,
     * v2 LOCAL, a family we do not use). Only meaningful once {@link #read} returned true.
     */
    public InetSocketAddress source() { return source; }

    // ------------------------------------------------------------------ version 1

    private boolean readV1(ByteBuffer in) throws Malformed {
        int start = in.position(), avail = in.remaining();
        matchPrefix(in, V1_SIGNATURE, "v1");
        if (avail < V1_SIGNATURE.length) return false;
        int end = -1; // the index of the CR
        for (int i = 0; i < Math.min(avail, V1_MAX); i++) {
            byte b = in.get(start + i);
            if (b == '\n') throw new Malformed("v1 line ends with a bare LF");
            if (b == '\r') {
                if (i + 1 >= avail) return false;
                if (in.get(start + i + 1) != '\n') throw new Malformed("v1 line has a bare CR");
                end = i;
                break;
            }
            if (b < 0x20 || b > 0x7e) throw new Malformed("v1 line has a byte that is not printable US-ASCII");
        }
        if (end < 0) {
            if (avail >= V1_MAX) throw new Malformed("v1 line has no CRLF within " + V1_MAX + " bytes");
            return false;
        }
        byte[] line = new byte[end];
        in.get(start, line);
        source = parseV1(new String(line, StandardCharsets.US_ASCII));
        in.position(start + end + 2);
        skip = 0;
        return true;
    }

    private static InetSocketAddress parseV1(String line) throws Malformed {
        String rest = line.substring(V1_SIGNATURE.length);
        if (rest.equals("UNKNOWN") || rest.startsWith("UNKNOWN ")) return null; // the rest is to be ignored
        String[] f = rest.split(" ", -1);
        if (f.length != 5) throw new Malformed("v1 line needs TCP4 or TCP6 and four fields, one space apart: '" + line + "'");
        boolean v4 = f[0].equals("TCP4");
        if (!v4 && !f[0].equals("TCP6")) throw new Malformed("v1 protocol must be TCP4, TCP6 or UNKNOWN, not '" + f[0] + "'");
        InetAddress src = v4 ? ipv4(f[1]) : ipv6(f[1]);
        if (v4) ipv4(f[2]); else ipv6(f[2]); // the destination is not used, but must be well formed
        int srcPort = port(f[3]);
        port(f[4]);
        return new InetSocketAddress(src, srcPort);
    }

    /** Exactly four decimal numbers 0-255 without leading zeroes (which would read as octal elsewhere). */
    private static InetAddress ipv4(String s) throws Malformed {
        String[] parts = s.split("\\.", -1);
        if (parts.length != 4) throw new Malformed("not an IPv4 address: '" + s + "'");
        byte[] a = new byte[4];
        for (int i = 0; i < 4; i++) a[i] = (byte) number(parts[i], 255, s);
        try {
            return InetAddress.getByAddress(a);
        } catch (UnknownHostException e) {
            throw new Malformed("not an IPv4 address: '" + s + "'");
        }
    }

    private static InetAddress ipv6(String s) throws Malformed {
        if (s.isEmpty() || s.length() > 45 || !s.chars().allMatch(c -> c == ':' || c == '.' || Character.digit(c, 16) >= 0)) {
            throw new Malformed("not an IPv6 address: '" + s + "'");
        }
        try {
            return Inet6Address.ofLiteral(s); // a literal only: no name lookup
        } catch (IllegalArgumentException e) {
            throw new Malformed("not an IPv6 address: '" + s + "'");
        }
    }

    private static int port(String s) throws Malformed { return number(s, 65535, s); }

    private static int number(String s, int max, String whole) throws Malformed {
        if (s.isEmpty() || s.length() > 5 || (s.length() > 1 && s.charAt(0) == '0')
                || !s.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new Malformed("bad number '" + s + "' in '" + whole + "'");
        }
        int v = Integer.parseInt(s);
        if (v > max) throw new Malformed("number " + v + " out of range in '" + whole + "'");
        return v;
    }

    // ------------------------------------------------------------------ version 2

    private boolean readV2(ByteBuffer in) throws Malformed {
        int p = in.position(), avail = in.remaining();
        matchPrefix(in, V2_SIGNATURE, "v2");
        if (avail > 12 && (in.get(p + 12) & 0xf0) != 0x20) throw new Malformed("v2 version must be 2");
        int command = avail > 12 ? in.get(p + 12) & 0x0f : 0;
        if (command > 1) throw new Malformed("v2 command must be LOCAL or PROXY, not " + command);
        int family = avail > 13 ? (in.get(p + 13) & 0xf0) >> 4 : 0, transport = avail > 13 ? in.get(p + 13) & 0x0f : 0;
        if (family > 3) throw new Malformed("v2 address family " + family + " is not defined");
        if (transport > 2) throw new Malformed("v2 transport " + transport + " is not defined");
        if (avail < V2_FIXED) return false;
        int length = in.getShort(p + 14) & 0xffff;
        boolean proxy = command == 1;
        int addresses = !proxy ? 0 : switch (family) { case 1 -> 12; case 2 -> 36; case 3 -> 216; default -> 0; };
        if (length < addresses) throw new Malformed("v2 length " + length + " is too short for its addresses (" + addresses + ")");
        boolean tcp = proxy && transport == 1 && (family == 1 || family == 2);
        if (!tcp) { // LOCAL, or a family we keep the real peer for: the whole block is skipped
            in.position(p + V2_FIXED);
            skip = length;
            return true;
        }
        if (avail < V2_FIXED + addresses) return false; // never parse an address before all of it is here
        int size = family == 1 ? 4 : 16;
        byte[] a = new byte[size];
        in.get(p + V2_FIXED, a);
        int port = in.getShort(p + V2_FIXED + 2 * size) & 0xffff;
        try {
            source = new InetSocketAddress(family == 1 ? Inet4Address.getByAddress(a) : Inet6Address.getByAddress(null, a, null), port);
        } catch (UnknownHostException e) {
            throw new Malformed("v2 address: " + e.getMessage());
        }
        in.position(p + V2_FIXED + addresses);
        skip = length - addresses; // TLVs (haproxy's unique-id, SSL details...): skipped
        return true;
    }

    /** Fails as soon as one byte present differs from the signature: a plain request is refused at its first byte. */
    private static void matchPrefix(ByteBuffer in, byte[] signature, String version) throws Malformed {
        int n = Math.min(in.remaining(), signature.length);
        for (int i = 0; i < n; i++) {
            if (in.get(in.position() + i) != signature[i]) throw new Malformed("no PROXY protocol " + version + " signature");
        }
    }
}
