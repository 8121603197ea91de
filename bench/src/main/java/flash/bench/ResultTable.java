package flash.bench;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/** Groups the runs of one experiment by server and x value, in the order they were measured. */
public final class ResultTable {
    private final List<Measurement> rows;

    public ResultTable(List<Measurement> all, String experiment) {
        this.rows = all.stream().filter(m -> m.experiment().equals(experiment)).toList();
    }

    public boolean isEmpty() {
        return rows.isEmpty();
    }

    public List<String> servers() {
        return List.copyOf(new LinkedHashSet<>(rows.stream().map(Measurement::server).toList()));
    }

    /** param label -> x value, in measurement order. */
    public Map<String, Double> params() {
        Map<String, Double> out = new LinkedHashMap<>();
        for (Measurement m : rows) {
            out.putIfAbsent(m.param(), m.x());
        }
        return out;
    }

    public List<Measurement> runs(String server, String param) {
        return rows.stream().filter(m -> m.server().equals(server) && m.param().equals(param)).toList();
    }

    public Stats stats(String server, String param, ToDoubleFunction<Measurement> metric) {
        List<Double> v = new ArrayList<>();
        for (Measurement m : runs(server, param)) {
            v.add(metric.applyAsDouble(m));
        }
        return Stats.of(v);
    }

    /**
     * server/base req/s ratio computed run by run (run i of one against run i of the other, measured back to
     * back), then summarised: closer to the truth than a ratio of medians when the machine drifts.
     */
    public Stats ratio(String server, String base, String param) {
        return pairs(server, base, param, (m, b) -> b.reqS() > 0 ? m.reqS() / b.reqS() : Double.NaN);
    }

    /**
     * base/server CPU per request, run by run as {@link #ratio}: above 1 the server spent less CPU per response than
     * the base did. Runs without a figure on either side are left out.
     */
    public Stats cpuRatio(String server, String base, String param) {
        return pairs(server, base, param, (m, b) -> b.serverUsPerRequest() / m.serverUsPerRequest());
    }

    private Stats pairs(String server, String base, String param,
                        java.util.function.ToDoubleBiFunction<Measurement, Measurement> f) {
        Map<Integer, Measurement> baseByRun = new HashMap<>();
        for (Measurement m : runs(base, param)) {
            baseByRun.put(m.run(), m);
        }
        List<Double> ratios = new ArrayList<>();
        for (Measurement m : runs(server, param)) {
            Measurement b = baseByRun.get(m.run());
            if (b == null) {
                continue;
            }
            double r = f.applyAsDouble(m, b);
            if (Double.isFinite(r)) { // a collapsed run (0 req/s) counts as a 0 ratio; a run without a figure is NaN
                ratios.add(r);
            }
        }
        return Stats.of(ratios);
    }

    public List<Measurement> rows() {
        return rows;
    }
}
