package org.popsolutions.spanker.strategy.bandwidth;

import java.util.List;
import org.popsolutions.spanker.api.bandwidth.BandwidthModel;
import org.popsolutions.spanker.api.strategy.CandidateCost;
import org.popsolutions.spanker.api.strategy.Strategy;
import org.popsolutions.spanker.api.strategy.StrategyDecision;
import org.popsolutions.spanker.api.strategy.TileShape;

/**
 * The seed's {@code pick_strategy}: tensor parallelism splits the weight read across the cards but ships
 * the whole activation over one inter-card link; model parallelism reads the whole weight on each card but
 * splits the activation traffic.
 *
 * <pre>
 * TP = weight_bytes / (n · ddr_bw) + activation_bytes / intercard_bw
 * MP = weight_bytes / ddr_bw       + activation_bytes / (n · intercard_bw)
 * </pre>
 *
 * n = 0 counts as 1; one card is always TensorParallel; a zero bandwidth makes a cost +∞; ties (including
 * ∞ vs ∞) go to TensorParallel.
 */
public final class BandwidthCostRule {
    private BandwidthCostRule() {
    }

    public static StrategyDecision pick(TileShape tile, int cards, BandwidthModel bandwidth, String decidedBy) {
        if (cards < 0) {
            throw new IllegalArgumentException("card count must be >= 0, got " + cards);
        }
        double n = Math.max(1, cards);
        double weight = TileShape.unsignedToDouble(tile.weightBytes());
        double activation = TileShape.unsignedToDouble(tile.activationBytes());
        double ddr = TileShape.unsignedToDouble(bandwidth.localDdrBytesPerSecond());
        double link = TileShape.unsignedToDouble(bandwidth.intercardBytesPerSecond());
        double tp = ddr == 0 || link == 0 ? Double.POSITIVE_INFINITY : weight / (n * ddr) + activation / link;
        double mp = ddr == 0 || link == 0 ? Double.POSITIVE_INFINITY : weight / ddr + activation / (n * link);
        Strategy chosen = n == 1 || tp <= mp ? Strategy.TENSOR_PARALLEL : Strategy.MODEL_PARALLEL;
        return new StrategyDecision(chosen,
                List.of(new CandidateCost(Strategy.TENSOR_PARALLEL, tp), new CandidateCost(Strategy.MODEL_PARALLEL, mp)),
                decidedBy);
    }

}
