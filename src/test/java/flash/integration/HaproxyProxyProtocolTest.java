package flash.integration;

import flash.config.AccessLogFormat;
import flash.config.Architecture;
import flash.config.ProxyRoute;
import flash.testing.Backend;
import flash.testing.Http;
import flash.testing.TestServer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Flash with --proxy-protocol behind a real HAProxy (Debian's /usr/sbin/haproxy; skipped when it is absent), with
 * {@code send-proxy-v2} and with {@code send-proxy} (v1). A client connecting to HAProxy from 127.0.0.2 must be
 * 127.0.0.2 in Flash's access log and in the X-Forwarded-For that Flash sends upstream (HAProxy itself connects
 * from 127.0.0.1, so a Flash that ignored the header would show that instead). HAProxy's HTTP health checks, sent
 * with the header too ({@code check-send-proxy}: a LOCAL command under v2), must find the server up.
 */
class HaproxyProxyProtocolTest {
    private static final Path HAPROXY = Path.of("/usr/sbin/haproxy");

    enum Version { V1, V2 }

    @ParameterizedTest
    @EnumSource(Version.class)
    void clientAddressAndHealthChecksThroughHaproxy(Version version, @TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(HAPROXY), "haproxy is not installed (apt-get install haproxy)");
        Files.writeString(dir.resolve("health.txt"), "ok\n");
        Path log = dir.resolve("access.log");
        try (Backend backend = Backend.start();
             TestServer flash = TestServer.start(dir, Architecture.AMPED, c -> c.withProxyProtocol(true)
                     .withAccessLog(log.toString(), AccessLogFormat.COMBINED)
                     .withProxies(List.of(ProxyRoute.parse("/echo=" + backend.url()))))) {
            int front = freePort();
            Path stats = dir.resolve("haproxy.sock");
            String send = version == Version.V2 ? "send-proxy-v2" : "send-proxy";
            Path cfg = dir.resolve("haproxy.cfg");
            Files.writeString(cfg, """
                    global
                        stats socket %s mode 600 level admin
                    defaults
                        mode http
                        timeout connect 2s
                        timeout client 10s
                        timeout server 10s
                    frontend front
                        bind 127.0.0.1:%d
                        default_backend flash
                    backend flash
                        option httpchk GET /health.txt
                        server f1 127.0.0.1:%d %s check check-send-proxy inter 200ms fall 1 rise 1
                    """.formatted(stats, front, flash.port(), send));
            Process haproxy = new ProcessBuilder(HAPROXY.toString(), "-db", "-f", cfg.toString())
                    .redirectErrorStream(true).redirectOutput(dir.resolve("haproxy.out").toFile()).start();
            try {
                assertThat(Http.await(() -> Files.exists(stats), 10_000)).as("haproxy started").isTrue();
                // health checks: HAProxy reports the server up after a passing HTTP check (L7OK)
                String[] row = new String[1];
                boolean up = Http.await(() -> {
                    row[0] = serverRow(stats);
                    return row[0] != null && row[0].contains(",UP,") && row[0].contains("L7OK");
                }, 15_000);
                assertThat(up).as("haproxy's view of flash: %s; haproxy output: %s", row[0],
                        Files.readString(dir.resolve("haproxy.out"))).isTrue();

                String response = getFrom("127.0.0.2", front, "/echo");
                assertThat(response).startsWith("HTTP/1.1 200");
                assertThat(backend.lastReceived().header("X-Forwarded-For")).isEqualTo("127.0.0.2");
                Http.await(() -> lines(log).stream().anyMatch(l -> l.contains("GET /echo ")), 10_000);
                List<String> lines = lines(log);
                assertThat(lines).filteredOn(l -> l.contains("\"GET /echo HTTP/1.1\""))
                        .singleElement().satisfies(l -> assertThat(l).startsWith("127.0.0.2 - - "));
                // the checks were answered and logged: v2 LOCAL keeps HAProxy's own address, v1 names it
                assertThat(lines).filteredOn(l -> l.contains("\"GET /health.txt HTTP/1.0\" 200"))
                        .isNotEmpty().allSatisfy(l -> assertThat(l).startsWith("127.0.0.1 - - "));
            } finally {
                haproxy.destroy();
                if (!haproxy.waitFor(10, TimeUnit.SECONDS)) haproxy.destroyForcibly();
            }
        }
    }

    /** One request from a chosen local address (a loopback alias), answered with Connection: close. */
    private static String getFrom(String localAddress, int port, String path) throws IOException {
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(localAddress, 0));
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            s.setSoTimeout(15_000);
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            try (InputStream in = s.getInputStream()) {
                return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            }
        }
    }

    /** The "show stat" CSV row of backend flash, server f1, from HAProxy's stats socket. */
    private static String serverRow(Path socket) {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ch.write(ByteBuffer.wrap("show stat\n".getBytes(StandardCharsets.US_ASCII)));
            StringBuilder out = new StringBuilder();
            ByteBuffer b = ByteBuffer.allocate(16384);
            while (ch.read(b.clear()) > 0) out.append(StandardCharsets.ISO_8859_1.decode(b.flip()));
            return out.toString().lines().filter(l -> l.startsWith("flash,f1,")).findFirst().orElse(null);
        } catch (IOException e) {
            return null;
        }
    }

    private static List<String> lines(Path log) {
        try {
            return Files.exists(log) ? Files.readAllLines(log, StandardCharsets.ISO_8859_1) : List.of();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
