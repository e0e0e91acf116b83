package org.popsolutions.spanker.api.plot;

import java.util.List;

/** A chart with logarithmic axes (sizes and times span decades), one line per series. */
public record Chart(String title, String xLabel, String yLabel, List<Series> series) {
    public Chart {
        series = List.copyOf(series);
    }
}
