package flash.net;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The PROXY protocol reader on its own: every header form, split at every byte as non-blocking reads may split it,
 * and the malformed headers it must refuse (as early as the bytes allow).
 */
public class ProxyProtocolTest {
    static final byte[] REQUEST = "GET / HTTP/1.1\r\nHost: t\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    /** What comes out of feeding {@code bytes} in pieces: the source and the bytes left after the header. */
    record Outcome(InetSocketAddress source, byte[] rest) {}

    /** Feeds the pieces as a connection does: into a buffer in write mode, flip, read, compact. */
    static Outcome feed(byte[]... pieces) throws ProxyProtocol.Malformed {
        ProxyProtocol p = new ProxyProtocol();
        ByteBuffer in = ByteBuffer.allocate(4096);
        boolean done = false;
        ByteArrayOutputStream rest = new ByteArrayOutputStream();
        for (byte[] piece : pieces) {
            if (done) {
                rest.writeBytes(piece);
                continue;
            }
            in.put(piece);
            in.flip();
            done = p.read(in);
            in.compact();
            if (done) {
                in.flip();
                byte[] left = new byte[in.remaining()];
                in.get(left);
                rest.writeBytes(left);
            }
        }
        return done ? new Outcome(p.source(), rest.toByteArray()) : null;
    }

