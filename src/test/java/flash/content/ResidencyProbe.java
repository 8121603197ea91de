package flash.content;

import flash.sys.Native;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Child-JVM probe for {@link ResidencyTest}: run as another user, prints one line per method,
 * {@code METHOD RESULT} with RESULT {@code true}/{@code false} (resident?) or {@code error:...}.
 * Usage: {@code ResidencyProbe FILE OFFSET LENGTH}. Only reads: the parent controls cache state.
 */
public final class ResidencyProbe {
    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        long off = Long.parseLong(args[1]), len = Long.parseLong(args[2]);
        System.out.println("uid " + Native.getuid() + " euid " + Native.geteuid());
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            for (Residency.Test t : Residency.Test.values()) {
                String result;
                try {
                    result = String.valueOf(Residency.of(t).isResident(ch, off, len));
                } catch (RuntimeException e) {
                    result = "error:" + e;
                }
                System.out.println(t + " " + result);
            }
            int fd = Native.fd(ch);
            System.out.println("raw-cachestat " + Native.cachestat(fd, off, len));
            try (Arena a = Arena.ofConfined()) {
                System.out.println("raw-preadv2 " + Native.preadv2Nowait(fd, a.allocate(1), off));
            }
            System.out.println("detect " + Residency.detect().test());
        }
    }
}
