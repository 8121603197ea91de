package flash.tls;

import flash.config.Architecture;
import flash.config.TlsEngine;
import flash.testing.AllArchs;
import flash.testing.Fixtures;
import flash.testing.Http;
import flash.testing.RawClient;
import flash.testing.TestServer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLEngineResult.Status;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link OpenSslEngine} against the SSLEngine contract TlsTransport relies on, driven in memory by a JDK client
 * engine (handshakes, FINISHED once, one record per unwrap, BUFFER_UNDERFLOW and BUFFER_OVERFLOW, close_notify both
 * ways, a closed engine), and a real server that must free every SSL and descriptor after hostile clients.
 */
class OpenSslEngineTest {
    static final TestCerts CERTS = TestCerts.get();
    static OpenSslContext context;
    private static final ByteBuffer[] NOTHING = {ByteBuffer.allocate(0)};

    @BeforeAll
    static void load() {
        assumeTrue(OpenSsl.available(), "no OpenSSL: " + OpenSsl.unavailableReason());
        context = OpenSslContext.load(CERTS.pairs(), List.of("TLSv1.3", "TLSv1.2"));
    }

    /** A JDK client and an OpenSSL server, with the buffers between them. */
    static final class Link {
        final SSLEngine client;
        final OpenSslEngine server = (OpenSslEngine) context.newEngine();
        final ByteBuffer toServer = ByteBuffer.allocate(1 << 17), toClient = ByteBuffer.allocate(1 << 17);
        final ByteBuffer clientIn = ByteBuffer.allocate(1 << 18), serverIn = ByteBuffer.allocate(1 << 18);
        final List<HandshakeStatus> serverStatuses = new ArrayList<>();

        Link(String protocol, String sni) { this(protocol, sni, true, "h2", "http/1.1"); }

        Link(String protocol, String sni, boolean checkName, String... alpn) {
            client = CERTS.clientContext().createSSLEngine(sni == null ? "127.0.0.1" : sni, 443);
            client.setUseClientMode(true);
            SSLParameters p = client.getSSLParameters();
            p.setProtocols(new String[] {protocol});
            p.setApplicationProtocols(alpn);
            if (sni != null) p.setServerNames(List.of(new SNIHostName(sni)));
            p.setEndpointIdentificationAlgorithm(checkName ? "HTTPS" : null);
            client.setSSLParameters(p);
        }

        void handshake() throws SSLException {
            for (int i = 0; i < 50; i++) {
                clientWrap(NOTHING);
                serverUnwrapAll();
                serverWrapAll();
                clientUnwrapAll();
                if (client.getHandshakeStatus() == HandshakeStatus.NOT_HANDSHAKING
                        && server.getHandshakeStatus() == HandshakeStatus.NOT_HANDSHAKING
                        && !server.getSession().getProtocol().equals("NONE") && toServer.position() == 0) {
                    return;
                }
            }
            throw new AssertionError("no handshake: client " + client.getHandshakeStatus() + ", server " + server.getHandshakeStatus());
        }

        void clientWrap(ByteBuffer[] data) throws SSLException {
            do {
                client.wrap(data, toServer);
                tasks();
            } while (client.getHandshakeStatus() == HandshakeStatus.NEED_WRAP || remaining(data));
        }

        void serverUnwrapAll() throws SSLException {
            toServer.flip();
            try {
                while (toServer.hasRemaining()) {
                    SSLEngineResult r = server.unwrap(toServer, serverIn);
                    serverStatuses.add(r.getHandshakeStatus());
                    assertThat(r.getStatus()).isNotEqualTo(Status.BUFFER_OVERFLOW);
                    if (r.getStatus() != Status.OK || r.bytesConsumed() == 0) break;
                }
            } finally {
                toServer.compact();
            }
        }

        void serverWrapAll() throws SSLException {
            while (server.getHandshakeStatus() == HandshakeStatus.NEED_WRAP) {
                SSLEngineResult r = server.wrap(NOTHING, toClient);
                serverStatuses.add(r.getHandshakeStatus());
                assertThat(r.bytesProduced()).isPositive();
            }
        }

        void clientUnwrapAll() throws SSLException {
            toClient.flip();
            try {
                while (toClient.hasRemaining()) {
                    SSLEngineResult r = client.unwrap(toClient, clientIn);
                    tasks();
                    if (r.getStatus() != Status.OK || r.bytesConsumed() == 0) break; // the client wants to wrap first
                }
            } finally {
                toClient.compact();
            }
        }

