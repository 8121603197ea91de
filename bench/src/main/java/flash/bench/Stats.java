package flash.bench;

import java.util.Arrays;
import java.util.Collection;

/** Median with min and max: with 3-5 repeats a mean and stddev would suggest precision we do not have. */
public record Stats(double median, double min, double max, int n) {

    public static Stats of(Collection<Double> values) {
        double[] v = values.stream().filter(d -> d != null && !d.isNaN()).mapToDouble(Double::doubleValue).toArray();
        if (v.length == 0) {
            return new Stats(Double.NaN, Double.NaN, Double.NaN, 0);
        }
        Arrays.sort(v);
        int n = v.length;
        double median = n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
        return new Stats(median, v[0], v[n - 1], n);
    }

    /** "12.3k (11.9k-12.8k)" style, for tables. */
    public String format() {
        if (n == 0) {
            return "n/a";
        }
        return Fmt.num(median) + " (" + Fmt.num(min) + "–" + Fmt.num(max) + ")";
    }
}
