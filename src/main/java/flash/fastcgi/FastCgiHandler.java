package flash.fastcgi;

import flash.http.RequestTarget;
import flash.http.Status;
import flash.net.Driver;
import flash.pipeline.Exchange;
import flash.pipeline.Handler;
import flash.sys.DiskGuard;
import flash.upstream.Upstream;
import flash.upstream.UpstreamPool;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code --fastcgi EXT=ADDRESS}: a request whose path has a segment ending in EXT runs the script named by the path
 * up to and including that segment on the FastCGI responder at ADDRESS (php-fpm, fcgiwrap); the rest of the path
 * is its PATH_INFO. A directory URL ending in '/' runs its first {@code --index} name that exists, when that name is
 * a script. Everything else goes to the next handler (static files).
 *
 * <p>The script must exist as a regular file under the document root, checked through the driver's seam (a helper
 * under amped): otherwise 404, and the backend never sees the request. That closes the {@code /uploads/x.jpg/y.php}
 * trap, where a backend that guesses (PHP's cgi.fix_pathinfo) runs an uploaded image as PHP.
 */
public final class FastCgiHandler implements Handler {
    /** One --fastcgi mapping, its address resolved at start. */
    public record Route(String ext, Upstream upstream) {}

    /**
     * What every exchange shares. {@code connections}: FastCGI connections per backend for one driver's pool (one
     * event loop's, or the pool all threads share); {@code queue}: requests that may wait for one.
     */
    public record Settings(Path root, List<Route> routes, List<String> indexNames, boolean followSymlinks,
                           boolean dotfiles, int connections, int queue, long connectTimeoutNanos, long timeoutNanos,
                           String serverSoftware, long revalidateNanos, long maxBody) {
        public Settings {
            routes = List.copyOf(routes);
            indexNames = List.copyOf(indexNames);
        }
    }

    /** What the seam found for a script path. */
    sealed interface Script permits Found, Missing, Forbidden, NotScript {}

    record Found(Path file, String scriptName, String pathInfo, Route route) implements Script {}

    record Missing() implements Script {}

    record Forbidden() implements Script {}

    /** A directory whose index is a static file (or none): the static handler answers. */
    record NotScript() implements Script {}

    private final Settings s;
    private final Handler next;
    private final ScriptCache found;

    public FastCgiHandler(Settings settings, Handler next) {
        this.s = settings;
        this.next = next;
        this.found = new ScriptCache(settings.revalidateNanos());
    }

    public Settings settings() { return s; }

    @Override
    public void handle(Exchange ex) {
        RequestTarget.Normalized t = ex.target();
        if (t == null) {
            next.handle(ex);
            return;
        }
        Found cached = found.get(t.path(), System.nanoTime());
        if (cached != null) {
            new FastCgiExchange(ex, s, cached, backend(ex.driver(), cached.route())).start();
            return;
        }
        List<String> segs = t.segments();
        for (int i = 0; i < segs.size(); i++) {
            Route r = route(segs.get(i));
            if (r != null) {
                int last = i;
                resolve(ex, () -> script(t, last, r));
                return;
            }
        }
        if (t.trailingSlash() && dynamicIndex()) {
            resolve(ex, () -> index(t));
            return;
        }
        next.handle(ex);
    }

    private Route route(String segment) {
        for (Route r : s.routes()) {
            if (segment.length() > r.ext().length() && segment.endsWith(r.ext())) return r;
        }
        return null;
    }

    private boolean dynamicIndex() {
        for (String n : s.indexNames()) if (route(n) != null) return true;
        return false;
    }

    /** The disk check goes through the seam: a helper under amped, inline where threads may block. */
    private void resolve(Exchange ex, flash.net.BlockingSeam.Task<Script> task) {
        ex.driver().stats().diskTasks.increment();
        long asked = System.nanoTime(); // the entry's age counts from before the check: never fresher than the disk was
        ex.driver().seam().run(task, outcome -> {
            if (!ex.active()) return;
            Script sc = outcome.ok() ? outcome.value() : new Missing();
            switch (sc) {
                case Found f -> {
                    found.put(ex.target().path(), f, asked);
                    new FastCgiExchange(ex, s, f, backend(ex.driver(), f.route())).start();
                }
                case Missing m -> ex.fail(Status.NOT_FOUND);
                case Forbidden fb -> ex.fail(Status.FORBIDDEN);
                case NotScript n -> next.handle(ex);
            }
        });
    }

    /** Segments 0..last name the script; the rest of the path is PATH_INFO. Runs on the seam. */
    Script script(RequestTarget.Normalized t, int last, Route r) throws IOException {
        List<String> segs = t.segments();
        StringBuilder name = new StringBuilder();
        Path p = s.root();
        for (int i = 0; i <= last; i++) {
            String seg = segs.get(i);
            if (seg.startsWith(".") && (!s.dotfiles() || flash.content.DotfilePolicy.alwaysHidden(seg))) return new Missing();
            p = p.resolve(seg);
            name.append('/').append(seg);
        }
        String scriptName = name.toString();
        String pathInfo = t.path().length() > scriptName.length() ? t.path().substring(scriptName.length()) : "";
        return check(p, scriptName, pathInfo, r);
    }

    /** A directory URL: its first --index name that exists, a script or not. Runs on the seam. */
    Script index(RequestTarget.Normalized t) throws IOException {
        if (!s.dotfiles() && t.hasDotSegment() || flash.content.DotfilePolicy.hasHiddenSegment(t)) return new Missing();
        Path dir = s.root();
        for (String seg : t.segments()) dir = dir.resolve(seg);
        DiskGuard.check("index " + dir);
        for (String n : s.indexNames()) {
            Path f = dir.resolve(n);
            if (!Files.isRegularFile(f)) continue;
            Route r = route(n);
            if (r == null) return new NotScript();
            return check(f, t.path() + n, "", r);
        }
        return new NotScript();
    }

    private Script check(Path p, String scriptName, String pathInfo, Route r) {
        DiskGuard.check("script " + p);
        try {
            BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
            if (!a.isRegularFile()) return new Missing();
            if (!s.followSymlinks() && !p.toRealPath().startsWith(s.root())) return new Missing();
            return new Found(p, scriptName, pathInfo, r);
        } catch (NoSuchFileException | NotDirectoryException e) {
            return new Missing();
        } catch (AccessDeniedException e) {
            return new Forbidden();
        } catch (IOException e) {
            return new Missing();
        }
    }

    /** One backend's pool and slots, per event loop (amped, sped) or shared by every thread (mt, vt, an mp worker). */
    record Backend(UpstreamPool pool, Slots slots) {}

    /** The driver-local backends of every FastCGI handler, keyed by upstream. */
    static final class Backends implements AutoCloseable {
        final Map<Upstream, Backend> map;

        Backends(boolean shared) { map = shared ? new ConcurrentHashMap<>() : new HashMap<>(); }

        @Override
        public void close() {
            for (Backend b : map.values()) b.pool().close();
        }
    }

    Backend backend(Driver d, Route r) {
        Backends all = d.local(Backends.class, () -> new Backends(d.blocking()));
        Backend b = all.map.get(r.upstream());
        if (b != null) return b;
        return all.map.computeIfAbsent(r.upstream(), u -> new Backend(
                UpstreamPool.create(s.connections(), d.blocking()),
                d.blocking() ? Slots.shared(s.connections(), s.queue()) : Slots.local(s.connections(), s.queue())));
    }

    /** How many connections each driver's pool gets, out of the server-wide {@code total}. */
    public static int perPool(int total, flash.config.Architecture arch, int loops) {
        return switch (arch) {
            case AMPED, SPED -> Math.max(1, total / Math.max(1, loops));
            default -> total;
        };
    }

}
