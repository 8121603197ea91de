import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Hostile clients for bench/soak.sh: slowloris heads, resets mid-request and mid-sendfile, malformed requests,
 * vanishing mid-upload, and a churn client that fetches the files being replaced and checks every body whole.
 * Usage: java bench/Hostile.java PORT SECONDS. Prints one summary line at the end, with the client-side errors
 * by kind (a churn client's errors mean the server failed it; a hostile client's are expected resets).
 */
public class Hostile {
    static final AtomicLong hostile = new AtomicLong(), churnOk = new AtomicLong(), churn404 = new AtomicLong(),
            churnBad = new AtomicLong(), clientErrors = new AtomicLong();
    static final java.util.Map<String, Long> errorKinds = new java.util.concurrent.ConcurrentSkipListMap<>();

    public static void main(String[] a) throws Exception {
        int port = Integer.parseInt(a[0]);
        long end = System.nanoTime() + Long.parseLong(a[1]) * 1_000_000_000L;
        Thread[] ts = new Thread[12];
        for (int i = 0; i < ts.length; i++) {
            int kind = i;
            // The checking clients run on platform threads: virtual threads are not time-sliced, and the hostile
            // loops (connect, write, close) rarely block, so they could keep a checking client off both carriers
            // for seconds — long enough for the server to close its keep-alive connection as idle.
            ts[i] = (kind < 2 ? Thread.ofPlatform() : Thread.ofVirtual()).start(() -> {
                while (System.nanoTime() < end) {
                    try {
                        if (kind < 2) churn(port); else hostile(port, kind % 6);
                    } catch (Exception e) {
                        clientErrors.incrementAndGet();
                        errorKinds.merge((kind < 2 ? "churn " : "hostile" + (kind % 6) + " ") + e.getClass().getSimpleName()
                                + (e.getMessage() == null ? "" : ": " + e.getMessage()), 1L, Long::sum);
                    }
                }
            });
        }
        for (Thread t : ts) t.join();
        long churnErrors = errorKinds.entrySet().stream().filter(e -> e.getKey().startsWith("churn "))
                .mapToLong(java.util.Map.Entry::getValue).sum();
        System.out.printf("hostile_connections=%d churn_200_whole=%d churn_404=%d churn_bad=%d churn_client_errors=%d "
                        + "hostile_client_errors=%d%s%n", hostile.get(), churnOk.get(), churn404.get(), churnBad.get(),
                churnErrors, clientErrors.get() - churnErrors, errorKinds.isEmpty() ? "" : " " + errorKinds);
    }

    static void hostile(int port, int kind) throws Exception {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            s.setSoTimeout(30_000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            hostile.incrementAndGet();
            switch (kind) {
                case 0 -> { // slowloris: a byte every 300 ms until the server gives up
                    for (byte b : "GET /small.txt HTTP/1.1\r\nHost: x\r\nX-Slow: yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\r\n\r\n".getBytes()) {
                        if (in.available() > 0) break;
                        out.write(b);
                        Thread.sleep(300);
                    }
                    in.readAllBytes();
                }
                case 1 -> { out.write(ascii("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")); in.readNBytes(10_000); s.setSoLinger(true, 0); }
                case 2 -> { out.write(ascii("GET /%zz/../\0 HTTP/9.9\r\nHost: x\r\n\r\n")); in.readAllBytes(); }
                case 3 -> out.write(ascii("POST /small.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nfff\r\nabc"));
                case 4 -> { out.write(ascii("GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /sm")); s.setSoLinger(true, 0); }
                default -> { out.write(ascii("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")); in.readNBytes(100_000); }
            }
        }
    }

    /** Fetches churned files on one keep-alive connection and checks each body (first line: FLASH label length). */
    static void churn(int port) throws Exception {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            s.setSoTimeout(30_000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            long last = System.nanoTime(); // connected, or the previous response read
            for (int i = 0; i < 200; i++) {
                String path = ThreadLocalRandom.current().nextBoolean() ? "/churn/page.txt" : "/current/page.txt";
                long gapMs = (System.nanoTime() - last) / 1_000_000;
                out.write(ascii("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n"));
                String head;
                try {
                    head = readHead(in);
                } catch (java.io.EOFException e) {
                    // Closed without a response. If this client waited past the server's idle timeout (15 s in
                    // soak.sh) before sending, that is the keep-alive race a client must expect; otherwise a failure.
                    throw new java.io.EOFException("EOF in head, request sent " + (gapMs >= 15_000 ? "after" : "within")
                            + " the idle timeout");
                }
                int status = Integer.parseInt(head.split(" ")[1]);
                int len = head.lines().filter(l -> l.toLowerCase().startsWith("content-length:"))
                        .mapToInt(l -> Integer.parseInt(l.substring(15).trim())).findFirst().orElse(0);
                byte[] body = in.readNBytes(len);
                if (status == 404) churn404.incrementAndGet();
                else if (status == 200 && whole(body)) churnOk.incrementAndGet();
                else { churnBad.incrementAndGet(); return; }
                if (head.toLowerCase().contains("\r\nconnection: close")) return; // the server may end keep-alive
                last = System.nanoTime();
            }
        }
    }

    static boolean whole(byte[] body) {
        String text = new String(body, StandardCharsets.ISO_8859_1);
        int nl = text.indexOf('\n');
        if (nl < 0) return false;
        String[] f = text.substring(0, nl).split(" ");
        return f.length == 3 && f[0].equals("FLASH") && body.length - nl - 1 == Integer.parseInt(f[2])
                && text.substring(nl + 1).chars().allMatch(c -> c == f[1].charAt(0));
    }

    static String readHead(InputStream in) throws Exception {
        StringBuilder b = new StringBuilder();
        while (!b.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) throw new java.io.EOFException("EOF in head");
            b.append((char) c);
        }
        return b.toString();
    }

    static byte[] ascii(String s) { return s.getBytes(StandardCharsets.ISO_8859_1); }
}
