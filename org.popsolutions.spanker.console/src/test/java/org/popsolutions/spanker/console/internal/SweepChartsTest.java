package org.popsolutions.spanker.console.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.plot.Chart;

class SweepChartsTest {
    private static Map<String, Object> row(long size, String algorithm, double micros, double predictedMicros) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("size", size);
        row.put("algorithm", algorithm);
        row.put("timeMicros", micros);
        row.put("predictedMicros", predictedMicros);
        double algbw = size / (micros / 1e6) / 1e9;
        row.put("algbwGBps", algbw);
        row.put("busbwGBps", algbw * 1.5);
        return row;
    }

    @Test
    void oneMeasuredAndOnePredictedSeriesPerAlgorithmInBothCharts() {
        List<Chart> charts = SweepCharts.of("allreduce", List.of(row(1024, "rd", 10, 5), row(2048, "rd", 12, 6),
                row(4096, "ring", 20, 10)));
        assertEquals(2, charts.size());
        Chart bandwidth = charts.get(0);
        assertEquals(List.of("rd", "rd (predicted)", "ring", "ring (predicted)"),
                bandwidth.series().stream().map(s -> s.name()).toList());
        assertArrayEquals(new double[] {1024, 2048}, bandwidth.series().get(0).x());
        // predicted busbw: bytes over predicted time, times the bus factor 1.5 of the measured row
        assertEquals(1024 / 5e-6 / 1e9 * 1.5, bandwidth.series().get(1).y()[0], 1e-9);
        Chart time = charts.get(1);
        assertArrayEquals(new double[] {10e-6, 12e-6}, time.series().get(0).y(), 1e-15);
        assertArrayEquals(new double[] {10e-6}, time.series().get(3).y(), 1e-15);
        assertEquals(true, time.series().get(3).predicted());
    }
}
