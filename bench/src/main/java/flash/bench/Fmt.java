package flash.bench;

import java.util.Locale;

/** Number formatting shared by the summary and the plots' labels. */
final class Fmt {
    private Fmt() {
    }

    static String num(double v) {
        if (Double.isNaN(v)) {
            return "n/a";
        }
        double a = Math.abs(v);
        if (a >= 100_000) {
            return String.format(Locale.ROOT, "%.0fk", v / 1000);
        }
        if (a >= 10_000) {
            return String.format(Locale.ROOT, "%.1fk", v / 1000);
        }
        if (a >= 100) {
            return String.format(Locale.ROOT, "%.0f", v);
        }
        if (a >= 10) {
            return String.format(Locale.ROOT, "%.1f", v);
        }
        return String.format(Locale.ROOT, "%.2f", v);
    }

    static String bytes(long b) {
        if (b >= 1024 * 1024 && b % (1024 * 1024) == 0) {
            return b / (1024 * 1024) + "MiB";
        }
        if (b >= 1024 && b % 1024 == 0) {
            return b / 1024 + "KiB";
        }
        return b + "B";
    }
}
