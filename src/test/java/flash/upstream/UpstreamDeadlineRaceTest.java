package flash.upstream;

import flash.net.Driver;
import flash.net.Registration;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.reflect.Proxy;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue #9: a blocking driver's watchdog asks {@link UpstreamConnection#expired} from its own thread while the owning
 * thread keeps arming and clearing the deadline (a proxied body clears it for every piece it lends the client
 * connection, and arms it again when it asks the origin for more). A deadline that was never near must never look
 * passed, whatever the interleaving: a false answer there closes the upstream mid-body, and the client's response
 * is cut short.
 */
class UpstreamDeadlineRaceTest {
    @Test
    void aDeadlineBeingClearedNeverLooksPassed() throws Exception {
        UpstreamConnection c = UpstreamConnection.open(fakeDriver(),
                new Upstream("u", "127.0.0.1:9", new InetSocketAddress("127.0.0.1", 9)), new IdleUser(),
                TimeUnit.SECONDS.toNanos(60));
        AtomicBoolean stop = new AtomicBoolean();
        // The owner: arm an hour-long deadline, clear it (lend), again and again.
        Thread owner = Thread.ofPlatform().daemon().start(() -> {
            while (!stop.get()) {
                c.deadline(TimeUnit.HOURS.toNanos(1));
                c.deadline(0);
            }
        });
        // The watchdog's question, as fast as it can be asked, for up to two seconds or until it is wrong.
        AtomicLong falseAlarms = new AtomicLong();
        long checks = 0;
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        try {
            while (System.nanoTime() - end < 0 && falseAlarms.get() == 0) {
                for (int i = 0; i < 10_000; i++, checks++) {
                    if (c.expired(System.nanoTime())) falseAlarms.incrementAndGet();
                }
            }
        } finally {
            stop.set(true);
            owner.join();
            c.close();
        }
        assertThat(falseAlarms.get()).as("deadlines reported passed in %d checks", checks).isZero();
    }

    /** A driver that accepts the connect and does nothing: the test never lets the connection touch the network. */
    private static Driver fakeDriver() {
        Registration reg = new Registration() {
            @Override public void interest(int ops) { }
            @Override public void cancel() { }
        };
        return (Driver) Proxy.newProxyInstance(Driver.class.getClassLoader(), new Class<?>[] {Driver.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "connect", "register" -> reg;
                    case "blocking" -> true;
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    default -> null;
                });
    }

    private static final class IdleUser implements UpstreamConnection.User {
        @Override public void onConnected() { }
        @Override public void onConnectFailed(IOException e) { }
        @Override public void onUpstreamReadable() { }
        @Override public void onUpstreamWritable() { }
        @Override public void onUpstreamTimeout() { }
    }
}