        private void tasks() {
            for (Runnable t; (t = client.getDelegatedTask()) != null; ) t.run();
        }

        long finishedCount() { return serverStatuses.stream().filter(s -> s == HandshakeStatus.FINISHED).count(); }
    }

    private static boolean remaining(ByteBuffer[] bufs) {
        for (ByteBuffer b : bufs) if (b.hasRemaining()) return true;
        return false;
    }

    @ParameterizedTest
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void aHandshakeFinishesOnceWithAlpnHttp11AndNoTasks(String protocol) throws Exception {
        Link l = new Link(protocol, "localhost");
        assertThat(l.server.getHandshakeStatus()).isEqualTo(HandshakeStatus.NEED_UNWRAP);
        assertThat(l.server.getSession().getProtocol()).isEqualTo("NONE");
        l.handshake();
        assertThat(l.finishedCount()).as("FINISHED in %s", l.serverStatuses).isEqualTo(1);
        assertThat(l.server.getDelegatedTask()).isNull();
        assertThat(l.server.getSession().getProtocol()).isEqualTo(protocol);
        assertThat(l.client.getSession().getProtocol()).isEqualTo(protocol);
        assertThat(l.server.getSession().getCipherSuite()).isEqualTo(l.client.getSession().getCipherSuite())
                .isIn(TlsContext.CIPHER_SUITES);
        assertThat(l.server.getApplicationProtocol()).isEqualTo("http/1.1");
        assertThat(l.client.getApplicationProtocol()).isEqualTo("http/1.1");
        X509Certificate leaf = (X509Certificate) l.client.getSession().getPeerCertificates()[0];
        assertThat(leaf.getSubjectX500Principal().getName()).isEqualTo("CN=localhost");
        l.server.close();
    }

    @Test
    void sniChoosesTheCertificateWithThatName() throws Exception {
        Link l = new Link("TLSv1.3", "other.test");
        l.handshake();
        X509Certificate leaf = (X509Certificate) l.client.getSession().getPeerCertificates()[0];
        assertThat(leaf.getSubjectX500Principal().getName()).isEqualTo("CN=other.test");
        l.server.close();
    }

    @Test
    void anUnknownNameGetsTheDefaultCertificate() throws Exception {
        Link l = new Link("TLSv1.3", "unknown.test", false, "http/1.1");
        l.handshake();
        X509Certificate leaf = (X509Certificate) l.client.getSession().getPeerCertificates()[0];
        assertThat(leaf.getSubjectX500Principal().getName()).isEqualTo("CN=localhost");
        l.server.close();
    }

