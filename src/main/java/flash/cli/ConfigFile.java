package flash.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import flash.config.HeaderRule;
import flash.config.ServerConfig;
import flash.config.VirtualHost;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code flash serve --config FILE}: a TOML file whose keys are serve's long option names. Generic over the options:
 * {@code foo-bar = V} is {@code --foo-bar V}, an array repeats the option, {@code true} turns a switch on, and
 * {@code root} is the DIR argument, so an option added to {@link ServeCommand} works in the file with no code here.
 * Tables carry what flags say badly: {@code [[proxy]]}, {@code [[cgi]]}, {@code [[fastcgi]]} and {@code [[static]]}
 * routes (each the value of its repeatable option, written as fields), {@code [[headers]]} rules and
 * {@code [[vhost]]} virtual hosts. Options on the command line replace the file's value of the same key.
 * Relative paths in the file (root, directories, Path options, access-log) are relative to the file's directory.
 * Every problem is one {@link UsageError} line naming the file, the line and the key.
 */
final class ConfigFile {
    /** Options written as arrays of tables, one table per route, besides as strings. */
    private static final Set<String> ROUTE_TABLES = Set.of("proxy", "cgi", "fastcgi", "static");
    /** What a [[vhost]] may set; everything else is the server's. */
    private static final Set<String> VHOST_KEYS = Set.of("host", "hosts", "root", "list-dirs", "follow-symlinks",
            "dotfiles", "index", "proxy", "cgi", "fastcgi", "static", "headers");
    /** Options a virtual host does not inherit from the top level: its routes are its own. */
    private static final Set<String> SITE_ROUTES = Set.of("proxy", "cgi", "fastcgi", "static", "status-path");
    /** Options of serve that are not configuration. */
    private static final Set<String> NOT_IN_FILE = Set.of("config", "help", "version");
    private static final Pattern OPTION = Pattern.compile("--([a-z][a-z0-9-]*)");

    /** One option (or the document root, key "root") with its command-line tokens and where it came from. */
    record Arg(String key, List<String> tokens, String path, int line) {
        boolean fromFile() { return line > 0; }
    }

    /** The effective serve command (file and command line merged) and the configuration it describes. */
    record Loaded(ServeCommand command, ServerConfig config) {}

    private final Path file;
    private final Path dir;
    private final String label;
    private final JsonNode doc;
    private final KeyLines lines;
    private final CommandLine.Model.CommandSpec options = new CommandLine(new ServeCommand()).getCommandSpec();

    private ConfigFile(Path file, JsonNode doc, KeyLines lines) {
        this.file = file;
        this.dir = file.toAbsolutePath().getParent();
        this.label = file.toString();
        this.doc = doc;
        this.lines = lines;
    }

