package flash.testing;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.function.BooleanSupplier;

/** java.net.http helpers and bounded polling. */
public final class Http {
    private Http() {}

    /** An HTTP/1.1 client; close it (try-with-resources) so its pooled connection does not hold an MP worker. */
    public static HttpClient client() {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5))
                .followRedirects(HttpClient.Redirect.NEVER).build();
    }

    public static HttpResponse<byte[]> get(HttpClient c, URI uri, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30));
        if (headers.length > 0) b.headers(headers);
        return c.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    /** One GET on a fresh client that is closed again. */
    public static HttpResponse<byte[]> get(URI uri, String... headers) throws IOException, InterruptedException {
        try (HttpClient c = client()) {
            return get(c, uri, headers);
        }
    }

    /** Polls {@code condition} every 20 ms for up to {@code timeoutMs}; returns whether it became true. */
    public static boolean await(BooleanSupplier condition, long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) return false;
            Thread.sleep(20);
        }
        return true;
    }
}
