package flash.net;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Accepted channels share their address objects, and every address still reads as the kernel reports it. */
class ChannelFootprintTest {

    @Test
    void acceptedChannelsShareEqualAddresses() throws Exception {
        assumeTrue(ChannelFootprint.available(), "needs --add-opens java.base/sun.nio.ch (the test JVM has it)");
        ChannelFootprint shared = new ChannelFootprint();
        try (ServerSocketChannel listener = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0))) {
            List<SocketChannel> open = new ArrayList<>();
            try {
                List<SocketChannel> accepted = new ArrayList<>();
                List<SocketAddress> clientSides = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    SocketChannel client = SocketChannel.open(listener.getLocalAddress());
                    open.add(client);
                    clientSides.add(client.getLocalAddress());
                    SocketChannel ch = listener.accept();
                    open.add(ch);
                    SocketAddress localBefore = ch.getLocalAddress(), remoteBefore = ch.getRemoteAddress();
                    shared.trim(ch);
                    assertThat(ch.getLocalAddress()).isEqualTo(localBefore);
                    assertThat(ch.getRemoteAddress()).isEqualTo(remoteBefore);
                    accepted.add(ch);
                }
                // One local address object for all three; one InetAddress behind their remote addresses.
                assertThat(accepted.get(1).getLocalAddress()).isSameAs(accepted.get(0).getLocalAddress());
                assertThat(accepted.get(2).getLocalAddress()).isSameAs(accepted.get(0).getLocalAddress());
                InetAddress first = ((InetSocketAddress) accepted.get(0).getRemoteAddress()).getAddress();
                assertThat(((InetSocketAddress) accepted.get(1).getRemoteAddress()).getAddress()).isSameAs(first);
                assertThat(((InetSocketAddress) accepted.get(2).getRemoteAddress()).getAddress()).isSameAs(first);
                // Each remote address keeps its own port: the client's side of that connection.
                for (int i = 0; i < 3; i++) {
                    assertThat(accepted.get(i).getRemoteAddress()).isEqualTo(clientSides.get(i));
                }
            } finally {
                for (SocketChannel c : open) c.close();
            }
        }
    }

    @Test
    void differentAddressesInOneSlotAreNotMerged() throws Exception {
        assumeTrue(ChannelFootprint.available(), "needs --add-opens java.base/sun.nio.ch (the test JVM has it)");
        ChannelFootprint shared = new ChannelFootprint();
        // 127.0.0.1 and 127.0.0.65 fall in the same slot (their hashes agree in the low six bits), as do two local
        // addresses on one port: the tables must compare, not trust the slot.
        try (ServerSocketChannel a = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0))) {
            int port = ((InetSocketAddress) a.getLocalAddress()).getPort();
            try (ServerSocketChannel b = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.65", port));
                 SocketChannel ca = SocketChannel.open().bind(new InetSocketAddress("127.0.0.65", 0));
                 SocketChannel cb = SocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0))) {
                ca.connect(a.getLocalAddress());
                cb.connect(b.getLocalAddress());
                try (SocketChannel sa = a.accept(); SocketChannel sb = b.accept()) {
                    assertThat(InetAddress.getByName("127.0.0.1").hashCode() & (ChannelFootprint.SLOTS - 1))
                            .isEqualTo(InetAddress.getByName("127.0.0.65").hashCode() & (ChannelFootprint.SLOTS - 1));
                    shared.trim(sa);
                    shared.trim(sb);
                    assertThat(sa.getLocalAddress()).isEqualTo(a.getLocalAddress());
                    assertThat(sb.getLocalAddress()).isEqualTo(b.getLocalAddress());
                    assertThat(sa.getRemoteAddress()).isEqualTo(ca.getLocalAddress());
                    assertThat(sb.getRemoteAddress()).isEqualTo(cb.getLocalAddress());
                }
            }
        }
    }

    @Test
    void aTrimmedChannelStillReadsWritesAndCloses() throws Exception {
        assumeTrue(ChannelFootprint.available(), "needs --add-opens java.base/sun.nio.ch (the test JVM has it)");
        try (ServerSocketChannel listener = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
             SocketChannel client = SocketChannel.open(listener.getLocalAddress())) {
            SocketChannel ch = listener.accept();
            new ChannelFootprint().trim(ch);
            client.write(ByteBuffer.wrap(new byte[] {1, 2, 3}));
            ByteBuffer in = ByteBuffer.allocate(3);
            while (in.hasRemaining()) assertThat(ch.read(in)).isNotNegative();
            assertThat(in.array()).containsExactly(1, 2, 3);
            ch.write(ByteBuffer.wrap(new byte[] {4}));
            ByteBuffer back = ByteBuffer.allocate(1);
            assertThat(client.read(back)).isEqualTo(1);
            assertThat(ch.toString()).contains(client.getLocalAddress().toString().replace("/", ""));
            ch.close();
            assertThat(client.read(ByteBuffer.allocate(1))).isEqualTo(-1);
        }
    }

    @Test
    void aChannelWithoutAddressesIsLeftAlone() throws Exception {
        // Never connected, so it has no addresses: nothing to share, and no error.
        try (SocketChannel unconnected = SocketChannel.open()) {
            new ChannelFootprint().trim(unconnected);
            assertThat(unconnected.getRemoteAddress()).isNull();
            assertThat(unconnected.getLocalAddress()).isNull();
        }
    }
}
