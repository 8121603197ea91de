package flash.cli;

/**
 * A subcommand of {@code flash} that ships in another jar: the server jar does not know it, {@link FlashMain} finds it
 * with {@link java.util.ServiceLoader} when that jar is on the class path. {@code flash bench} is one (the bench/
 * module, which carries the plotting library the server must not). The implementation is a picocli
 * {@code @Command} with a public no-argument constructor, listed in {@code META-INF/services/flash.cli.Subcommand}.
 */
public interface Subcommand {
}
