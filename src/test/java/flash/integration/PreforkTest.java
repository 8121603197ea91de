package flash.integration;

import flash.config.Architecture;
import flash.testing.Fixtures;
import flash.testing.FlashProcess;
import flash.testing.Http;
import flash.testing.RawClient;
import flash.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * MP supervision: a worker killed with SIGKILL is replaced; SIGTERM drains every worker; no orphans; one accept
 * queue shared by all workers.
 */
class PreforkTest {
    private static final long BIG = 64L << 20;
    private static Path root;

    @BeforeAll
    static void createRoot() throws Exception {
        root = Files.createTempDirectory("flash-prefork-");
        Files.writeString(root.resolve("hello.txt"), Fixtures.HELLO);
        try (RandomAccessFile f = new RandomAccessFile(root.resolve("big.bin").toFile(), "rw")) {
            f.setLength(BIG);
        }
    }

    @AfterAll
    static void deleteRoot() { Fixtures.deleteTree(root); }

    @BeforeEach
    void onlyWhenMpIsUnderTest() {
        Assumptions.assumeTrue(TestServer.allArchs().contains(Architecture.MP), "mp not under test");
    }

    @Test
    void workerKilledWithSigkillIsReplaced() throws Exception {
        try (TestServer s = TestServer.start(root, Architecture.MP)) {
            List<ProcessHandle> before = workers(ProcessHandle.current(), s.port());
            assertThat(before).hasSize(TestServer.MP_PROCESSES);
            ProcessHandle victim = before.getFirst();
            victim.destroyForcibly();
            assertThat(Http.await(() -> {
                List<ProcessHandle> now = workers(ProcessHandle.current(), s.port());
                return now.size() == TestServer.MP_PROCESSES && !now.contains(victim);
            }, 20_000)).as("replacement worker").isTrue();
            for (int i = 0; i < 10; i++) { // fresh connections land on every worker in turn, the new one included
                try (RawClient c = new RawClient(s.port())) {
                    c.send("GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n");
                    assertThat(c.read().bodyText()).isEqualTo(Fixtures.HELLO);
                }
            }
        }
    }

    @Test
    void sigtermDrainsEveryWorkerAndExitsZero() throws Exception {
        try (FlashProcess p = FlashProcess.start("serve", root.toString(), "--port", "0", "--arch", "mp", "--processes", "2")) {
            int port = p.awaitListening();
            List<ProcessHandle> workers = p.process().descendants().toList();
            assertThat(workers).isNotEmpty();
            try (RawClient c = new RawClient(port)) {
                c.send("GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n");
                assertThat(c.read(true).status()).isEqualTo(200);
                long got = c.discard(1 << 20);
                p.process().destroy(); // SIGTERM to the parent, which passes it on
                got += c.discard(BIG);
                assertThat(got).as("the response in flight completes").isEqualTo(BIG);
            }
            assertThat(p.exitCode()).isZero();
            assertThat(workers).noneMatch(ProcessHandle::isAlive);
        }
    }

    @Test
    void workersExitWhenTheParentIsKilled() throws Exception {
        try (FlashProcess p = FlashProcess.start("serve", root.toString(), "--port", "0", "--arch", "mp", "--processes", "2")) {
            p.awaitListening();
            List<ProcessHandle> workers = p.process().descendants().toList();
            assertThat(workers).hasSize(2);
            p.process().destroyForcibly(); // SIGKILL: no chance to pass anything on
            assertThat(Http.await(() -> workers.stream().noneMatch(ProcessHandle::isAlive), 20_000))
                    .as("orphaned workers exit").isTrue();
        }
    }

    @Test
    void aWorkerHeldByASlowClientLeavesNewConnectionsToTheIdleWorker() throws Exception {
        // All workers accept from the parent's one listening socket, and only between connections. With a queue per
        // worker (SO_REUSEPORT), about half of these connections would be hashed to the held worker and wait for it.
        try (FlashProcess p = FlashProcess.start("serve", root.toString(), "--port", "0", "--arch", "mp",
                "--processes", "2", "--header-timeout", "300")) {
            int port = p.awaitListening();
            try (RawClient slow = new RawClient(port)) {
                slow.send("GET /hello.txt HTTP/1.1\r\nHost: t\r\n"); // the head never ends: it holds one worker
                for (int i = 0; i < 16; i++) {
                    try (RawClient c = new RawClient(port)) {
                        c.send("GET /hello.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
                        assertThat(c.read().bodyText()).as("connection %d", i).isEqualTo(Fixtures.HELLO);
                    }
                }
                slow.send("\r\n"); // the held worker still serves its slow client
                assertThat(slow.read().bodyText()).isEqualTo(Fixtures.HELLO);
            }
        }
    }

    /** The live MP workers of {@code parent} serving {@code port}. */
    private static List<ProcessHandle> workers(ProcessHandle parent, int port) {
        return parent.children().filter(ProcessHandle::isAlive).filter(h -> {
            List<String> a = h.info().arguments().map(Arrays::asList).orElse(List.of());
            int i = a.indexOf("--port");
            return a.stream().anyMatch(x -> x.startsWith("-Dflash.mp.worker="))
                    && i >= 0 && i + 1 < a.size() && a.get(i + 1).equals(Integer.toString(port));
        }).toList();
    }
}
