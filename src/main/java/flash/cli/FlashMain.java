package flash.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.util.ServiceLoader;

/**
 * The {@code flash} command: serve a directory, or run the benchmark harness. {@code flash bench} lives in the bench/
 * module and is found as a {@link Subcommand} service when the launcher puts its jar on the class path.
 */
@Command(name = "flash", mixinStandardHelpOptions = true, versionProvider = FlashMain.Version.class,
        description = "Flash: an AMPED static web server for the JVM (after Pai, Druschel and Zwaenepoel, 1999).",
        subcommands = {ServeCommand.class, CheckConfigCommand.class})
public final class FlashMain implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tF %1$tT %4$s %3$s: %5$s%6$s%n");
        System.exit(commandLine().execute(args));
    }

    /** The command line with Flash's error conventions: one line naming the problem, exit status 2. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new FlashMain());
        for (Subcommand extra : ServiceLoader.load(Subcommand.class)) {
            cl.addSubcommand(extra);
        }
        cl.addSubcommand(new CommandLine.HelpCommand()); // last, as before: serve, bench, help
        cl.setParameterExceptionHandler((ex, args) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            String cmd = ex.getCommandLine().getCommandSpec().qualifiedName();
            err.println("flash: " + ex.getMessage() + " (see '" + cmd + " --help')");
            err.flush();
            return 2;
        });
        cl.setExecutionExceptionHandler((ex, c, parsed) -> {
            PrintWriter err = c.getErr();
            err.println("flash: " + (ex.getMessage() == null ? ex.toString() : ex.getMessage()));
            err.flush();
            return 2;
        });
        return cl;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = FlashMain.class.getPackage().getImplementationVersion();
            return new String[] {"flash " + (v == null ? "dev" : v) + " (Java " + Runtime.version() + ", "
                    + System.getProperty("os.name") + " " + System.getProperty("os.arch") + ")"};
        }
    }
}
