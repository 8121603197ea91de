package flash.content;

/**
 * Lets a whole file found in memory be trusted so for a short while instead of being tested again before every send
 * (AMPED's residency test by mincore, {@link FileHandle#residentWhole}): files sent from a descriptor a cache entry
 * keeps ({@link UnheldRead}), whose change an fstat or the watch finds first; and bodies of up to 1 MiB sent from a
 * cached large file's handle, with their ranges, while a watch vouches for the file's cached size
 * ({@link FileHandle#hinted}). Other regions are tested every time. mincore's answer was only ever a hint, as the
 * paper says of it: a page can go between the test and the send. The window widens that gap to at most
 * {@link #windowNanos}, and two facts bound the risk.
 * Pages just sent are the last the kernel reclaims (sendfile marks them accessed). And every
 * failed test anywhere in the process, the sign that the page cache no longer holds what is asked for (memory
 * pressure, a dropped cache, a new file), withdraws every hint at once: a hint counts only while no test has failed
 * since it was made ({@link #epoch}). Under steady eviction hints therefore stop counting, and each send is tested.
 *
 * <p>What it cannot see: a page of a hinted file dropped from outside the process ({@code drop_caches},
 * {@code posix_fadvise(DONTNEED)}) while every other test still succeeds. A send of it within the window waits for
 * the disk on the loop, once per such file until a test fails. An eviction this process makes itself must call
 * {@link #notResident} (tests evict through {@code flash.testing.ColdFile.dropPages}). Why a window at all: on a warm
 * site larger than the caches, each file asked for a few times a second, the repeated test was the largest system
 * call after sendfile itself (docs/performance.md section 37 has the figures).
 */
public final class ResidencyHint {
    private ResidencyHint() {}

    /**
     * How long a whole file found in memory is trusted so: {@code -Dflash.residencyHintMs} (1,000 by default; 0 tests
     * before every send, as before). A file asked for a few times a second saves few tests with a window much shorter
     * than that; a longer one saves more and widens the blind spot (section 37 of docs/performance.md measured 0.25-4
     * s). Tests may set it.
     */
    static volatile long windowNanos = Long.getLong("flash.residencyHintMs", 1000) * 1_000_000L;

    /** Advanced by every failed residency test: a hint made before it no longer counts. */
    private static volatile int epoch;

    /**
     * The current epoch: read before a test whose success will be recorded as a hint. It counts the failed tests of
     * the process (the status page), give or take two failing at once.
     */
    public static int epoch() { return epoch; }

    /**
     * A residency test failed, or this process evicted a file's pages: no hint made before now counts. Racy on
     * purpose: two failures at once may advance it once, which still withdraws every earlier hint.
     */
    public static void notResident() {
        epoch = epoch + 1;
    }

    /** Whether a whole-file test that succeeded at {@code testedAt} (nanoTime, 0: never) in {@code testedEpoch} still counts. */
    static boolean holds(long testedAt, int testedEpoch, long now) {
        return testedAt != 0 && testedEpoch == epoch && now - testedAt < windowNanos;
    }
}
