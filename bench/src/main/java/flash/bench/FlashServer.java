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
        List<String> cmd = new ArrayList<>(List.of(javaBinary(), "--enable-native-access=ALL-UNNAMED", "-jar",
                jar.toString(), "serve", docRoot.toString(), "--port", Integer.toString(port),
                "--bind", "127.0.0.1", "--arch", arch));
        cmd.addAll(extraArgs);
        return cmd;
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
