package flash.cli;

import flash.config.ServerConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code flash check-config FILE}: everything {@code flash serve --config FILE} checks before it listens (the TOML,
 * every key and value, directories, log files, upstream and bind names), without serving. Exit 0 with a one-line
 * summary, or 2 with the one line naming the problem.
 */
@Command(name = "check-config", mixinStandardHelpOptions = true,
        description = {"Check a config file for 'flash serve --config FILE' without serving: exit 0 and a summary when it",
                "would start, or exit 2 with one line naming the file, line and key at fault."})
public final class CheckConfigCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "FILE", description = "The TOML config file.")
    Path file;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        ServerConfig c = ConfigFile.read(file).load(java.util.List.of()).config();
        // upstream and bind names were resolved by the same checks serve makes (ServeCommand#config)
        int routes = 0;
        for (ServerConfig site : sites(c)) routes += site.proxies().size() + site.cgis().size() + site.fastcgi().size() + site.statics().size();
        String host = c.bind().contains(":") ? "[" + c.bind() + "]" : c.bind();
        spec.commandLine().getOut().println(file + ": OK: http://" + host + ":" + c.port() + "/ (arch=" + c.arch().cliName()
                + ", root=" + c.root() + "), " + routes + " route(s), " + c.headerRules().size() + " header rule(s), "
                + c.vhosts().size() + " vhost(s)");
        spec.commandLine().getOut().flush();
        return 0;
    }

    private static java.util.List<ServerConfig> sites(ServerConfig c) {
        java.util.List<ServerConfig> all = new java.util.ArrayList<>(java.util.List.of(c));
        for (var v : c.vhosts()) all.add(v.site());
        return all;
    }
}
