package flash.config;

/** The access log's line format: {@code combined} (nginx's and Apache's) or {@code json} (one object per line). */
public enum AccessLogFormat {
    COMBINED, JSON;

    public String cliName() { return name().toLowerCase(java.util.Locale.ROOT); }

    public static AccessLogFormat parse(String s) {
        for (AccessLogFormat f : values()) if (f.cliName().equalsIgnoreCase(s)) return f;
        throw new IllegalArgumentException("unknown access log format '" + s + "' (choose combined or json)");
    }
}
