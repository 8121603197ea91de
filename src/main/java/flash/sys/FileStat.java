package flash.sys;

/** What one fstat(2) of a regular file said: its {@link FileIdentity} and the user that owns it. */
public record FileStat(FileIdentity identity, int uid) {}