    /** A client that offers only other protocols gets no ALPN answer (as from nginx), not a failed handshake. */
    @Test
    void aClientWithoutHttp11InItsAlpnListGetsNoAlpn() throws Exception {
        Link l = new Link("TLSv1.3", "localhost", true, "h2");
        l.handshake();
        assertThat(l.server.getApplicationProtocol()).isEmpty();
        assertThat(l.client.getApplicationProtocol()).isEmpty();
        l.server.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void dataCrossesBothWaysOneRecordPerCall(String protocol) throws Exception {
        Link l = new Link(protocol, "localhost");
        l.handshake();
        byte[] up = Fixtures.random(40_000, 3);
        l.clientWrap(new ByteBuffer[] {ByteBuffer.wrap(up)});
        l.toServer.flip();
        int records = 0;
        while (l.toServer.hasRemaining()) {
            SSLEngineResult r = l.server.unwrap(l.toServer, l.serverIn);
            assertThat(r.getStatus()).isEqualTo(Status.OK);
            assertThat(r.getHandshakeStatus()).isEqualTo(HandshakeStatus.NOT_HANDSHAKING);
            records++;
        }
        l.toServer.compact();
        assertThat(records).as("one record per unwrap").isGreaterThanOrEqualTo(3);
        l.serverIn.flip();
        byte[] got = new byte[l.serverIn.remaining()];
        l.serverIn.get(got);
        assertThat(got).isEqualTo(up);

        byte[] down = Fixtures.random(100_000, 4);
        ByteBuffer[] src = {ByteBuffer.wrap(down, 0, 1000), ByteBuffer.wrap(down, 1000, down.length - 1000)};
        while (remaining(src)) {
            SSLEngineResult r = l.server.wrap(src, 0, 2, l.toClient);
            assertThat(r.getStatus()).isEqualTo(Status.OK);
            assertThat(r.bytesConsumed()).isBetween(1, OpenSslEngine.MAX_PLAINTEXT);
        }
        l.clientUnwrapAll();
        l.clientIn.flip();
        byte[] back = new byte[l.clientIn.remaining()];
        l.clientIn.get(back);
        assertThat(back).isEqualTo(down);
        l.server.close();
    }

    @Test
    void partialRecordsUnderflowAndSmallBuffersOverflowWithoutConsuming() throws Exception {
        Link l = new Link("TLSv1.3", "localhost");
        l.handshake();
        l.clientWrap(new ByteBuffer[] {ByteBuffer.wrap(Fixtures.random(5000, 8))});
        l.toServer.flip();
        ByteBuffer whole = l.toServer.duplicate();
        for (int cut : new int[] {0, 3, 5, 100}) {
            ByteBuffer part = whole.duplicate().limit(whole.position() + cut);
            SSLEngineResult r = l.server.unwrap(part, l.serverIn);
            assertThat(r.getStatus()).as("first %d bytes", cut).isEqualTo(Status.BUFFER_UNDERFLOW);
            assertThat(r.bytesConsumed()).isZero();
        }
        SSLEngineResult small = l.server.unwrap(whole, ByteBuffer.allocate(100));
        assertThat(small.getStatus()).isEqualTo(Status.BUFFER_OVERFLOW);
        assertThat(small.bytesConsumed()).isZero();
        SSLEngineResult r = l.server.unwrap(whole, l.serverIn);
        assertThat(r.getStatus()).isEqualTo(Status.OK);
        assertThat(r.bytesProduced()).isEqualTo(5000);

        ByteBuffer tiny = ByteBuffer.allocate(200);
        SSLEngineResult w = l.server.wrap(new ByteBuffer[] {ByteBuffer.wrap(new byte[1000])}, 0, 1, tiny);
        assertThat(w.getStatus()).isEqualTo(Status.BUFFER_OVERFLOW);
        assertThat(w.bytesConsumed()).isZero();
        assertThat(tiny.position()).isZero();
        l.server.close();
    }

    @Test
    void closeNotifyBothWays() throws Exception {
        Link l = new Link("TLSv1.3", "localhost");
        l.handshake();
        l.client.closeOutbound();
        l.clientWrap(NOTHING);
        l.toServer.flip();
        SSLEngineResult r = l.server.unwrap(l.toServer, l.serverIn);
        assertThat(r.getStatus()).isEqualTo(Status.CLOSED);
        assertThat(r.getHandshakeStatus()).as("our close_notify in reply").isEqualTo(HandshakeStatus.NEED_WRAP);
        assertThat(l.server.isInboundDone()).isTrue();
        SSLEngineResult w = l.server.wrap(NOTHING, l.toClient);
        assertThat(w.getStatus()).isEqualTo(Status.CLOSED);
        assertThat(w.bytesProduced()).isPositive();
        assertThat(l.server.isOutboundDone()).isTrue();
        l.toClient.flip();
        assertThat(l.client.unwrap(l.toClient, l.clientIn).getStatus()).isEqualTo(Status.CLOSED);
        l.server.close();
    }

    @Test
    void closeOutboundSendsCloseNotifyAndTheClientSeesIt() throws Exception {
        Link l = new Link("TLSv1.2", "localhost");
        l.handshake();
        l.server.closeOutbound();
        assertThat(l.server.getHandshakeStatus()).isEqualTo(HandshakeStatus.NEED_WRAP);
        SSLEngineResult w = l.server.wrap(NOTHING, l.toClient);
        assertThat(w.getStatus()).isEqualTo(Status.CLOSED);
        assertThat(w.bytesProduced()).isPositive();
        l.toClient.flip();
        assertThat(l.client.unwrap(l.toClient, l.clientIn).getStatus()).isEqualTo(Status.CLOSED);
        assertThat(l.client.isInboundDone()).isTrue();
        assertThat(l.server.wrap(new ByteBuffer[] {ByteBuffer.wrap(new byte[10])}, 0, 1, l.toClient).getStatus())
                .isEqualTo(Status.CLOSED);
        l.server.close();
    }

    @Test
    void garbageFailsTheHandshakeWithAnAlertToSend() throws Exception {
        OpenSslEngine e = (OpenSslEngine) context.newEngine();
        byte[] junk = TestCerts.garbageHandshakeRecord();
        assertThatThrownBy(() -> e.unwrap(ByteBuffer.wrap(junk), ByteBuffer.allocate(1 << 15)))
                .isInstanceOf(SSLHandshakeException.class).hasMessageContaining("OpenSSL handshake failed");
        assertThat(e.getHandshakeStatus()).isEqualTo(HandshakeStatus.NEED_WRAP);
        ByteBuffer out = ByteBuffer.allocate(1 << 15);
        e.wrap(NOTHING, out);
        assertThat(out.get(0)).as("an alert record").isEqualTo((byte) 21);
        assertThat(e.getHandshakeStatus()).isEqualTo(HandshakeStatus.NOT_HANDSHAKING);
        assertThat(e.isInboundDone()).isTrue();
        e.close();
    }

    @Test
    void aClosedEngineFreesItsSslOnceAndRefusesWork() throws Exception {
        long before = OpenSslEngine.LIVE.get();
        OpenSslEngine e = (OpenSslEngine) context.newEngine();
        assertThat(OpenSslEngine.LIVE.get()).isEqualTo(before + 1);
        e.close();
        e.close();
        assertThat(OpenSslEngine.LIVE.get()).isEqualTo(before);
        assertThat(e.getHandshakeStatus()).isEqualTo(HandshakeStatus.NOT_HANDSHAKING);
        assertThatThrownBy(() -> e.unwrap(ByteBuffer.wrap(new byte[10]), ByteBuffer.allocate(100)))
                .isInstanceOf(SSLException.class).hasMessageContaining("closed");
        assertThatThrownBy(() -> e.wrap(NOTHING, ByteBuffer.allocate(100))).isInstanceOf(SSLException.class);
        e.closeOutbound();
        e.closeInbound();
        assertThat(e.isInboundDone()).isTrue();
        assertThat(e.isOutboundDone()).isTrue();
    }

    /**
     * Full handshakes, garbage, half-open handshakes, plain HTTP and a peer that vanishes mid-handshake: once every
     * connection is gone, every SSL the server made has been freed and no descriptor is left.
     */
    @AllArchs
    void hostileAndNormalClientsLeaveNoSslOrDescriptorBehind(Architecture arch) throws Exception {
        assumeTrue(arch != Architecture.MP, "the SSLs live in worker processes");
        try (TestServer s = TestServer.start(Fixtures.root(), arch, c -> c.withTls(CERTS.pairs()).withTlsEngine(TlsEngine.OPENSSL))) {
            try (var c = TlsTest.client()) { // warm: the loops' own descriptors and buffers exist before counting
                assertThat(TlsTest.get(c, TlsTest.uri(s, "/hello.txt")).statusCode()).isEqualTo(200);
            }
            assertThat(Http.await(() -> s.server().openConnections() == 0, 20_000)).isTrue();
            long live = OpenSslEngine.LIVE.get();
            long fds = openFds();
            for (int i = 0; i < 20; i++) {
                try (RawClient c = new RawClient(TlsTest.tlsSocket(s.port(), i % 2 == 0 ? "localhost" : "other.test"))) {
                    assertThat(c.send("GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n").read().status()).isEqualTo(200);
                }
                try (Socket g = new Socket("127.0.0.1", s.port())) {
                    g.getOutputStream().write(i % 3 == 0 ? Fixtures.random(300, i) : new byte[] {0x16, 3, 1, 0x02});
                }
                try (RawClient c = new RawClient(s.port())) {
                    c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
                    assertThat(c.read().status()).isEqualTo(400);
                } catch (IOException ignored) {
                    // the 400 may race the close
                }
            }
            assertThat(Http.await(() -> s.server().openConnections() == 0, 20_000))
                    .as("open connections: %s", s.server().openConnections()).isTrue();
            assertThat(Http.await(() -> OpenSslEngine.LIVE.get() == live, 10_000))
                    .as("SSLs alive: %d, before: %d", OpenSslEngine.LIVE.get(), live).isTrue();
            assertThat(Http.await(() -> openFds() <= fds, 10_000)).as("fds %d, before %d", openFds(), fds).isTrue();
        }
    }

    private static long openFds() {
        try (var l = Files.list(Path.of("/proc/self/fd"))) {
            return l.count();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
