package flash.content;

import flash.sys.Native;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResidencyTest {
    static final int SIZE = 256 * 1024;

    @TempDir Path dir;

    @Test
    void detectsTheSoundTest() {
        assumeTrue(Native.available() && Native.fdAccess(), "native layer or fd access unavailable");
        assertThat(Residency.detect().test()).isEqualTo(Residency.Test.PREADV2_NOWAIT);
        assertThat(Residency.of(Residency.Test.UNAVAILABLE).isResident(null, 0, 1)).isFalse();
    }

    @Test
    void coldIsNotResidentAndReadMakesItResident() throws Exception {
        assumeTrue(Native.available() && Native.fdAccess(), "native layer or fd access unavailable");
        Path f = dir.resolve("f");
        NativeTest.writeRandom(f, SIZE);
        Residency r = Residency.detect();
        try (FileChannel ch = FileChannel.open(f)) {
            assertThat(reportsCold(() -> r.isResident(ch, SIZE - 65536, 65536), f)).isTrue();
            assertThat(reportsCold(() -> r.isResident(ch, 0, SIZE), f)).isTrue();
            ch.read(ByteBuffer.allocate(SIZE), 0);
            assertThat(r.isResident(ch, 0, SIZE)).isTrue();
            assertThat(r.isResident(ch, 100, 5000)).isTrue();
            // As owner, mincore is truthful too.
            assertThat(Residency.isResident(Residency.Test.MINCORE, ch, 0, SIZE)).isTrue();
            flash.testing.ColdFile.dropPages(f);
            assertThat(Residency.isResident(Residency.Test.MINCORE, ch, 0, SIZE)).isFalse();
        }
    }

    /** The kernel hides page-cache state from readers that neither own nor may write a file: the test must not. */
    @Test
    void truthfulForAnotherUsersFile() throws Exception {
        assumeTrue(Native.available() && Native.geteuid() == 0, "needs root to run a probe as another user");
        Path setpriv = Stream.of("/usr/bin/setpriv", "/bin/setpriv").map(Path::of).filter(Files::isExecutable)
                .findFirst().orElse(null);
        assumeTrue(setpriv != null, "setpriv (util-linux) missing");

        // Directory and classes readable by nobody; the file stays root-owned 0644.
        Path shared = Files.createTempDirectory(Path.of("/tmp"), "flash-residency");
        try {
            Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxr-xr-x"));
            Path classes = shared.resolve("classes");
            copyPackage(Native.class, classes);
            copyPackage(Residency.class, classes);
            copyPackage(ResidencyProbe.class, classes);
            Path f = shared.resolve("data");
            NativeTest.writeRandom(f, SIZE);
            Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));

            List<List<String>> runs = new ArrayList<>();
            assertThat(reportsCold(() -> {
                runs.add(probeAsNobody(setpriv, classes, f));
                return !runs.getLast().contains("PREADV2_NOWAIT false");
            }, f)).as("%s", runs).isTrue();
            assertThat(runs.getLast()).contains("uid 65534 euid 65534", "detect PREADV2_NOWAIT");

            // Hot: every page read. Once, in a full suite, the hot probe said PREADV2_NOWAIT false while a one-byte
            // NOWAIT read of the first page succeeded: a NOWAIT read is refused where it would start I/O, as at a page
            // marked to start the next readahead (the likely cause, not traced). So the file is read again before each
            // of a few probes.
            List<String> hot = List.of();
            for (int attempt = 0; attempt < 5 && !hot.contains("PREADV2_NOWAIT true"); attempt++) {
                Files.readAllBytes(f);
                hot = probeAsNobody(setpriv, classes, f);
            }
            assertThat(hot).contains("PREADV2_NOWAIT true");
        } finally {
            try (Stream<Path> s = Files.walk(shared)) {
                s.sorted((a, b) -> b.compareTo(a)).forEach(p -> p.toFile().delete());
            }
        }
    }

    interface Check { boolean resident() throws Exception; }

    /**
     * Evicts, then checks; true once a check says "not resident". Retried (up to 20 times) because a miss makes the kernel start
     * readahead of the probed range, and on a fast disk that can finish within the call, making the answer a
     * truthful "yes". A lying test (mincore for a non-owner) answers "yes" every time.
     */
    static boolean reportsCold(Check check, Path f) throws Exception {
        for (int attempt = 0; attempt < 20; attempt++) {
            flash.testing.ColdFile.dropPages(f);
            if (!check.resident()) return true;
            Thread.sleep(attempt); // let a readahead still in flight land before evicting again
        }
        return false;
    }

    private static List<String> probeAsNobody(Path setpriv, Path classes, Path file) throws Exception {
        String java = ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java");
        List<String> cmd = new ArrayList<>(List.of(setpriv.toString(), "--reuid=65534", "--regid=65534",
                "--clear-groups", java, "-XX:-UsePerfData", "--enable-native-access=ALL-UNNAMED",
                "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED", "-cp", classes.toString(),
                ResidencyProbe.class.getName(), file.toString(), "0", String.valueOf(SIZE)));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out.lines().toList();
    }

    /** Copies the compiled package of {@code c} from its class root, so the child needs no access to it. */
    private static void copyPackage(Class<?> c, Path dest) throws Exception {
        Path root = Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
        String dir = c.getPackageName().replace('.', '/');
        Path pkg = root.resolve(dir);
        Path out = Files.createDirectories(dest.resolve(dir));
        for (Path p : Files.walk(dest).toList()) {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        try (Stream<Path> s = Files.list(pkg)) {
            for (Path p : s.filter(p -> p.toString().endsWith(".class")).toList()) {
                Files.copy(p, out.resolve(p.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }
}
