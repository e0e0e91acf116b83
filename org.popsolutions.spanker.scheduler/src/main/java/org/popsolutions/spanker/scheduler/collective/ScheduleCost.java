package org.popsolutions.spanker.scheduler.collective;

import java.util.List;
import org.popsolutions.spanker.api.link.CollectiveEstimate;
import org.popsolutions.spanker.api.topology.TopologyKind;

/**
 * The time of a schedule under the α-β-γ model, step by step: a step lasts as long as its longest route's
 * latency (hops·α), plus the bytes on its busiest link times β, plus the most bytes any card reduces times
 * γ. On a mesh with whole steps this gives the textbook formulas (ring allreduce
 * 2(p−1)α + 2((p−1)/p)nβ + ((p−1)/p)nγ, and so on); on a ring it also charges forwarding and link sharing.
 */
public final class ScheduleCost {
    private ScheduleCost() {
    }

    public static CollectiveEstimate evaluate(Schedule schedule, TopologyKind cabling, double alpha, double beta,
            double gamma, int bytesPerElement) {
        int p = schedule.cards();
        double latency = 0;
        double transfer = 0;
        double reduce = 0;
        int maxHops = 0;
        long[] linkBytes = new long[p * p];
        long[] reducedBytes = new long[p];
        for (List<Transfer> step : schedule.steps()) {
            java.util.Arrays.fill(linkBytes, 0);
            java.util.Arrays.fill(reducedBytes, 0);
            int stepHops = 0;
            for (Transfer t : step) {
                long bytes = (long) t.length() * bytesPerElement;
                int[] path = Routes.path(cabling, p, t.source(), t.destination());
                stepHops = Math.max(stepHops, path.length - 1);
                for (int i = 0; i + 1 < path.length; i++) {
                    linkBytes[Routes.linkIndex(p, path[i], path[i + 1])] += bytes;
                }
                if (t.reduce()) {
                    reducedBytes[t.destination()] += (long) t.length() * Float.BYTES;
                }
            }
            long busiestLink = 0;
            for (long b : linkBytes) {
                busiestLink = Math.max(busiestLink, b);
            }
            long busiestReducer = 0;
            for (long b : reducedBytes) {
                busiestReducer = Math.max(busiestReducer, b);
            }
            maxHops = Math.max(maxHops, stepHops);
            latency += stepHops * alpha;
            transfer += busiestLink * beta;
            reduce += busiestReducer * gamma;
        }
        return new CollectiveEstimate(schedule.kind(), schedule.algorithm(), p,
                (long) schedule.elements() * Float.BYTES, latency, transfer, reduce, schedule.steps().size(), maxHops);
    }
}
