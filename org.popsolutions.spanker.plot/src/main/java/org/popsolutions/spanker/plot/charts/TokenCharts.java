package org.popsolutions.spanker.plot.charts;

import java.util.ArrayList;
import java.util.List;
import org.popsolutions.spanker.api.plan.Plan;
import org.popsolutions.spanker.api.plot.Chart;
import org.popsolutions.spanker.api.plot.Series;
import org.popsolutions.spanker.api.runtime.TokenEvent;

/**
 * The chart of a run ({@code run --plot}, the web view's run picture): each generated token's time against its number, measured (the forward pass it was sampled
 * from, and the busiest card's compute in it) and predicted by the plan (total, compute, collectives and hand-offs).
 * The chart's axes are logarithmic: a series with no positive value (a plan that predicts nothing) is left out.
 */
public final class TokenCharts {
    private TokenCharts() {
    }

    public static Chart perToken(List<TokenEvent> tokens, Plan plan) {
        int n = tokens.size();
        double[] index = new double[n];
        double[] measured = new double[n];
        double[] compute = new double[n];
        for (int i = 0; i < n; i++) {
            index[i] = i + 1;
            measured[i] = tokens.get(i).measuredSeconds();
            compute[i] = tokens.get(i).computeSeconds();
        }
        List<Series> series = new ArrayList<>();
        add(series, new Series("measured per token", index, measured, false));
        add(series, new Series("measured compute (busiest card)", index, compute, false));
        add(series, constant("predicted per token", index, plan.secondsPerToken()));
        add(series, constant("predicted compute", index, plan.computeSecondsPerToken()));
        add(series, constant("predicted collectives + hand-offs", index, plan.communicationSecondsPerToken()));
        return new Chart("time per generated token, " + plan.model() + " on " + plan.cards() + " cards ("
                + plan.strategy() + ")", "token", "seconds", series);
    }

    private static Series constant(String name, double[] x, double value) {
        double[] y = new double[x.length];
        java.util.Arrays.fill(y, value);
        return new Series(name, x, y, true);
    }

    private static void add(List<Series> series, Series s) {
        double[] y = s.y();
        for (double v : y) {
            if (!(v > 0) || !Double.isFinite(v)) {
                return;
            }
        }
        if (y.length > 0) {
            series.add(s);
        }
    }
}
