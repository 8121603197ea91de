package flash.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** What the summary says about the machine and the tools, so numbers can be compared across runs. */
final class MachineInfo {
    private MachineInfo() {
    }

    /**
     * @param cores            the CPUs the harness could use at start (afterwards it leaves the server's)
     * @param harnessPlacement where the harness's own threads run ({@link HarnessAffinity#keepOffServerCore})
     */
    static List<String> lines(int cores, String harnessPlacement) {
        List<String> out = new ArrayList<>();
        out.add("CPU: " + cpuModel() + ", " + cores + " cores online to the harness");
        out.add("Memory: " + memTotal());
        out.add("Kernel: " + firstLine("uname", "-sr"));
        out.add("Java: " + System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        out.add("nginx: " + firstLine("nginx", "-v"));
        out.add("lighttpd: " + firstLine("lighttpd", "-v"));
        out.add("wrk: " + firstLine("wrk", "-v"));
        out.add("Pinning: servers on CPU " + ServerProcess.SERVER_CPU + ", wrk on CPU " + WrkRunner.GENERATOR_CPU
                + " (taskset), " + harnessPlacement);
        return out;
    }

    private static String cpuModel() {
        String model = ProcTree.value(Path.of("/proc/cpuinfo"), "model name");
        return model == null ? "unknown" : model;
    }

    private static String memTotal() {
        long kib = ProcTree.kib(Path.of("/proc/meminfo"), "MemTotal:");
        return kib < 0 ? "unknown" : String.format("%.1f GiB", kib / 1048576.0);
    }

    static String firstLine(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).strip();
            p.waitFor(5, TimeUnit.SECONDS);
            int nl = out.indexOf('\n');
            return nl < 0 ? out : out.substring(0, nl);
        } catch (IOException e) {
            return "not installed";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "unknown";
        }
    }
}
