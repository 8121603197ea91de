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
        Map<Integer, Double> baseByRun = new HashMap<>();
        for (Measurement m : runs(base, param)) {
            baseByRun.put(m.run(), m.reqS());
        }
        List<Double> ratios = new ArrayList<>();
        for (Measurement m : runs(server, param)) {
            Double b = baseByRun.get(m.run());
            if (b != null && b > 0) {
                ratios.add(m.reqS() / b);
            }
        }
        return Stats.of(ratios);
    }

    public List<Measurement> rows() {
        return rows;
    }
}
