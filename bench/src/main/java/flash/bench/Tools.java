package flash.bench;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/** Makes sure the programs the run needs are installed, installing missing ones with apt-get when root. */
final class Tools {
    private Tools() {
    }

    static boolean installed(String program) {
        try {
            Process p = new ProcessBuilder("bash", "-c", "command -v " + program).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Returns null when all is there, else a one-line reason. */
    static String ensure(List<ServerSpec> servers, BenchLog log) throws InterruptedException {
        Set<String> packages = new LinkedHashSet<>();
        List<String> missing = new ArrayList<>();
        need("wrk", "wrk", packages, missing);
        need("taskset", "util-linux", packages, missing);
        for (ServerSpec s : servers) {
            if (s.kind().equals("nginx")) {
                need("nginx", "nginx-light", packages, missing);
            } else if (s.kind().equals("lighttpd")) {
                need("lighttpd", "lighttpd", packages, missing);
            }
        }
        if (packages.isEmpty()) {
            return null;
        }
        if (!"root".equals(System.getProperty("user.name"))) {
            return "missing " + missing + "; install them (apt-get install -y " + String.join(" ", packages) + ")";
        }
        log.info("installing " + packages + " with apt-get");
        String pk = String.join(" ", packages);
        // try without a refresh first: the lists may be fresh enough, and update is slow
        String cmd = "export DEBIAN_FRONTEND=noninteractive; apt-get install -y -qq " + pk + " >/dev/null 2>&1 || "
                + "{ apt-get update -qq && apt-get install -y -qq " + pk + "; }";
        try {
            Process p = new ProcessBuilder("bash", "-c", cmd).inheritIO().start();
            p.waitFor(15, TimeUnit.MINUTES);
        } catch (IOException e) {
            return "apt-get failed: " + e.getMessage();
        }
        List<String> still = missing.stream().filter(m -> !installed(m)).toList();
        return still.isEmpty() ? null : "still missing after apt-get: " + still;
    }

    private static void need(String program, String pkg, Set<String> packages, List<String> missing) {
        if (!missing.contains(program) && !installed(program)) {
            missing.add(program);
            packages.add(pkg);
        }
    }
}
