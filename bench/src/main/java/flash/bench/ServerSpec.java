package flash.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A server variant to benchmark, before it has a doc root, port or process. */
public record ServerSpec(String label, String kind, String arch, List<String> flashArgs) {

    public static ServerSpec flash(String arch, List<String> args) {
        return new ServerSpec("flash-" + arch, "flash", arch, List.copyOf(args));
    }

    public static ServerSpec nginx(boolean aio) {
        return new ServerSpec(aio ? "nginx-aio" : "nginx", "nginx", aio ? "event+aio" : "event", List.of());
    }

    public static ServerSpec lighttpd() {
        return new ServerSpec("lighttpd", "lighttpd", "event", List.of());
    }

    public boolean isFlash() {
        return kind.equals("flash");
    }

    public ServerSpec withLabel(String newLabel) {
        return new ServerSpec(newLabel, kind, arch, flashArgs);
    }

    public ServerSpec withFlashArgs(List<String> more) {
        List<String> all = new ArrayList<>(flashArgs);
        all.addAll(more);
        return new ServerSpec(label, kind, arch, List.copyOf(all));
    }

    public ServerProcess create(Path docRoot, Path workDir, Path jar) {
        return switch (kind) {
            case "flash" -> new FlashServer(label, docRoot, workDir, jar, arch, flashArgs);
            case "nginx" -> new NginxServer(label, docRoot, workDir, arch.equals("event+aio"));
            case "lighttpd" -> new LighttpdServer(label, docRoot, workDir);
            default -> throw new IllegalArgumentException("unknown server kind " + kind);
        };
    }
}
