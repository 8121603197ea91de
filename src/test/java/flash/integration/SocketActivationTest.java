package flash.integration;

import flash.testing.FlashProcess;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * systemd socket activation, in real child processes: a harness (Python: open a listening socket, put it on
 * descriptor 3, set LISTEN_FDS and LISTEN_PID, exec) starts {@code flash serve}, which must serve on that socket
 * rather than bind --port, which the test holds busy so that a bind would fail. Under mp the parent hands it to its
 * workers. systemd's own {@code systemd-socket-activate} is used too when it is installed.
 */
class SocketActivationTest {
    private static final Path PYTHON = Path.of("/usr/bin/python3");
    private static final Path SOCKET_ACTIVATE = Path.of("/usr/bin/systemd-socket-activate");
    /** Listens on 127.0.0.1 (any port), puts the socket on fd 3 and execs argv[1:] as systemd would. */
    private static final String HARNESS = """
            import os, socket, sys
            s = socket.socket()
            s.bind(('127.0.0.1', 0))
            s.listen(128)
            os.dup2(s.fileno(), 3)
            os.set_inheritable(3, True)
            env = dict(os.environ, LISTEN_FDS=os.environ.get('TEST_LISTEN_FDS', '1'), LISTEN_PID=str(os.getpid()))
            os.execve(sys.argv[1], sys.argv[1:], env)
            """;

    @TempDir
    static Path root;

    @BeforeAll
    static void files() throws IOException {
        Files.writeString(root.resolve("hello.txt"), "hello\n");
    }

    private static List<String> harness() {
        Assumptions.assumeTrue(Files.isExecutable(PYTHON), "no /usr/bin/python3");
        return List.of(PYTHON.toString(), "-c", HARNESS);
    }

    private static String get(int port, String path) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            s.setSoTimeout(60_000);
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            try (InputStream in = s.getInputStream()) {
                return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"amped", "mt", "mp"})
    void servesOnTheSocketSystemdPassed(String arch) throws Exception {
        try (ServerSocket busy = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             FlashProcess flash = FlashProcess.startWrapped(harness(), Map.of(), "serve", root.toString(), "--arch", arch,
                     "--processes", "2", "--port", Integer.toString(busy.getLocalPort()))) {
            int port = flash.awaitListening(); // a bind of --port would have failed: the test holds it
            assertThat(port).isNotEqualTo(busy.getLocalPort());
            assertThat(get(port, "/hello.txt")).startsWith("HTTP/1.1 200").endsWith("hello\n");
            assertThat(flash.terminate()).isEqualTo(0);
            // and the drain still logs: closing the listener must not take stdout and stderr with it
            assertThat(String.join("\n", flash.stderrLines())).contains("socket activation").contains("INFO flash.serve: exit");
        }
    }

    @Test
    void variablesForAnotherProcessAreIgnored() throws Exception {
        try (FlashProcess flash = FlashProcess.startWrapped(List.of(), Map.of("LISTEN_FDS", "1", "LISTEN_PID", "1"),
                "serve", root.toString(), "--port", "0")) {
            int port = flash.awaitListening();
            assertThat(get(port, "/hello.txt")).startsWith("HTTP/1.1 200");
            assertThat(flash.terminate()).isEqualTo(0);
        }
    }

    @Test
    void moreThanOneSocketIsAUsageError() throws Exception {
        try (FlashProcess flash = FlashProcess.startWrapped(harness(), Map.of("TEST_LISTEN_FDS", "2"),
                "serve", root.toString(), "--port", "0")) {
            assertThat(flash.exitCode()).isEqualTo(2);
            assertThat(String.join("\n", flash.stderrLines())).contains("LISTEN_FDS=2").contains("single ListenStream");
        }
    }

    /** systemd's own tool: it listens, and starts the command when the first connection arrives. */
    @Test
    void underSystemdSocketActivate() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(SOCKET_ACTIVATE), "systemd-socket-activate is not installed");
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        try (FlashProcess flash = FlashProcess.startWrapped(List.of(SOCKET_ACTIVATE.toString(), "-l", "127.0.0.1:" + port),
                Map.of(), "serve", root.toString(), "--port", "0")) {
            String response = null;
            for (int i = 0; i < 100 && response == null; i++) { // until systemd-socket-activate listens
                try {
                    response = get(port, "/hello.txt");
                } catch (java.net.ConnectException e) {
                    Thread.sleep(50);
                }
            }
            assertThat(response).startsWith("HTTP/1.1 200").endsWith("hello\n");
            assertThat(flash.awaitListening()).isEqualTo(port);
        }
    }
}
