package flash.bench;

import java.awt.Color;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.internal.chartpart.IChart;
import org.knowm.xchart.style.Styler;

/** PNG figures shaped like the paper's: medians per server, one line or bar group per server. */
public final class Plots {
    static final int W = 640;
    static final int H = 440;
    private static final ToDoubleFunction<Measurement> REQ_S = Measurement::reqS;
    private static final ToDoubleFunction<Measurement> MB_S = m -> m.wrk().mbPerSec();
    private static final ToDoubleFunction<Measurement> P99 = m -> m.wrk().p99Ms();

    static {
        System.setProperty("java.awt.headless", "true");
    }

    private Plots() {
    }

    /** Writes every figure whose experiment has data; returns the files written. */
    public static List<Path> writeAll(List<Measurement> results, Path dir) throws IOException {
        List<Path> out = new ArrayList<>();
        ResultTable fs = new ResultTable(results, "filesize");
        if (!fs.isEmpty()) {
            out.add(save(dir.resolve("fig-filesize.png"), List.of(
                    xy(fs, "File size vs. throughput", "file size (bytes)", "requests/s", REQ_S, true, false),
                    xy(fs, "File size vs. bandwidth", "file size (bytes)", "MB/s", MB_S, true, false))));
        }
        ResultTable tr = new ResultTable(results, "traces");
        if (!tr.isEmpty()) {
            out.add(save(dir.resolve("fig-traces.png"), List.of(
                    bars(tr, "Trace replay: throughput", "requests/s", REQ_S),
                    bars(tr, "Trace replay: bandwidth", "MB/s", MB_S))));
        }
        ResultTable ds = new ResultTable(results, "dataset");
        if (!ds.isEmpty()) {
            out.add(save(dir.resolve("fig-dataset.png"), List.of(
                    xy(ds, "Data-set size, cold cache: throughput", "data set (MiB)", "requests/s", REQ_S, true, false),
                    xy(ds, "Data-set size, cold cache: bandwidth", "data set (MiB)", "MB/s", MB_S, true, false))));
        }
        ResultTable bs = new ResultTable(results, "bigsite");
        if (!bs.isEmpty()) {
            out.add(save(dir.resolve("fig-bigsite.png"), List.of(
                    bars(bs, "Site larger than the caches: throughput", "requests/s", REQ_S),
                    bars(bs, "Site larger than the caches: bandwidth", "MB/s", MB_S))));
        }
        ResultTable ab = new ResultTable(results, "ablation");
        if (!ab.isEmpty()) {
            out.add(save(dir.resolve("fig-ablation.png"), List.of(ablation(ab))));
        }
        ResultTable cc = new ResultTable(results, "concurrency");
        if (!cc.isEmpty()) {
            out.add(save(dir.resolve("fig-concurrency.png"), List.of(
                    xy(cc, "Connections vs. throughput", "persistent connections", "requests/s", REQ_S, true, false),
                    xy(cc, "Connections vs. p99 latency", "persistent connections", "p99 latency (ms)", P99, true, true))));
        }
        return out;
    }

    static XYChart xy(ResultTable t, String title, String xTitle, String yTitle, ToDoubleFunction<Measurement> metric,
                      boolean logX, boolean logY) {
        XYChart c = new XYChartBuilder().width(W).height(H).title(title).xAxisTitle(xTitle).yAxisTitle(yTitle).build();
        style(c.getStyler());
        c.getStyler().setXAxisLogarithmic(logX);
        c.getStyler().setYAxisLogarithmic(logY);
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        c.getStyler().setMarkerSize(6);
        Map<String, Double> params = t.params();
        for (String server : t.servers()) {
            List<Double> xs = new ArrayList<>();
            List<Double> ys = new ArrayList<>();
            for (Map.Entry<String, Double> p : params.entrySet()) {
                double y = t.stats(server, p.getKey(), metric).median();
                if (!Double.isNaN(y) && (!logY || y > 0)) {
                    xs.add(p.getValue());
                    ys.add(y);
                }
            }
            if (!xs.isEmpty()) {
                c.addSeries(server, xs, ys);
            }
        }
        return c;
    }

    static CategoryChart bars(ResultTable t, String title, String yTitle, ToDoubleFunction<Measurement> metric) {
        CategoryChart c = new CategoryChartBuilder().width(W).height(H).title(title).yAxisTitle(yTitle).build();
        style(c.getStyler());
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        List<String> params = new ArrayList<>(t.params().keySet());
        for (String server : t.servers()) {
            List<Double> ys = new ArrayList<>();
            for (String p : params) {
                double y = t.stats(server, p, metric).median();
                ys.add(Double.isNaN(y) ? 0.0 : y);
            }
            c.addSeries(server, params, ys);
        }
        return c;
    }

    static CategoryChart ablation(ResultTable t) {
        CategoryChart c = new CategoryChartBuilder().width(W + 160).height(H).title("Flash AMPED cache ablation")
                .xAxisTitle("caches enabled").yAxisTitle("requests/s").build();
        style(c.getStyler());
        c.getStyler().setLegendVisible(false);
        c.getStyler().setXAxisLabelRotation(20);
        List<String> combos = t.servers();
        List<Double> ys = new ArrayList<>();
        for (String combo : combos) {
            double y = Double.NaN;
            for (String p : t.params().keySet()) {
                y = t.stats(combo, p, REQ_S).median();
            }
            ys.add(Double.isNaN(y) ? 0.0 : y);
        }
        c.addSeries("amped", combos, ys);
        return c;
    }

    private static void style(Styler s) {
        s.setChartBackgroundColor(Color.WHITE);
        s.setPlotBackgroundColor(Color.WHITE);
        s.setLegendBorderColor(Color.LIGHT_GRAY);
    }

    /** One chart, or several side by side in one PNG (the paper pairs req/s with MB/s). */
    static Path save(Path file, List<? extends IChart> charts) throws IOException {
        Files.createDirectories(file.getParent());
        try (OutputStream out = Files.newOutputStream(file)) {
            if (charts.size() == 1) {
                BitmapEncoder.saveBitmap(charts.getFirst(), out, BitmapEncoder.BitmapFormat.PNG);
            } else {
                BitmapEncoder.saveBitmap(charts, 1, charts.size(), out, BitmapEncoder.BitmapFormat.PNG);
            }
        }
        return file;
    }
}
