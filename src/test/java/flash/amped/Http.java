package flash.amped;

import flash.testing.RawClient;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import java.util.function.BooleanSupplier;

/** Small helpers shared by the AMPED/cache tests. */
final class Http {
    private Http() {}

    static RawClient.Response get(int port, String path) throws IOException { return get(port, "t", path); }

    static RawClient.Response get(int port, String host, String path) throws IOException {
        try (RawClient c = new RawClient(port)) {
            return c.send("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n").read();
        }
    }

    /** Whether {@code path} answers 200 with exactly {@code expected}. */
    static boolean serves(int port, String path, byte[] expected) throws IOException {
        RawClient.Response r = get(port, path);
        return r.status() == 200 && java.util.Arrays.equals(r.body(), expected);
    }

    /** The architectures whose server runs in the test's process (its counters readable): the event-driven ones. */
    static java.util.stream.Stream<flash.config.Architecture> inProcess() {
        return flash.testing.TestServer.archs().stream().filter(flash.config.Architecture::eventDriven);
    }

    /** The value of the unlabelled or fully labelled {@code sample} on a status page, or -1 when it is missing. */
    static long metric(String status, String sample) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^" + java.util.regex.Pattern.quote(sample)
                + " (\\d+)$").matcher(status);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    static byte[] write(Path file, int size, long seed) throws IOException {
        byte[] data = new byte[size];
        new Random(seed).nextBytes(data);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ch.write(ByteBuffer.wrap(data));
            ch.force(true);
        }
        return data;
    }

    /** Polls a condition that the server promises within a bound; false if it never held. No timing assertion. */
    static boolean eventually(long boundMillis, Check check) throws Exception {
        long end = System.nanoTime() + boundMillis * 1_000_000;
        while (true) {
            if (check.holds()) return true;
            if (System.nanoTime() > end) return false;
            Thread.sleep(20);
        }
    }

    interface Check { boolean holds() throws Exception; }
}
