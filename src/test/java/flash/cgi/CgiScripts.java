package flash.cgi;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * A document root with a CGI directory inside it ({@code ROOT/cgi}, mapped to {@code /cgi-bin}), filled with small
 * shell programs, for the CGI tests. Pid files of scripts that must be killed go to {@link #PIDS}.
 */
final class CgiScripts {
    static final Path ROOT;
    static final Path DIR;
    static final Path OUTSIDE;
    static final Path PIDS;

    static {
        try {
            ROOT = Files.createTempDirectory("flash-cgi-root").toRealPath();
            DIR = Files.createDirectory(ROOT.resolve("cgi"));
            OUTSIDE = Files.createTempDirectory("flash-cgi-outside").toRealPath();
            PIDS = Files.createTempDirectory("flash-cgi-pids").toRealPath();
            Path madeRoot = ROOT, madeOutside = OUTSIDE, madePids = PIDS;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                flash.testing.Fixtures.deleteTree(madeRoot);
                flash.testing.Fixtures.deleteTree(madeOutside);
                flash.testing.Fixtures.deleteTree(madePids);
            }));
            Files.writeString(ROOT.resolve("page.txt"), "static page\n");
            script("env.cgi", """
                    printf 'Content-Type: text/plain\\r\\n\\r\\n'
                    tr '\\0' '\\n' < /proc/$$/environ | sort
                    echo "ARGC=$#"
                    """);
            script("status.cgi", """
                    printf 'Status: 418 Short And Stout\\nContent-Type: text/plain\\nSet-Cookie: a=1\\nSet-Cookie: b=2\\nX-Custom: yes\\n\\nteapot'
                    """);
            script("bare-status.cgi", "printf 'Status: 404\\nContent-Type: text/plain\\n\\nnope'\n");
            script("absolute.cgi", "printf 'Location: http://example.com/elsewhere\\n\\n'\n");
            script("local.cgi", "printf 'Location: /cgi-bin/env.cgi/redirected?r=1\\r\\n\\r\\n'\n");
            script("to-static.cgi", "printf 'Location: /page.txt\\n\\n'\n");
            script("loop.cgi", "printf 'Location: /cgi-bin/loop.cgi\\n\\n'\n");
            script("malformed.cgi", "printf 'Content-Type text/plain\\n\\nbody'\n");
            script("silent.cgi", "exit 0\n");
            // Every descriptor the script holds, with what it points at (the shell's own script fd included).
            script("fds.cgi", "printf 'Content-Type: text/plain\\n\\n'\nfor f in /proc/$$/fd/*; do echo \"${f##*/} $(readlink $f)\"; done\n");
            script("no-type.cgi", "printf 'X-A: 1\\n\\nbody without a type'\n");
            script("no-body.cgi", "printf 'Status: 204\\n\\n'\n");
            script("split.cgi", "printf 'Conte'; sleep 0.2; printf 'nt-Type: text/plain\\r'; sleep 0.2; printf '\\n\\nbo'; sleep 0.2; printf 'dy'\n");
            script("length.cgi", "printf 'Content-Type: text/plain\\nContent-Length: 5\\n\\nhello'\n");
            script("short.cgi", "printf 'Content-Type: text/plain\\nContent-Length: 10\\n\\nhello'\n");
            script("big.cgi", "printf 'Content-Type: application/octet-stream\\n\\n'\nhead -c 20000000 /dev/zero\n");
            script("big-pid.cgi", """
                    echo "$$ 0" > %s/"$QUERY_STRING"
                    printf 'Content-Type: application/octet-stream\\n\\n'
                    exec head -c 20000000 /dev/zero
                    """.formatted(PIDS));
            script("early.cgi", """
                    printf 'Content-Type: text/plain\\n\\nreading\\n'
                    sha256sum | cut -d' ' -f1
                    """);
            script("post.cgi", """
                    printf 'Content-Type: text/plain\\n\\n'
                    echo "len=$CONTENT_LENGTH type=$CONTENT_TYPE"
                    sha256sum | cut -d' ' -f1
                    """);
            script("stderr.cgi", """
                    echo "first complaint" >&2
                    head -c 150000 /dev/zero | tr '\\0' 'e' | fold -w 100 >&2
                    echo >&2
                    echo "last complaint" >&2
                    printf 'Content-Type: text/plain\\n\\nok'
                    """);
            script("hang.cgi", """
                    sleep 1000 &
                    echo "$$ $!" > %s/"$QUERY_STRING"
                    sleep 1000
                    """.formatted(PIDS));
            script("hang-after-head.cgi", """
                    sleep 1000 &
                    echo "$$ $!" > %s/"$QUERY_STRING"
                    printf 'Content-Type: text/plain\\n\\nstarted\\n'
                    sleep 1000
                    """.formatted(PIDS));
            script("chatty.cgi", """
                    sleep 1000 &
                    echo "$$ $!" > %s/"$QUERY_STRING"
                    printf 'Content-Type: text/plain\\n\\n'
                    while true; do echo tick; sleep 0.05; done
                    """.formatted(PIDS));
            Path plain = DIR.resolve("not-executable.cgi");
            Files.writeString(plain, "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nran'\n");
            Files.createDirectory(DIR.resolve("subdir"));
            Path outside = OUTSIDE.resolve("outside.cgi");
            Files.writeString(outside, "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nescaped'\n");
            Files.setPosixFilePermissions(outside, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.createSymbolicLink(DIR.resolve("escape.cgi"), outside);
            Files.createSymbolicLink(DIR.resolve("alias.cgi"), DIR.resolve("status.cgi"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private CgiScripts() {}

    private static void script(String name, String body) throws IOException {
        Path p = DIR.resolve(name);
        Files.writeString(p, "#!/bin/sh\n" + body);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    /** The pids a script wrote ("shell child"), waiting up to 10 s for the file. */
    static long[] pids(String tag) throws Exception {
        Path f = PIDS.resolve(tag);
        for (int i = 0; i < 200 && (!Files.exists(f) || Files.readString(f).isBlank()); i++) Thread.sleep(50);
        String[] parts = Files.readString(f).trim().split(" ");
        return new long[] {Long.parseLong(parts[0]), Long.parseLong(parts[1])};
    }

    /** Whether a process is gone: no /proc entry, or a zombie that is not ours to reap. */
    static boolean gone(long pid) {
        Path stat = Path.of("/proc", Long.toString(pid), "stat");
        try {
            String s = Files.readString(stat);
            String after = s.substring(s.lastIndexOf(')') + 2);
            char state = after.charAt(0);
            long ppid = Long.parseLong(after.substring(2, after.indexOf(' ', 2)));
            return state == 'Z' && ppid != ProcessHandle.current().pid();
        } catch (IOException e) {
            return true;
        }
    }

    static boolean awaitGone(long pid, long millis) throws InterruptedException {
        long end = System.currentTimeMillis() + millis;
        while (System.currentTimeMillis() < end) {
            if (gone(pid)) return true;
            Thread.sleep(50);
        }
        return gone(pid);
    }
}
