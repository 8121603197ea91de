package flash.fastcgi;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Scripts found on disk recently, by normalised URL path, so that a hot script is not looked up again (a stat and
 * a realpath on a helper, and the round trip to it) for every request: the static files' path cache does the same.
 * Only found scripts are kept, and only for {@code --revalidate-ms}: a deleted or replaced script is seen within
 * that bound, and a missing one is always checked, so the {@code /uploads/x.jpg/y.php} rule never rests on a
 * cached answer. Bounded: when full it starts over (path-info URLs can make many keys for one script).
 */
final class ScriptCache {
    static final int MAX_ENTRIES = 4096;

    private record Entry(FastCgiHandler.Found found, long checkedAt) {}

    private final ConcurrentHashMap<String, Entry> map = new ConcurrentHashMap<>();
    private final long freshNanos;

    ScriptCache(long freshNanos) { this.freshNanos = freshNanos; }

    /** The script found for {@code urlPath} less than the freshness bound ago, or null. */
    FastCgiHandler.Found get(String urlPath, long now) {
        if (freshNanos <= 0) return null;
        Entry e = map.get(urlPath);
        if (e == null) return null;
        if (now - e.checkedAt > freshNanos) {
            map.remove(urlPath, e);
            return null;
        }
        return e.found;
    }

    void put(String urlPath, FastCgiHandler.Found found, long checkedAt) {
        if (freshNanos <= 0) return;
        if (map.size() >= MAX_ENTRIES) map.clear();
        map.put(urlPath, new Entry(found, checkedAt));
    }
}
