package flash.pipeline;

import flash.content.FileHandle;
import flash.http.Status;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Outgoing over a real non-blocking loopback socket: the event loops' path (direct sendfile when available). */
class OutgoingTest {
    private static final int MIB = 1 << 20;

    @TempDir Path dir;
    private SocketChannel server;  // the side Outgoing writes to (non-blocking, like an event loop's)
    private SocketChannel client;  // the side the test reads from
    private final List<FileHandle> handles = new ArrayList<>();

    @BeforeEach
    void connect() throws IOException {
        try (ServerSocketChannel listener = ServerSocketChannel.open()) {
            listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            client = SocketChannel.open(listener.getLocalAddress());
            server = listener.accept();
        }
        // A small send buffer makes the socket fill up mid-chunk, so partial sends really happen.
        server.setOption(StandardSocketOptions.SO_SNDBUF, 16 * 1024);
        server.configureBlocking(false);
        client.configureBlocking(false);
    }

    @AfterEach
    void close() throws IOException {
        server.close();
        client.close();
        handles.forEach(FileHandle::release);
    }

    private byte[] file(int size) throws IOException {
        byte[] data = new byte[size];
        new Random(size).nextBytes(data);
        Files.write(dir.resolve("f"), data);
        return data;
    }

    private FileHandle open() throws IOException {
        FileHandle h = new FileHandle(FileChannel.open(dir.resolve("f")));
        handles.add(h);
        return h;
    }

    private static Response response(String head, Segment... body) {
        ByteBuffer h = ByteBuffer.wrap(head.getBytes(StandardCharsets.US_ASCII));
        long length = 0;
        for (Segment s : body) length += s instanceof Segment.FileRegion r ? r.length() : ((Segment.Bytes) s).buffer().remaining();
        return new Response(Status.OK, h, List.of(body), length, false);
    }

