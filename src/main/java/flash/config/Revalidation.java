package flash.config;

import java.util.Locale;

/**
 * How a cached path translation learns that the file system changed under it ({@code --revalidate}).
 */
public enum Revalidation {
    /**
     * The directories the translation read are watched (inotify): a change drops the entry at once, and an entry is
     * re-checked on disk only after the longer safety bound ({@code --revalidate-watched-ms}). Entries that cannot be
     * watched keep the stat bound.
     */
    WATCH,
    /** Every entry is re-checked on disk (stat, realpath, open) once older than {@code --revalidate-ms}. */
    STAT;

    public String cliName() { return name().toLowerCase(Locale.ROOT); }
}
