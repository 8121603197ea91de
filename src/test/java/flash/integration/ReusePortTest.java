package flash.integration;

import flash.config.Architecture;
import flash.testing.TestServer;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * --reuse-port: a second instance binds the port the first one serves on (how a new version starts before the old
 * one drains), and the port keeps answering once the first has stopped. Without it, the second bind fails.
 */
class ReusePortTest {
    @TempDir
    static Path root;

    private static String get(int port) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            s.setSoTimeout(15_000);
            s.getOutputStream().write("GET /hello.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            try (InputStream in = s.getInputStream()) {
                return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = Architecture.class, names = {"AMPED", "MP"})
    void twoInstancesShareThePort(Architecture arch) throws Exception {
        Files.writeString(root.resolve("hello.txt"), "hello\n");
        TestServer first = TestServer.start(root, Architecture.AMPED, c -> c.withReusePort(true));
        int port = first.port();
        try (TestServer second = TestServer.start(root, arch, c -> c.withReusePort(true).withPort(port))) {
            assertThat(second.port()).isEqualTo(port);
            first.close(); // the old instance drains and goes; the new one keeps the port answering
            for (int i = 0; i < 5; i++) assertThat(get(port)).startsWith("HTTP/1.1 200").endsWith("hello\n");
        } finally {
            first.close();
        }
    }

    @ParameterizedTest
    @EnumSource(value = Architecture.class, names = {"AMPED"})
    void withoutItTheSecondBindFails(Architecture arch) {
        try (TestServer first = TestServer.start(root, arch)) {
            assertThatThrownBy(() -> TestServer.start(root, arch, c -> c.withPort(first.port()))).hasRootCauseInstanceOf(java.net.BindException.class);
        }
    }
}
