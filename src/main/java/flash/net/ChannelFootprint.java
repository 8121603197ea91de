package flash.net;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.channels.SocketChannel;

/**
 * Makes each accepted socket channel share its address objects with the connections before it (issue #11, "idle
 * connections": the JDK's objects were 581 of an idle connection's 773 bytes of heap, docs/performance.md section
 * 24). Every accepted channel gets a local and a remote {@link InetSocketAddress}, each over an {@link InetAddress} of
 * its own (160 bytes), where every connection through one listener has the same local address and the clients of a
 * busy server come from far fewer addresses than it has connections (behind a load balancer: one). The local address
 * becomes an equal one already seen, the remote one an equal one built over an {@link InetAddress} already seen: 40
 * bytes instead of 160 when another connection shares the client's address (80 when none does). They are equal
 * to the ones replaced and never changed, so nothing reading the channel can tell (an {@code InetAddress} caches a
 * host name looked up on it; Flash never looks one up). The rest of the JDK's share
 * cannot go this way: its locks, its descriptor object and its interruptor are final fields.
 *
 * <p>The fields are the JDK's own ({@code sun.nio.ch.SocketChannelImpl}), reached as {@link flash.sys.Native} reaches
 * its descriptors: with {@code --add-opens java.base/sun.nio.ch} (the launcher's, and the jar's manifest). Without
 * it, or on a JDK whose fields differ, {@link #trim} does nothing. It runs on the accepting thread before the channel
 * is handed to its owner, so no other thread sees it yet, and the hand-off publishes the writes.
 *
 * <p>Bounded: each table keeps {@link #SLOTS} addresses, one per slot by hash, the newest winning a collision, so a
 * server with clients from millions of addresses holds 64 of them and shares what it can.
 */
public final class ChannelFootprint {
    static final int SLOTS = 64;
    private static final Class<?> IMPL;
    private static final VarHandle LOCAL, REMOTE;

    static {
        Class<?> impl = null;
        VarHandle local = null, remote = null;
        try {
            impl = Class.forName("sun.nio.ch.SocketChannelImpl");
            MethodHandles.Lookup lookup = MethodHandles.privateLookupIn(impl, MethodHandles.lookup());
            local = lookup.findVarHandle(impl, "localAddress", SocketAddress.class);
            remote = lookup.findVarHandle(impl, "remoteAddress", SocketAddress.class);
            // A JDK that makes them final gives handles that cannot set (as it did the interruptor's): leave it be.
            if (!local.isAccessModeSupported(VarHandle.AccessMode.SET)
                    || !remote.isAccessModeSupported(VarHandle.AccessMode.SET)) {
                throw new IllegalStateException("final fields");
            }
        } catch (ReflectiveOperationException | RuntimeException e) { // IllegalAccessException without --add-opens
            impl = null;
            local = remote = null;
        }
        IMPL = impl;
        LOCAL = local;
        REMOTE = remote;
    }

    // The acceptor thread's alone (one instance per server): no synchronisation.
    private boolean failed;
    private final InetSocketAddress[] locals = new InetSocketAddress[SLOTS];
    private final InetAddress[] hosts = new InetAddress[SLOTS];

    /** Whether {@link #trim} can reach the JDK's fields here. */
    public static boolean available() { return LOCAL != null; }

    /**
     * Replaces {@code ch}'s address objects with shared equal ones: a freshly accepted channel, on the accepting
     * thread, before anyone else sees it. Does nothing to a channel that is not the JDK's, or without access.
     */
    public void trim(SocketChannel ch) {
        if (IMPL == null || failed || ch.getClass() != IMPL) return;
        try {
            if (LOCAL.get(ch) instanceof InetSocketAddress local) LOCAL.set(ch, intern(local));
            if (REMOTE.get(ch) instanceof InetSocketAddress remote && !remote.isUnresolved()) {
                InetAddress shared = intern(remote.getAddress());
                if (shared != remote.getAddress()) REMOTE.set(ch, new InetSocketAddress(shared, remote.getPort()));
            }
        } catch (RuntimeException e) {
            // Whatever a JDK we were not written for throws: the acceptor must go on, and the channel keeps its own.
            failed = true;
        }
    }

    private InetSocketAddress intern(InetSocketAddress a) {
        int slot = a.hashCode() & (SLOTS - 1);
        InetSocketAddress seen = locals[slot];
        if (seen != null && seen.getPort() == a.getPort() && same(seen.getAddress(), a.getAddress())) return seen;
        locals[slot] = a;
        return a;
    }

    private InetAddress intern(InetAddress a) {
        int slot = a.hashCode() & (SLOTS - 1);
        InetAddress seen = hosts[slot];
        if (seen != null && same(seen, a)) return seen;
        hosts[slot] = a;
        return a;
    }

    /** Equal, scope included: Inet6Address.equals ignores the interface a link-local address belongs to. */
    private static boolean same(InetAddress seen, InetAddress a) {
        if (!a.equals(seen)) return false;
        return !(a instanceof Inet6Address v6) || v6.getScopeId() == ((Inet6Address) seen).getScopeId();
    }
}
