package flash.config;

/**
 * The access log's line format: {@code combined} (nginx's and Apache's), {@code json} (one object per line), or
 * {@code verbose} (combined, then each request header on its own line as {@code > Name: value}, as jwebserver's
 * {@code -o verbose} shows them).
 */
public enum AccessLogFormat {
    COMBINED, JSON, VERBOSE;

    public String cliName() { return name().toLowerCase(java.util.Locale.ROOT); }

    public static AccessLogFormat parse(String s) {
        for (AccessLogFormat f : values()) if (f.cliName().equalsIgnoreCase(s)) return f;
        throw new IllegalArgumentException("unknown access log format '" + s + "' (choose combined, json or verbose)");
    }
}
