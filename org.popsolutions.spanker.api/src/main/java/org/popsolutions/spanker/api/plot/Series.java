package org.popsolutions.spanker.api.plot;

import java.util.Arrays;

/**
 * One line of a chart: points {@code (x[i], y[i])} in x order.
 *
 * @param predicted a model's prediction (drawn dashed) rather than a measurement (drawn solid)
 */
public record Series(String name, double[] x, double[] y, boolean predicted) {
    public Series {
        if (x.length != y.length) {
            throw new IllegalArgumentException("series " + name + " has " + x.length + " x and " + y.length + " y values");
        }
        x = x.clone();
        y = y.clone();
    }

    @Override
    public double[] x() {
        return x.clone();
    }

    @Override
    public double[] y() {
        return y.clone();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Series series && name.equals(series.name) && predicted == series.predicted
                && Arrays.equals(x, series.x) && Arrays.equals(y, series.y);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * name.hashCode() + Arrays.hashCode(x)) + Arrays.hashCode(y) + (predicted ? 1 : 0);
    }
}
