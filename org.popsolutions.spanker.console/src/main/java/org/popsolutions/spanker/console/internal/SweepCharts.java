package org.popsolutions.spanker.console.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.popsolutions.spanker.api.plot.Chart;
import org.popsolutions.spanker.api.plot.Series;

/**
 * The two charts of a bench-collective sweep, from its JSON rows: bus bandwidth and time against size, each
 * with a measured and a predicted series per algorithm that ran (with {@code --algo auto} the choice may change
 * along the sweep). Predicted bus bandwidth is the row's bytes over the predicted time, times the same bus
 * factor as the measurement (their ratio is the row's busbw over its algbw).
 */
final class SweepCharts {
    private SweepCharts() {
    }

    static List<Chart> of(String title, List<Map<String, Object>> rows) {
        Map<String, List<double[]>> byAlgorithm = new LinkedHashMap<>();
        for (Map<String, Object> row : rows) {
            double size = number(row, "size");
            double seconds = number(row, "timeMicros") / 1e6;
            double predicted = number(row, "predictedMicros") / 1e6;
            double busbw = number(row, "busbwGBps");
            double algbw = number(row, "algbwGBps");
            double busFactor = algbw > 0 ? busbw / algbw : 0;
            double predictedBusbw = predicted > 0 ? size / predicted / 1e9 * busFactor : Double.NaN;
            byAlgorithm.computeIfAbsent((String) row.get("algorithm"), a -> new ArrayList<>())
                    .add(new double[] {size, busbw, predictedBusbw, seconds, predicted});
        }
        List<Series> bandwidth = new ArrayList<>();
        List<Series> time = new ArrayList<>();
        byAlgorithm.forEach((algorithm, points) -> {
            bandwidth.add(series(algorithm, points, 1, false));
            bandwidth.add(series(algorithm + " (predicted)", points, 2, true));
            time.add(series(algorithm, points, 3, false));
            time.add(series(algorithm + " (predicted)", points, 4, true));
        });
        return List.of(new Chart(title + ": bus bandwidth", "size (bytes)", "busbw (GB/s)", bandwidth),
                new Chart(title + ": time", "size (bytes)", "time (s)", time));
    }

    private static Series series(String name, List<double[]> points, int column, boolean predicted) {
        double[] x = new double[points.size()];
        double[] y = new double[points.size()];
        for (int i = 0; i < points.size(); i++) {
            x[i] = points.get(i)[0];
            y[i] = points.get(i)[column];
        }
        return new Series(name, x, y, predicted);
    }

    private static double number(Map<String, Object> row, String key) {
        return row.get(key) instanceof Number number ? number.doubleValue() : Double.NaN;
    }
}