    static ConfigFile read(Path file) {
        if (!Files.exists(file)) throw new UsageError("config file '" + file + "' does not exist");
        if (Files.isDirectory(file)) throw new UsageError("config file '" + file + "' is a directory");
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new UsageError("config file '" + file + "' cannot be read: " + e.getMessage());
        }
        JsonNode doc;
        try {
            doc = new TomlMapper().readTree(text);
        } catch (IOException e) {
            String msg = e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
            int line = e instanceof com.fasterxml.jackson.core.JsonProcessingException j && j.getLocation() != null
                    ? j.getLocation().getLineNr() : 0;
            throw new UsageError(file + (line > 0 ? " line " + line : "") + ": not valid TOML: " + firstLine(msg));
        }
        if (doc == null) doc = new TomlMapper().createObjectNode();
        return new ConfigFile(file, doc, KeyLines.of(text));
    }

    Path file() { return file; }

    /** The file with the command line's own options ({@code cli}), which win over the file's. */
    Loaded load(List<Arg> cli) {
        Map<String, Arg> top = new LinkedHashMap<>();
        List<HeaderRule> rules = List.of();
        JsonNode vhostNodes = null;
        for (var it = doc.properties().iterator(); it.hasNext(); ) {
            var f = it.next();
            String k = f.getKey();
            switch (k) {
                case "headers" -> rules = headerRules(f.getValue(), k);
                case "vhost" -> vhostNodes = f.getValue();
                default -> top.put(k, arg(k, f.getValue(), k));
            }
        }
        checkAll(top.values());
        Map<String, Arg> merged = new LinkedHashMap<>(top);
        for (Arg a : cli) merged.put(a.key(), a);
        List<VirtualHost> vhosts = vhostNodes == null ? List.of() : vhosts(vhostNodes, merged);
        ServeCommand cmd = command(merged);
        cmd.fromFile(rules, vhosts);
        return new Loaded(cmd, config(cmd, merged));
    }

    private List<VirtualHost> vhosts(JsonNode nodes, Map<String, Arg> server) {
        if (!nodes.isArray()) throw error("vhost", "write each virtual host as a [[vhost]] table");
        List<VirtualHost> out = new ArrayList<>();
        Set<String> seen = new java.util.HashSet<>();
        for (int i = 0; i < nodes.size(); i++) {
            String path = "vhost[" + i + "]";
            JsonNode v = nodes.get(i);
            if (!v.isObject()) throw error(path, "write each virtual host as a [[vhost]] table");
            Map<String, Arg> site = new LinkedHashMap<>(server);
            site.keySet().removeAll(SITE_ROUTES);
            site.remove("root");
            List<String> names = new ArrayList<>();
            List<HeaderRule> rules = List.of();
            for (var it = v.properties().iterator(); it.hasNext(); ) {
                var f = it.next();
                String k = f.getKey();
                String kp = path + "." + k;
                if (!VHOST_KEYS.contains(k)) {
                    if (options.findOption("--" + k) != null && !NOT_IN_FILE.contains(k)) {
                        throw error(kp, "'" + k + "' is server-wide: set it at the top of the file, not in a [[vhost]]");
                    }
                    throw error(kp, "unknown key '" + k + "' in a [[vhost]] (it takes host or hosts, root, "
                            + "list-dirs, follow-symlinks, dotfiles, index, and proxy, cgi, fastcgi, static and headers tables)");
                }
                switch (k) {
                    case "host" -> names.add(string(f.getValue(), kp));
                    case "hosts" -> {
                        if (!f.getValue().isArray()) throw error(kp, "hosts is a list of names, e.g. [\"example.com\", \"www.example.com\"]");
                        for (int j = 0; j < f.getValue().size(); j++) names.add(string(f.getValue().get(j), kp + "[" + j + "]"));
                    }
                    case "headers" -> rules = headerRules(f.getValue(), kp);
                    default -> site.put(k, arg(k, f.getValue(), kp));
                }
            }
            checkAll(site.values().stream().filter(a -> a.path().startsWith(path + ".")).toList());
            if (names.isEmpty()) throw error(path, "a [[vhost]] needs host = \"NAME\" (or hosts = [...])");
            if (!site.containsKey("root")) throw error(path, "a [[vhost]] needs root = \"DIR\"");
            for (String n : names) {
                if (n.isBlank()) throw error(path + ".host", "empty host name");
                if (!seen.add(VirtualHost.canonical(n))) throw error(path + ".host", "host '" + n + "' is already another [[vhost]]'s");
            }
            ServeCommand cmd = command(site);
            cmd.fromFile(rules, List.of());
            out.add(new VirtualHost(names, config(cmd, site)));
        }
        return out;
    }

    /** One key as serve's command-line tokens, checked on its own so an error names this key and line. */
    private Arg arg(String k, JsonNode v, String path) {
        int line = lines.line(path);
        if (k.equals("root")) {
            return new Arg(k, List.of(resolve(string(v, path))), path, line);
        }
        OptionSpec o = NOT_IN_FILE.contains(k) ? null : options.findOption("--" + k);
        if (o == null || o.hidden()) {
            throw error(path, "unknown key '" + k + "': the keys are the long options of 'flash serve' (see 'flash serve --help'), "
                    + "root, and the headers and vhost tables");
        }
        List<String> tokens = new ArrayList<>();
        boolean isPath = o.type() == Path.class || k.equals("access-log");
        if (o.arity().max() == 0) {
            if (!v.isBoolean()) throw error(path, k + " is a switch: write " + k + " = true (or false)");
            if (v.asBoolean()) tokens.add("--" + k);
        } else if (v.isArray()) {
            if (!o.isMultiValue()) throw error(path, k + " takes one value, not a list");
            for (int i = 0; i < v.size(); i++) {
                JsonNode e = v.get(i);
                String ep = path + "[" + i + "]";
                String value = ROUTE_TABLES.contains(k) && e.isObject() ? routeSpec(k, e, ep) : scalar(o, k, e, ep);
                tokens.add("--" + k);
                tokens.add(isPath ? resolve(value) : value);
            }
        } else {
            String value = scalar(o, k, v, path);
            tokens.add("--" + k);
            tokens.add(isPath ? resolve(value) : value);
        }
        return new Arg(k, List.copyOf(tokens), path, line);
    }

    private String scalar(OptionSpec o, String k, JsonNode v, String path) {
        if (v.isObject()) throw error(path, k + " takes a value, not a table");
        if (v.isArray()) throw error(path, k + " takes single values, not nested lists");
        if (v.isBoolean()) throw error(path, k + " takes a value, not " + v.asBoolean());
        return v.asText();
    }

    /** A [[proxy]], [[cgi]], [[fastcgi]] or [[static]] table as its option's value, checked by that option's parser. */
    private String routeSpec(String k, JsonNode t, String path) {
        Map<String, String> fields = new LinkedHashMap<>();
        String[] allowed = switch (k) {
            case "proxy" -> new String[] {"prefix", "upstream", "upstreams"};
            case "cgi" -> new String[] {"prefix", "dir"};
            case "fastcgi" -> new String[] {"ext", "address"};
            default -> new String[] {"prefix", "root"};
        };
        for (var it = t.properties().iterator(); it.hasNext(); ) {
            var f = it.next();
            String fk = f.getKey();
            if (!List.of(allowed).contains(fk)) {
                throw error(path + "." + fk, "unknown key '" + fk + "' in a [[" + k + "]] (it takes " + String.join(", ", allowed) + ")");
            }
            if (fk.equals("upstreams")) {
                JsonNode a = f.getValue();
                if (!a.isArray() || a.isEmpty()) throw error(path + "." + fk, "upstreams is a list of URLs, e.g. [\"http://127.0.0.1:9000\"]");
                List<String> urls = new ArrayList<>();
                for (int i = 0; i < a.size(); i++) urls.add(string(a.get(i), path + "." + fk + "[" + i + "]"));
                fields.put("upstream", String.join(",", urls));
            } else {
                fields.put(fk, string(f.getValue(), path + "." + fk));
            }
        }
        String[] need = switch (k) {
            case "proxy" -> new String[] {"prefix", "upstream"};
            default -> new String[] {allowed[0], allowed[1]};
        };
        for (String n : need) {
            if (!fields.containsKey(n)) throw error(path, "a [[" + k + "]] needs " + (n.equals("upstream") ? "upstreams = [URL, ...]" : n));
        }
        String spec = switch (k) {
            case "proxy" -> fields.get("prefix") + "=" + fields.get("upstream");
            case "cgi" -> fields.get("prefix") + "=" + resolve(fields.get("dir"));
            case "fastcgi" -> fields.get("ext") + "=" + fields.get("address");
            default -> fields.get("prefix") + "=" + resolve(fields.get("root"));
        };
        try {
            switch (k) {
                case "proxy" -> flash.config.ProxyRoute.parse(spec);
                case "cgi" -> flash.config.CgiRoute.parse(spec);
                case "fastcgi" -> flash.config.FastCgiRoute.parse(spec);
                default -> flash.config.StaticRoute.parse(spec);
            }
        } catch (IllegalArgumentException e) {
            throw error(path, e.getMessage());
        }
        return spec;
    }

    /** [[headers]] path = "/assets/*", set = { Name = "value" }, remove = ["Name"]. */
    private List<HeaderRule> headerRules(JsonNode v, String path) {
        if (!v.isArray()) throw error(path, "write each rule as a [[headers]] table with path and set (or remove)");
        List<HeaderRule> out = new ArrayList<>();
        for (int i = 0; i < v.size(); i++) {
            String rp = path + "[" + i + "]";
            JsonNode t = v.get(i);
            if (!t.isObject()) throw error(rp, "write each rule as a [[headers]] table with path and set (or remove)");
            String pattern = null;
            Map<String, String> set = new LinkedHashMap<>();
            List<String> remove = new ArrayList<>();
            for (var it = t.properties().iterator(); it.hasNext(); ) {
                var f = it.next();
                String fp = rp + "." + f.getKey();
                switch (f.getKey()) {
                    case "path" -> pattern = string(f.getValue(), fp);
                    case "set" -> {
                        if (!f.getValue().isObject()) throw error(fp, "set is a table of headers, e.g. set = { \"Cache-Control\" = \"max-age=3600\" }");
                        for (var h = f.getValue().properties().iterator(); h.hasNext(); ) {
                            var e = h.next();
                            set.put(e.getKey(), string(e.getValue(), fp + "." + e.getKey()));
                        }
                    }
                    case "remove" -> {
                        if (!f.getValue().isArray()) throw error(fp, "remove is a list of header names");
                        for (int j = 0; j < f.getValue().size(); j++) remove.add(string(f.getValue().get(j), fp + "[" + j + "]"));
                    }
                    default -> throw error(fp, "unknown key '" + f.getKey() + "' in a [[headers]] rule (it takes path, set and remove)");
                }
            }
            if (pattern == null) throw error(rp, "a [[headers]] rule needs path = \"PATTERN\", e.g. \"/assets/*\"");
            if (set.isEmpty() && remove.isEmpty()) throw error(rp, "a [[headers]] rule needs set = { ... } or remove = [ ... ]");
            try {
                out.add(new HeaderRule(pattern, set, remove));
            } catch (IllegalArgumentException e) {
                throw error(rp, e.getMessage());
            }
        }
        return out;
    }

    private String string(JsonNode v, String path) {
        if (!v.isTextual()) throw error(path, "expected a string, not " + (v.isContainerNode() ? (v.isArray() ? "a list" : "a table") : v.toString()));
        return v.asText();
    }

    private String resolve(String p) {
        if (p.isEmpty() || p.equals("-")) return p;
        try {
            return dir == null ? p : dir.resolve(p).toString();
        } catch (java.nio.file.InvalidPathException e) {
            return p; // the option's own check names the bad value
        }
    }

    /**
     * The file's values through picocli, all at once (building a command line costs a few milliseconds, and mp
     * workers each load the file); when that fails, each on its own, so the error names the key and its line.
     */
    private void checkAll(java.util.Collection<Arg> args) {
        List<String> tokens = new ArrayList<>();
        List<String> root = new ArrayList<>();
        for (Arg a : args) {
            if (a.key().equals("root")) root.addAll(a.tokens());
            else tokens.addAll(a.tokens());
        }
        if (!root.isEmpty()) {
            tokens.add("--");
            tokens.addAll(root);
        }
        try {
            new CommandLine(new ServeCommand()).parseArgs(tokens.toArray(String[]::new));
            return;
        } catch (CommandLine.ParameterException e) {
            for (Arg a : args) checked(a);
            throw new UsageError(label + ": " + e.getMessage());
        }
    }

    /** The value through picocli on its own: a conversion error names this key and its line. */
    private Arg checked(Arg a) {
        List<String> tokens = new ArrayList<>();
        if (a.key().equals("root")) tokens.add("--");
        tokens.addAll(a.tokens());
        try {
            new CommandLine(new ServeCommand()).parseArgs(tokens.toArray(String[]::new));
        } catch (CommandLine.ParameterException e) {
            throw error(a.path(), e.getMessage());
        }
        return a;
    }

    /** A serve command from merged arguments (options, then the document root after "--"). */
    private static ServeCommand command(Map<String, Arg> args) {
        List<String> tokens = new ArrayList<>();
        Arg root = null;
        for (Arg a : args.values()) {
            if (a.key().equals("root")) root = a;
            else tokens.addAll(a.tokens());
        }
        if (root != null) {
            tokens.add("--");
            tokens.addAll(root.tokens());
        }
        ServeCommand cmd = new ServeCommand();
        try {
            new CommandLine(cmd).parseArgs(tokens.toArray(String[]::new));
        } catch (CommandLine.ParameterException e) {
            throw new UsageError(e.getMessage());
        }
        return cmd;
    }

    /** The command's configuration; a check that fails on a value from the file names the file, line and key. */
    private ServerConfig config(ServeCommand cmd, Map<String, Arg> args) {
        try {
            return cmd.config();
        } catch (UsageError e) {
            throw attributed(e, args);
        } catch (IOException e) {
            throw attributed(new UsageError(e.getMessage()), args);
        }
    }

    private UsageError attributed(UsageError e, Map<String, Arg> args) {
        String m = e.getMessage();
        Matcher om = OPTION.matcher(m);
        while (om.find()) {
            Arg a = args.get(om.group(1));
            if (a != null) return a.fromFile() ? error(a.path(), m) : e;
        }
        Arg root = args.get("root");
        if (m.startsWith("document root") && root != null && root.fromFile()) return error(root.path(), m);
        return e;
    }

    private UsageError error(String path, String message) {
        int line = lines.line(path);
        return new UsageError(label + (line > 0 ? " line " + line : "") + ": " + path + ": " + message);
    }

    private static String firstLine(String s) {
        if (s == null) return "";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