    public static byte[] concat(byte[] a, byte[] b) {
        byte[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    static byte[] ascii(String s) { return s.getBytes(StandardCharsets.US_ASCII); }

    /** A v2 header: command (0 LOCAL, 1 PROXY), family/transport byte, address block, then TLV bytes. */
    public static byte[] v2(int command, int famProto, byte[] addresses, byte[] tlvs) {
        ByteBuffer b = ByteBuffer.allocate(16 + addresses.length + tlvs.length);
        b.put(new byte[] {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A});
        b.put((byte) (0x20 | command)).put((byte) famProto).putShort((short) (addresses.length + tlvs.length));
        return b.put(addresses).put(tlvs).array();
    }

    public static byte[] v4Block(int a, int b, int c, int d, int srcPort, int dstPort) {
        return ByteBuffer.allocate(12).put(new byte[] {(byte) a, (byte) b, (byte) c, (byte) d, 127, 0, 0, 1})
                .putShort((short) srcPort).putShort((short) dstPort).array();
    }

    public static byte[] v6Block(String src, int srcPort) throws Exception {
        return ByteBuffer.allocate(36).put(java.net.InetAddress.getByName(src).getAddress())
                .put(java.net.InetAddress.getByName("::1").getAddress()).putShort((short) srcPort).putShort((short) 80).array();
    }

    public static byte[] tlv(int type, int length) {
        ByteBuffer b = ByteBuffer.allocate(3 + length).put((byte) type).putShort((short) length);
        for (int i = 0; i < length; i++) b.put((byte) ('a' + i % 26));
        return b.array();
    }

    /** Every split point, and one byte at a time: the same source, and the request bytes untouched after it. */
    static void assertEverySplit(byte[] header, String host, int port) throws Exception {
        byte[] all = concat(header, REQUEST);
        for (int k = 0; k <= all.length; k++) {
            Outcome o = feed(Arrays.copyOfRange(all, 0, k), Arrays.copyOfRange(all, k, all.length));
            assertThat(o).as("split at %d", k).isNotNull();
            check(o, host, port);
        }
        byte[][] singles = new byte[all.length][];
        for (int i = 0; i < all.length; i++) singles[i] = new byte[] {all[i]};
        check(feed(singles), host, port);
        // and no split: incomplete until the last header byte
        assertThat(feed(Arrays.copyOf(header, header.length - 1))).isNull();
    }

    private static void check(Outcome o, String host, int port) {
        if (host == null) {
            assertThat(o.source()).isNull();
        } else {
            assertThat(o.source().getAddress().getHostAddress()).isEqualTo(host);
            assertThat(o.source().getPort()).isEqualTo(port);
        }
        assertThat(o.rest()).isEqualTo(REQUEST);
    }

    @Test
    void v1Tcp4() throws Exception {
        assertEverySplit(ascii("PROXY TCP4 192.0.2.7 127.0.0.1 56324 80\r\n"), "192.0.2.7", 56324);
    }

    @Test
    void v1Tcp6() throws Exception {
        assertEverySplit(ascii("PROXY TCP6 2001:db8::7 ::1 65535 443\r\n"), "2001:db8:0:0:0:0:0:7", 65535);
    }

    @Test
    void v1LongestLine() throws Exception {
        String f = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
        byte[] line = ascii("PROXY UNKNOWN " + f + " " + f + " 65535 65535\r\n");
        assertThat(line).hasSize(ProxyProtocol.V1_MAX);
        assertEverySplit(line, null, 0);
    }

    @Test
    void v1Unknown() throws Exception {
        assertEverySplit(ascii("PROXY UNKNOWN\r\n"), null, 0);
    }

    @Test
    void v2Ipv4() throws Exception {
        assertEverySplit(v2(1, 0x11, v4Block(203, 0, 113, 9, 40000, 80), new byte[0]), "203.0.113.9", 40000);
    }

    @Test
    void v2Ipv6() throws Exception {
        assertEverySplit(v2(1, 0x21, v6Block("2001:db8::1:2", 1234), new byte[0]), "2001:db8:0:0:0:0:1:2", 1234);
    }

    @Test
    void v2LocalKeepsTheRealPeerAndSkipsItsBlock() throws Exception {
        assertEverySplit(v2(0, 0x00, new byte[0], new byte[0]), null, 0);
        // a LOCAL header may still carry addresses: they are skipped, not used
        assertEverySplit(v2(0, 0x11, v4Block(10, 1, 2, 3, 5, 6), new byte[0]), null, 0);
    }

    @Test
    void v2TlvsAreSkipped() throws Exception {
        byte[] tlvs = concat(concat(tlv(0x05, 20), tlv(0x20, 40)), tlv(0x04, 0));
        assertEverySplit(v2(1, 0x11, v4Block(198, 51, 100, 4, 1, 2), tlvs), "198.51.100.4", 1);
    }

    @Test
    void v2TlvsLargerThanTheBufferAreSkippedAsTheyArrive() throws Exception {
        byte[] header = v2(1, 0x11, v4Block(198, 51, 100, 5, 7, 8), tlv(0x05, 60_000));
        byte[][] pieces = new byte[header.length / 1000 + 2][];
        int at = 0;
        for (int i = 0; i < pieces.length - 1; i++) {
            pieces[i] = Arrays.copyOfRange(header, at, Math.min(header.length, at + 1000));
            at = Math.min(header.length, at + 1000);
        }
        pieces[pieces.length - 1] = REQUEST;
        check(feed(pieces), "198.51.100.5", 7);
    }

    @Test
    void v2UnixAndUnspecKeepTheRealPeer() throws Exception {
        assertEverySplit(v2(1, 0x31, new byte[216], new byte[0]), null, 0);
        assertEverySplit(v2(1, 0x00, new byte[0], new byte[0]), null, 0);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "GET / HTTP/1.1\r\n",                                  // no header at all
            "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",                    // bare LF
            "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX",                   // bare CR
            "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",                    // a field missing
            "PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n",                 // two spaces
            "PROXY TCP4 1.2.3.04 5.6.7.8 1 2\r\n",                 // leading zero
            "PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n",                // out of range
            "PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n",                    // three parts
            "PROXY TCP4 ::1 ::1 1 2\r\n",                          // family mismatch
            "PROXY TCP6 1.2.3.4 ::1 1 2\r\n",                      // family mismatch
            "PROXY TCP6 ::g ::1 1 2\r\n",                          // not hex
            "PROXY TCP6 [::1] ::1 1 2\r\n",                        // brackets
            "PROXY TCP4 localhost 5.6.7.8 1 2\r\n",                // a name: never looked up
            "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n",              // port out of range
            "PROXY TCP4 1.2.3.4 5.6.7.8 080 2\r\n",                // port with a leading zero
            "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n",                  // unknown protocol
            "proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n",                  // case matters
            "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n",                 // trailing space
            "PROXY TCP4 1.2.3.4\u00015.6.7.8 1 2\r\n",             // control byte
    })
    void malformedV1IsRefused(String header) {
        assertThatThrownBy(() -> feed(ascii(header))).isInstanceOf(ProxyProtocol.Malformed.class);
    }

    @Test
    void noCrlfWithin107BytesIsRefused() {
        byte[] line = ascii("PROXY UNKNOWN " + "f".repeat(200));
        assertThatThrownBy(() -> feed(line)).isInstanceOf(ProxyProtocol.Malformed.class).hasMessageContaining("107");
        assertThat(catchNothing(Arrays.copyOf(line, ProxyProtocol.V1_MAX - 1))).isTrue(); // 106 bytes: still waiting
    }

    @Test
    void aPlainRequestIsRefusedAtItsFirstByte() {
        assertThatThrownBy(() -> feed(ascii("G"))).isInstanceOf(ProxyProtocol.Malformed.class);
        assertThatThrownBy(() -> feed(ascii("PROXZ"))).isInstanceOf(ProxyProtocol.Malformed.class);
        assertThatThrownBy(() -> feed(new byte[] {0x0D, 0x0A, 0x0D, 0x0A, 0x01})).isInstanceOf(ProxyProtocol.Malformed.class);
    }

    @Test
    void malformedV2IsRefused() throws Exception {
        byte[] ok = v2(1, 0x11, v4Block(1, 2, 3, 4, 5, 6), new byte[0]);
        byte[] version1 = ok.clone();
        version1[12] = 0x11;
        byte[] command2 = ok.clone();
        command2[12] = 0x22;
        byte[] family4 = ok.clone();
        family4[13] = 0x41;
        byte[] transport3 = ok.clone();
        transport3[13] = 0x13;
        byte[] shortBlock = ok.clone();
        shortBlock[15] = 8; // length 8: too short for two IPv4 addresses and ports
        for (byte[] bad : new byte[][] {version1, command2, family4, transport3, shortBlock}) {
            assertThatThrownBy(() -> feed(bad)).isInstanceOf(ProxyProtocol.Malformed.class);
        }
        // refused from the first 14 bytes, before the length arrives
        assertThatThrownBy(() -> feed(Arrays.copyOf(command2, 13))).isInstanceOf(ProxyProtocol.Malformed.class);
    }

    private static boolean catchNothing(byte[] bytes) {
        try {
            return feed(bytes) == null;
        } catch (ProxyProtocol.Malformed e) {
            return false;
        }
    }
}