    /** Reads whatever the client socket has; returns how many bytes. */
    private int drain(ByteArrayOutputStream into) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(256 * 1024);
        int total = 0, n;
        while ((n = client.read(buf)) > 0) {
            into.write(buf.array(), 0, n);
            total += n;
            buf.clear();
        }
        return total;
    }

    @Test
    void headBytesAndFileRegionArriveIntact() throws IOException {
        byte[] data = file(3 * MIB + 123);
        Outgoing out = new Outgoing(response("HEAD\r\n\r\n",
                new Segment.Bytes(ByteBuffer.wrap("<".getBytes(StandardCharsets.US_ASCII))),
                new Segment.FileRegion(open(), 7, data.length - 7),
                new Segment.Bytes(ByteBuffer.wrap(">".getBytes(StandardCharsets.US_ASCII)))), false);
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        for (int i = 0; i < 1_000_000 && out.writeTo(new flash.net.PlainTransport(server), null) != Outgoing.Progress.DONE; i++) drain(got);
        for (int i = 0; i < 1_000_000 && got.size() < out.bytesWritten(); i++) drain(got);

        ByteArrayOutputStream want = new ByteArrayOutputStream();
        want.writeBytes("HEAD\r\n\r\n<".getBytes(StandardCharsets.US_ASCII));
        want.write(data, 7, data.length - 7);
        want.writeBytes(">".getBytes(StandardCharsets.US_ASCII));
        assertThat(out.bytesWritten()).isEqualTo(want.size());
        assertThat(got.toByteArray()).isEqualTo(want.toByteArray());
    }

    /**
     * Section 33: on a non-blocking sendfile transport a file body goes out in turns of at most SENDFILE_TURN bytes,
     * each ending the call although the socket would take more (this transport takes everything), so that the loop's
     * other connections go in between. Blocking transports send it in one call per residency chunk, as before.
     */
    @Test
    void aFileBodyGoesOutInTurnsOnANonBlockingLoop() throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(Outgoing.SENDFILE_TURN < Outgoing.SENDFILE_CHUNK,
                "turns shorter than a residency chunk (not -Dflash.sendfileTurn=0)");
        long turn = Outgoing.SENDFILE_TURN;
        byte[] data = file(MIB + 5);
        Outgoing out = new Outgoing(response("H\r\n\r\n", new Segment.FileRegion(open(), 0, data.length)), false);
        FakeTransport t = new FakeTransport().sendfile(true);
        int yields = 0;
        long before = 0;
        Outgoing.Progress p;
        while ((p = out.writeTo(t, null)) == Outgoing.Progress.BLOCKED) {
            // Head included, each turn ends on a multiple of the turn in the response's bytes, as lighttpd's do.
            assertThat(out.bytesWritten() - before).as("one turn").isEqualTo(turn);
            before = out.bytesWritten();
            yields++;
        }
        assertThat(p).isEqualTo(Outgoing.Progress.DONE);
        long total = 5 + data.length;
        assertThat(yields).isEqualTo((int) (total / turn));
        assertThat(out.bytesWritten() - before).as("the last turn").isEqualTo(total % turn);
        assertThat(t.corkedWrites).as("a head before several turns is corked").isEqualTo(1);
        assertThat(t.moreWrites).isZero();
        ByteArrayOutputStream want = new ByteArrayOutputStream();
        want.writeBytes("H\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        want.writeBytes(data);
        assertThat(t.outputBytes()).isEqualTo(want.toByteArray());

        FakeTransport blocking = new FakeTransport().sendfile(true);
        blocking.blocking(true);
        Outgoing whole = new Outgoing(response("H\r\n\r\n", new Segment.FileRegion(open(), 0, data.length)), false);
        int calls = 0;
        while (whole.writeTo(blocking, null) != Outgoing.Progress.DONE) calls++;
        assertThat(calls).as("blocking: the head, then one return per 1 MiB chunk, no turns").isEqualTo(3);
        assertThat(blocking.outputBytes()).isEqualTo(want.toByteArray());
    }

    /** A body that fits in one turn keeps MSG_MORE on its head: corking it would cost two more system calls. */
    @Test
    void aHeadBeforeOneTurnOfBodyIsNotCorked() throws IOException {
        byte[] data = file((int) Math.min(Outgoing.SENDFILE_TURN, 300 * 1024));
        Outgoing out = new Outgoing(response("H\r\n\r\n", new Segment.FileRegion(open(), 0, data.length)), false);
        FakeTransport t = new FakeTransport().sendfile(true);
        assertThat(out.writeTo(t, null)).isEqualTo(Outgoing.Progress.DONE);
        assertThat(t.moreWrites).isEqualTo(1);
        assertThat(t.corkedWrites).isZero();
    }

    /**
     * On a real socket, a corked head is held only until the sendfile after it: TCP_CORK is on after
     * {@code writeCorked} and off once {@code sendFile} returns, or once anything else is written; a whole response of
     * several turns arrives intact, and leaves the socket uncorked.
     */
    @Test
    void aCorkedHeadIsReleasedByTheSendfileAfterIt() throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(flash.sys.Native.available() && flash.sys.Native.fdAccess(),
                "the native layer (Linux x86-64)");
        int fd = flash.sys.Native.fd(server);
        byte[] data = file(MIB + 5);
        FileHandle h = open();
        flash.net.PlainTransport t = new flash.net.PlainTransport(server);
        assertThat(cork(fd)).isZero();
        assertThat(t.writeCorked(new ByteBuffer[] {ascii("H\r\n\r\n")}, 0, 1)).isEqualTo(5);
        assertThat(cork(fd)).as("corked after the head").isEqualTo(1);
        assertThat(t.sendFile(h.channel(), h.fd(), 0, 1000)).isPositive();
        assertThat(cork(fd)).as("released by the sendfile").isZero();
        t.writeCorked(new ByteBuffer[] {ascii("x")}, 0, 1);
        assertThat(cork(fd)).isEqualTo(1);
        t.write(ascii("y"));
        assertThat(cork(fd)).as("released by a plain write").isZero();
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        for (int i = 0; i < 1_000_000 && got.size() < 1007; i++) drain(got);
        assertThat(got.size()).isEqualTo(1007);

        got.reset();
        Outgoing out = new Outgoing(response("HEAD\r\n\r\n", new Segment.FileRegion(h, 0, data.length)), false);
        for (int i = 0; i < 1_000_000 && out.writeTo(t, null) != Outgoing.Progress.DONE; i++) drain(got);
        for (int i = 0; i < 1_000_000 && got.size() < out.bytesWritten(); i++) drain(got);
        ByteArrayOutputStream want = new ByteArrayOutputStream();
        want.writeBytes("HEAD\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        want.writeBytes(data);
        assertThat(got.toByteArray()).isEqualTo(want.toByteArray());
        assertThat(cork(fd)).isZero();
    }

    private static int cork(int fd) {
        return flash.sys.Native.getsockoptInt(fd, flash.sys.Native.SOL_TCP, flash.sys.Native.TCP_CORK);
    }

    private static ByteBuffer ascii(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.US_ASCII));
    }

    /**
     * Turns and AMPED's residency test together, on a body of several regions (as multipart/byteranges): each 1 MiB
     * window of a region is tested once however many turns send it, every part head goes out right before its region,
     * and the bytes arrive whole and in order.
     */
    @Test
    void turnsTestEachResidencyWindowOnceAcrossRegions() throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(Outgoing.SENDFILE_TURN < Outgoing.SENDFILE_CHUNK, "turns on");
        byte[] data = file(2 * MIB + 7);
        FileHandle h = open();
        Outgoing out = new Outgoing(response("H\r\n\r\n",
                new Segment.Bytes(ByteBuffer.wrap("<a>".getBytes(StandardCharsets.US_ASCII))),
                new Segment.FileRegion(h, 0, 2 * MIB + 7),
                new Segment.Bytes(ByteBuffer.wrap("<b>".getBytes(StandardCharsets.US_ASCII))),
                new Segment.FileRegion(h, 100, 300_000),
                new Segment.Bytes(ByteBuffer.wrap("<end>".getBytes(StandardCharsets.US_ASCII)))), false);
        List<long[]> checked = new ArrayList<>();
        Outgoing.ResidencyCheck check = (file, offset, length) -> {
            checked.add(new long[] {offset, length});
            return true;
        };
        FakeTransport t = new FakeTransport().sendfile(true);
        int yields = 0;
        Outgoing.Progress p;
        while ((p = out.writeTo(t, check)) == Outgoing.Progress.BLOCKED) yields++;
        assertThat(p).isEqualTo(Outgoing.Progress.DONE);
        ByteArrayOutputStream want = new ByteArrayOutputStream();
        want.writeBytes("H\r\n\r\n<a>".getBytes(StandardCharsets.US_ASCII));
        want.writeBytes(data);
        want.writeBytes("<b>".getBytes(StandardCharsets.US_ASCII));
        want.write(data, 100, 300_000);
        want.writeBytes("<end>".getBytes(StandardCharsets.US_ASCII));
        assertThat(t.outputBytes()).isEqualTo(want.toByteArray());
        // windows: [0, 1 MiB), [1 MiB, 2 MiB), [2 MiB, 2 MiB + 7) of the first region; [100, 300,100) of the second
        assertThat(checked).extracting(c -> c[0]).containsExactly(0L, (long) MIB, 2L * MIB, 100L);
        // Turns end on multiples of the turn in the response's bytes, or run on to a residency window's end less than
        // half a turn past one: 8 bytes come before the first region, so each window goes in four turns, the last
        // one 8 bytes longer (not five with a turn of 8 bytes), and then the region's last 7 bytes; the second region
        // (300,000 bytes from 18 past a boundary) in two turns.
        assertThat(Outgoing.SENDFILE_TURN).as("the turns this count assumes").isEqualTo(256 * 1024);
        assertThat(yields).as("a yield after each turn that leaves bytes of its region").isEqualTo(4 + 4 + 1);
    }

    @Test
    void aRegionFoundResidentAtLookupSkipsTheTestOnlyAsTheResponsesFirst() throws IOException {
        byte[] data = file(200_000);
        FileHandle h = open();
        h.retain(); // the second region's reference
        Outgoing out = new Outgoing(response("H\r\n\r\n",
                new Segment.FileRegion(h, 0, 100_000, true),
                new Segment.Bytes(ByteBuffer.wrap("<b>".getBytes(StandardCharsets.US_ASCII))),
                new Segment.FileRegion(h, 100_000, 100_000, true)), false);
        List<Long> checked = new ArrayList<>();
        Outgoing.ResidencyCheck check = (file, offset, length) -> {
            checked.add(offset);
            return true;
        };
        FakeTransport t = new FakeTransport().sendfile(true);
        Outgoing.Progress p;
        while ((p = out.writeTo(t, check)) == Outgoing.Progress.BLOCKED) { }
        assertThat(p).isEqualTo(Outgoing.Progress.DONE);
        ByteArrayOutputStream want = new ByteArrayOutputStream();
        want.writeBytes("H\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        want.write(data, 0, 100_000);
        want.writeBytes("<b>".getBytes(StandardCharsets.US_ASCII));
        want.write(data, 100_000, 100_000);
        assertThat(t.outputBytes()).isEqualTo(want.toByteArray());
        assertThat(checked).as("the first region trusts the lookup's test; the later part, sent after, is tested")
                .containsExactly(100_000L);
    }

    @Test
    void reuseSendsTheNextResponseFromTheStart() throws IOException {
        Outgoing out = new Outgoing();
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        for (String body : new String[] {"first", "second"}) {
            out.reset(response("H:" + body.length() + "\r\n\r\n", new Segment.Bytes(ByteBuffer.wrap(body.getBytes(StandardCharsets.US_ASCII)))), false);
            assertThat(out.writeTo(new flash.net.PlainTransport(server), null)).isEqualTo(Outgoing.Progress.DONE);
            out.release();
        }
        for (int i = 0; i < 100_000 && got.size() < 26; i++) drain(got);
        assertThat(got.toString(StandardCharsets.US_ASCII)).isEqualTo("H:5\r\n\r\nfirstH:6\r\n\r\nsecond");
    }

    @Test
    void reuseForgetsTheLastResponsesMappedBodyState() {
        // The connection keeps a mapped body's residency state on the sender (section 24 of docs/performance.md): a
        // sender reused for the next response must not carry it over, or a cold mapped body would skip its test.
        Outgoing out = new Outgoing();
        out.reset(response("H\r\n\r\n", new Segment.Bytes(ByteBuffer.wrap(new byte[] {1}))), false);
        out.mappedBody = true;
        out.mappedResident = true;
        out.release();
        out.reset(response("H\r\n\r\n", new Segment.Bytes(ByteBuffer.wrap(new byte[] {2}))), false);
        assertThat(out.mappedBody).isFalse();
        assertThat(out.mappedResident).isFalse();
    }

    /**
     * AMPED: a byte of file data goes out only after a residency check or a helper's read covered it, and no page is
     * checked twice, even when the socket takes a chunk in several partial sends.
     */
    @Test
    void everySentByteWasCheckedOrWarmedAndNoRangeTwice() throws IOException {
        byte[] data = file(3 * MIB + 5000);
        List<long[]> checked = new ArrayList<>();
        List<long[]> warmed = new ArrayList<>();
        boolean[] refuseSecondChunk = {true};
        Outgoing.ResidencyCheck check = (file, offset, length) -> {
            checked.add(new long[] {offset, offset + length});
            if (offset >= MIB && refuseSecondChunk[0]) { // the second chunk is "cold" once
                refuseSecondChunk[0] = false;
                return false;
            }
            return true;
        };
        Outgoing out = new Outgoing(response("H\r\n\r\n", new Segment.FileRegion(open(), 0, data.length)), false);
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        int misses = 0;
        for (int i = 0; i < 1_000_000; i++) {
            Outgoing.Progress p = out.writeTo(new flash.net.PlainTransport(server), check);
            if (p == Outgoing.Progress.DONE) break;
            if (p == Outgoing.Progress.NEEDS_RESIDENCY) {
                misses++;
                long off = out.pendingRegionOffset(), len = out.pendingRegionLength();
                warmed.add(new long[] {off, off + len}); // what a helper would read in
                out.markResident(off, len);
            }
            drain(got);
        }
        for (int i = 0; i < 1_000_000 && got.size() < out.bytesWritten(); i++) drain(got);

        assertThat(misses).isEqualTo(1);
        assertThat(got.size()).isEqualTo(5 + data.length);
        // The approved ranges (checks that said yes, plus the warmed one) tile the file exactly: nothing sent
        // unchecked, nothing checked twice.
        List<long[]> approved = new ArrayList<>();
        for (long[] c : checked) if (warmed.stream().noneMatch(w -> w[0] == c[0])) approved.add(c);
        approved.addAll(warmed);
        approved.sort((a, b) -> Long.compare(a[0], b[0]));
        long next = 0;
        for (long[] r : approved) {
            assertThat(r[0]).as("ranges tile the file").isEqualTo(next);
            next = r[1];
        }
        assertThat(next).isEqualTo(data.length);
        assertThat(checked).hasSize(approved.size()); // the refused check and its warm share one range
    }

    /**
     * AMPED: the residency of a body's first chunk is tested before its head is written, so a cold body goes to a
     * helper with nothing sent (a failed page-in can still be a 500), and the head sent with MSG_MORE is followed at
     * once by the body's sendfile. The chunk the helper warmed is not tested again.
     */
    @Test
    void aColdFirstChunkIsFoundBeforeTheHeadLeaves() throws IOException {
        byte[] data = file(300 * 1024);
        List<long[]> checked = new ArrayList<>();
        boolean[] cold = {true};
        Outgoing.ResidencyCheck check = (f, offset, length) -> {
            checked.add(new long[] {offset, length});
            boolean hot = !cold[0];
            cold[0] = false;
            return hot;
        };
        Outgoing out = new Outgoing(response("H\r\n\r\n", new Segment.FileRegion(open(), 1000, data.length - 1000)), false);
        flash.net.PlainTransport t = new flash.net.PlainTransport(server);
        assertThat(out.writeTo(t, check)).isEqualTo(Outgoing.Progress.NEEDS_RESIDENCY);
        assertThat(out.bytesWritten()).as("nothing left before the helper").isZero();
        assertThat(out.pendingRegion()).isNotNull();
        assertThat(out.pendingRegionOffset()).isEqualTo(1000);
        assertThat(out.pendingRegionLength()).isEqualTo(data.length - 1000);
        out.markResident(out.pendingRegionOffset(), out.pendingRegionLength());
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        for (int i = 0; i < 1_000_000; i++) {
            Outgoing.Progress p = out.writeTo(t, check);
            assertThat(p).isNotEqualTo(Outgoing.Progress.NEEDS_RESIDENCY);
            if (p == Outgoing.Progress.DONE) break;
            drain(got);
        }
        for (int i = 0; i < 1_000_000 && got.size() < out.bytesWritten(); i++) drain(got);
        assertThat(checked).hasSize(1);
        ByteArrayOutputStream want = new ByteArrayOutputStream();
        want.writeBytes("H\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        want.write(data, 1000, data.length - 1000);
        assertThat(got.toByteArray()).isEqualTo(want.toByteArray());
    }

    @Test
    void aFileShorterThanPromisedIsReported() throws IOException {
        byte[] data = file(10_000);
        Outgoing out = new Outgoing(response("H\r\n\r\n", new Segment.FileRegion(open(), 0, data.length + 500)), false);
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        assertThatThrownBy(() -> {
            for (int i = 0; i < 1_000_000; i++) {
                if (out.writeTo(new flash.net.PlainTransport(server), null) == Outgoing.Progress.DONE) break;
                drain(got);
            }
        }).isInstanceOf(Outgoing.TruncatedFileException.class);
    }

    @Test
    void aVanishedClientIsAnIOException() throws IOException {
        file(8 * MIB);
        client.setOption(StandardSocketOptions.SO_LINGER, 0);
        client.close(); // RST
        Outgoing out = new Outgoing(response("H\r\n\r\n", new Segment.FileRegion(open(), 0, 8 * MIB)), false);
        assertThatThrownBy(() -> {
            for (int i = 0; i < 1_000_000; i++) {
                if (out.writeTo(new flash.net.PlainTransport(server), null) == Outgoing.Progress.DONE) break;
            }
        }).isInstanceOf(IOException.class);
    }
}
