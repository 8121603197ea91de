package flash.dispatch;

import flash.config.Architecture;
import flash.testing.AllArchs;
import flash.testing.TestServer;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The room for kept descriptors (flash.content.DescriptorBudget) follows the server's open connections, two
 * descriptors each: the acceptor counts them in, so kept files give way to connections instead of starving them.
 * (The shedding itself: KeptDescriptorTest; the mp workers are processes of their own and are not looked into.)
 */
class DescriptorRoomTest {
    @TempDir Path root;

    @AllArchs
    void openConnectionsTakeTheirDescriptorsOutOfTheRoom(Architecture arch) throws Exception {
        Files.writeString(root.resolve("index.html"), "hi");
        try (TestServer s = TestServer.start(root, arch)) {
            if (!s.inProcess()) return;
            var budget = s.server().context().descriptors();
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (s.server().openConnections() != 0 && System.nanoTime() < deadline) Thread.sleep(10);
            int idle = budget.room();
            List<SocketChannel> clients = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) clients.add(SocketChannel.open(new InetSocketAddress("127.0.0.1", s.port())));
                while (s.server().openConnections() < 3 && System.nanoTime() < deadline) Thread.sleep(10);
                assertThat(s.server().openConnections()).isEqualTo(3);
                assertThat(budget.room()).isEqualTo(idle - 6);
            } finally {
                for (SocketChannel c : clients) c.close();
            }
            while (s.server().openConnections() != 0 && System.nanoTime() < deadline) Thread.sleep(10);
            assertThat(budget.room()).isEqualTo(idle);
        }
    }
}
