package flash.bench;

import static org.assertj.core.api.Assertions.assertThat;

import flash.cli.FlashMain;
import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;
import org.junit.jupiter.api.Test;

/** The server finds `flash bench` only through the flash.cli.Subcommand service this module declares. */
class SubcommandServiceTest {
    @Test
    void flashMainListsBenchAfterTheServerCommandsAndBeforeHelp() {
        assertThat(FlashMain.commandLine().getSubcommands().keySet()).containsExactly("serve", "check-config", "bench", "help");
    }

    @Test
    void benchRunsUnderFlashsErrorConventions() {
        CommandLine cl = FlashMain.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        assertThat(cl.execute("bench", "--repeats", "many")).isEqualTo(2);
        assertThat(err.toString()).startsWith("flash: ").contains("--repeats", "'flash bench --help'");
    }
}
