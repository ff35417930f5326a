package dev.locallambdas.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.VectorGraphicsEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The report's charts, drawn by XChart from a results document and written as PNG (embedded in the
 * report) and SVG: latency distribution per case, the cold-start split, throughput by concurrency
 * and, when measured, large-payload throughput.
 */
final class Charts {
  private Charts() {}

  /** Writes the charts the document has data for; returns the PNG file names. */
  static List<String> write(Map<String, Object> doc, Path dir) throws IOException {
    System.setProperty("java.awt.headless", "true");
    List<String> names = new ArrayList<>();
    XYChart latency = latency(doc);
    if (latency != null) {
      save(latency, dir, "latency-cases", names);
    }
    CategoryChart cold = coldStarts(doc);
    if (cold != null) {
      save(cold, dir, "cold-start-breakdown", names);
    }
    XYChart load = throughput(doc);
    if (load != null) {
      save(load, dir, "throughput-by-concurrency", names);
    }
    CategoryChart payload = payload(doc);
    if (payload != null) {
      save(payload, dir, "payload-throughput", names);
    }
    return names;
  }

  private static void save(Chart<?, ?> chart, Path dir, String name, List<String> names)
      throws IOException {
    BitmapEncoder.saveBitmap(
        chart, dir.resolve(name + ".png").toString(), BitmapEncoder.BitmapFormat.PNG);
    VectorGraphicsEncoder.saveVectorGraphic(
        chart,
        dir.resolve(name + ".svg").toString(),
        VectorGraphicsEncoder.VectorGraphicsFormat.SVG);
    names.add(name + ".png");
  }

  /**
   * Latency by percentile, one line per case and runtime. The x axis is 1/(1-p) on a log scale (10
   * = p90, 100 = p99, 1000 = p99.9), as HdrHistogram's plots draw it.
   */
  @SuppressWarnings("unchecked")
  private static XYChart latency(Map<String, Object> doc) {
    List<Object> cases = Report.list(doc.get("cases"));
    XYChart chart =
        new XYChartBuilder()
            .width(1000)
            .height(560)
            .title("Latency by percentile, per case (sequential requests)")
            .xAxisTitle("percentile as 1/(1-p): 10 = p90, 100 = p99, 1000 = p99.9")
            .yAxisTitle("latency (ms, log)")
            .build();
    style(chart.getStyler());
    chart.getStyler().setXAxisLogarithmic(true);
    chart.getStyler().setYAxisLogarithmic(true);
    int series = 0;
    for (Object o : cases) {
      Map<String, Object> c = (Map<String, Object>) o;
      List<Object> points = Report.list(c.get("distribution"));
      if (points.isEmpty()) {
        continue;
      }
      List<Double> xs = new ArrayList<>();
      List<Double> ys = new ArrayList<>();
      for (Object p : points) {
        List<Object> xy = (List<Object>) p;
        double pct = ((Number) xy.get(0)).doubleValue();
        double v = ((Number) xy.get(1)).doubleValue();
        if (pct >= 100 || v <= 0) {
          continue;
        }
        xs.add(1 / (1 - pct / 100));
        ys.add(v);
      }
      if (xs.isEmpty()) {
        continue;
      }
      String name = c.get("case") + " " + c.get("name") + " (" + c.get("runtime") + ")";
      chart.addSeries(name, xs, ys).setMarker(SeriesMarkers.NONE);
      series++;
    }
    return series > 0 ? chart : null;
  }

  @SuppressWarnings("unchecked")
  private static CategoryChart coldStarts(Map<String, Object> doc) {
    List<String> labels = new ArrayList<>();
    Map<String, List<Number>> parts = new LinkedHashMap<>();
    parts.put("spawn", new ArrayList<>());
    parts.put("ready (child start-up)", new ArrayList<>());
    parts.put("first response", new ArrayList<>());
    for (Object o : Report.list(doc.get("cases"))) {
      Map<String, Object> c = (Map<String, Object>) o;
      Map<String, Object> s = Report.map(c.get("cold_start"));
      if (s.isEmpty() || !Report.map(s.get("ready_ms")).containsKey("mean")) {
        continue;
      }
      labels.add(c.get("transport") + " " + c.get("runtime"));
      parts.get("spawn").add(mean(s.get("spawn_ms")));
      parts.get("ready (child start-up)").add(mean(s.get("ready_ms")));
      parts.get("first response").add(mean(s.get("first_response_ms")));
    }
    if (labels.isEmpty()) {
      return null;
    }
    CategoryChart chart =
        new CategoryChartBuilder()
            .width(900)
            .height(520)
            .title("Cold start, split (mean ms)")
            .xAxisTitle("function")
            .yAxisTitle("ms")
            .build();
    style(chart.getStyler());
    chart.getStyler().setStacked(true);
    for (Map.Entry<String, List<Number>> e : parts.entrySet()) {
      chart.addSeries(e.getKey(), labels, e.getValue());
    }
    return chart;
  }

  private static double mean(Object summary) {
    Object m = Report.map(summary).get("mean");
    return m instanceof Number n ? n.doubleValue() : 0;
  }

  @SuppressWarnings("unchecked")
  private static XYChart throughput(Map<String, Object> doc) {
    Map<String, List<double[]>> byTarget = new LinkedHashMap<>();
    for (Object o : Report.list(doc.get("load"))) {
      Map<String, Object> r = (Map<String, Object>) o;
      byTarget
          .computeIfAbsent((String) r.get("target"), k -> new ArrayList<>())
          .add(
              new double[] {
                ((Number) r.get("concurrency")).doubleValue(),
                ((Number) r.get("throughput_rps")).doubleValue()
              });
    }
    if (byTarget.isEmpty()) {
      return null;
    }
    XYChart chart =
        new XYChartBuilder()
            .width(900)
            .height(520)
            .title("Throughput by concurrency (closed loop)")
            .xAxisTitle("concurrent connections (log)")
            .yAxisTitle("requests per second")
            .build();
    style(chart.getStyler());
    chart.getStyler().setXAxisLogarithmic(true);
    for (Map.Entry<String, List<double[]>> e : byTarget.entrySet()) {
      double[] xs = e.getValue().stream().mapToDouble(p -> p[0]).toArray();
      double[] ys = e.getValue().stream().mapToDouble(p -> p[1]).toArray();
      chart.addSeries(e.getKey(), xs, ys);
    }
    return chart;
  }

  @SuppressWarnings("unchecked")
  private static CategoryChart payload(Map<String, Object> doc) {
    List<String> labels = new ArrayList<>();
    List<Number> values = new ArrayList<>();
    for (Object o : Report.list(doc.get("payload"))) {
      Map<String, Object> r = (Map<String, Object>) o;
      labels.add((String) r.get("target"));
      values.add(((Number) r.get("verified_mib_per_s")).doubleValue());
    }
    if (labels.isEmpty()) {
      return null;
    }
    CategoryChart chart =
        new CategoryChartBuilder()
            .width(800)
            .height(480)
            .title("Large payloads: verified echo throughput")
            .xAxisTitle("function")
            .yAxisTitle("MiB/s each way")
            .build();
    style(chart.getStyler());
    chart.addSeries("verified MiB/s", labels, values);
    return chart;
  }

  private static void style(Styler s) {
    s.setLegendPosition(Styler.LegendPosition.OutsideS);
    s.setChartBackgroundColor(java.awt.Color.WHITE);
  }
}
