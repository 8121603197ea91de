package flash.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Flash itself, started from its jar exactly as the CLI contract says, in one architecture. */
public final class FlashServer extends ServerProcess {
    private final Path jar;
    private final String arch;
    private final List<String> extraArgs;

    public FlashServer(String label, Path docRoot, Path workDir, Path jar, String arch, List<String> extraArgs) {
        super(label, docRoot, workDir);
        this.jar = jar.toAbsolutePath();
        this.arch = arch;
        this.extraArgs = List.copyOf(extraArgs);
    }

    @Override
    public String arch() {
        return arch;
    }

    @Override
    protected List<String> command() {
        List<String> cmd = new ArrayList<>();
        cmd.add(javaBinary());
        cmd.addAll(jvmFlags(System.getenv("FLASH_SERVER_JVM_FLAGS")));
        cmd.addAll(List.of("-jar", jar.toString(), "serve", docRoot.toString(), "--port", Integer.toString(port),
                "--bind", "127.0.0.1", "--arch", arch));
        cmd.addAll(extraArgs);
        return cmd;
    }

    /**
     * The JVM flags of `flash serve` (the memory flags: collector, heap and young generation, compact headers), which
     * the launcher passes in FLASH_SERVER_JVM_FLAGS; without them (the harness started some other way) only native
     * access, and the JVM's own defaults, which size the heap from the machine: a different footprint and GC than
     * what users run.
     */
    static List<String> jvmFlags(String fromLauncher) {
        List<String> flags = new ArrayList<>();
        if (fromLauncher != null) {
            for (String f : fromLauncher.trim().split("\\s+")) if (!f.isEmpty()) flags.add(f);
        }
        if (!flags.contains("--enable-native-access=ALL-UNNAMED")) flags.addFirst("--enable-native-access=ALL-UNNAMED");
        return flags;
    }

    /** The JDK running the harness is a JDK 25, which Flash needs. */
    static String javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    @Override
    protected boolean announcesReadiness() {
        return true;
    }

    @Override
    protected boolean isReadyLine(String line) {
        return line.startsWith("flash listening on ");
    }
}
