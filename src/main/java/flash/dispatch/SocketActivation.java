package flash.dispatch;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;

/**
 * systemd socket activation (sd_listen_fds(3)): when {@code LISTEN_PID} is our pid and {@code LISTEN_FDS} is 1, the
 * listening socket systemd opened is our descriptor 3, and we serve on it instead of binding. systemd keeps the
 * socket open across restarts of the service, so connections that arrive while Flash restarts wait in its backlog
 * instead of being refused, and Flash needs no privilege to listen on port 80.
 *
 * <p>The JDK adopts an inherited socket only from descriptor 0 ({@link System#inheritedChannel()}, made for inetd),
 * and closing the channel it gives also points descriptors 0-2 at /dev/null, which would silence the drain's log
 * lines and an access log on stdout. So descriptor 3 is wrapped the way the JDK wraps descriptor 0, with its server
 * socket channel's constructor over an existing descriptor ({@link ListenerHandoff#adoptListening}, which mp workers
 * use for the socket their parent hands them); without {@code --add-opens java.base/sun.nio.ch} (which the jar's
 * manifest and ./flash give) it falls back to moving 3 onto 0 with dup2 for {@code inheritedChannel}, putting stdin
 * back afterwards.
 *
 * <p>{@code LISTEN_PID} names the process systemd executed: {@code ./flash} ends with {@code exec java}, so the JVM
 * keeps that pid. mp workers inherit the variables but not the pid (they take the socket from their parent); CGI
 * programs get an environment of their own.
 */
public final class SocketActivation {
    /** SD_LISTEN_FDS_START: the first passed descriptor. */
    static final int FIRST_FD = 3;

    private SocketActivation() {}

    /** The socket systemd passed us, or null when we were not socket-activated (bind as usual). */
    public static ServerSocketChannel listener() throws IOException {
        return listener(System.getenv("LISTEN_PID"), System.getenv("LISTEN_FDS"), ProcessHandle.current().pid());
    }

    static ServerSocketChannel listener(String listenPid, String listenFds, long ourPid) throws IOException {
        if (!activated(listenPid, listenFds, ourPid)) return null;
        int saved = ListenerHandoff.saveStdin();
        ServerSocketChannel l;
        try {
            l = ListenerHandoff.adoptListening(FIRST_FD, "descriptor " + FIRST_FD + " (LISTEN_FDS=1)");
        } finally {
            ListenerHandoff.restoreStdin(saved);
        }
        if (!(l.getLocalAddress() instanceof InetSocketAddress)) {
            String what = String.valueOf(l.getLocalAddress());
            l.close();
            throw new IOException("the socket passed by systemd is not a TCP socket (" + what + "): use ListenStream=PORT or ADDR:PORT");
        }
        return l;
    }

    /** Whether the variables are for us; a bad value, or more than one socket, is an error with a sentence. */
    static boolean activated(String listenPid, String listenFds, long ourPid) throws IOException {
        if (listenPid == null || listenFds == null) return false;
        long pid;
        int fds;
        try {
            pid = Long.parseLong(listenPid.trim());
            fds = Integer.parseInt(listenFds.trim());
        } catch (NumberFormatException e) {
            throw new IOException("LISTEN_PID='" + listenPid + "' and LISTEN_FDS='" + listenFds + "' must be numbers");
        }
        if (pid != ourPid || fds == 0) return false; // for another process (a parent of ours), or nothing passed
        if (fds != 1) {
            throw new IOException("systemd passed " + fds + " sockets (LISTEN_FDS=" + fds + "); flash serves one: give its .socket unit a single ListenStream=");
        }
        return true;
    }
}
