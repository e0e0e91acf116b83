package org.popsolutions.spanker.strategy.latency;

import java.util.List;
import org.popsolutions.spanker.api.bandwidth.BandwidthModel;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.link.CollectiveEstimate;
import org.popsolutions.spanker.api.link.CollectiveKind;
import org.popsolutions.spanker.api.link.LinkModel;
import org.popsolutions.spanker.api.strategy.CandidateCost;
import org.popsolutions.spanker.api.strategy.Strategy;
import org.popsolutions.spanker.api.strategy.StrategyDecision;
import org.popsolutions.spanker.api.strategy.TileShape;
import org.popsolutions.spanker.api.topology.TopologyKind;

/**
 * The seed's TP-vs-MP choice with the costs a real decode step pays and the bandwidth rule leaves out:
 *
 * <pre>
 * TP = weight / (n · ddr) + AllGather(activation / n per card)   best algorithm by the link model
 * MP = weight / ddr       + α + (activation / n) · β             one neighbour hand-off
 * both + host link: latency + activation / host bandwidth        the result returns to the host
 * </pre>
 *
 * The AllGather pays (p−1) latency steps on a ring, and forwarding on a ring, where the bandwidth rule
 * charges one link transfer. So small decode tiles, where a microsecond per step outweighs the saved DDR
 * reads, go ModelParallel here although the bandwidth rule says TensorParallel. The same rules as the
 * seed otherwise: n = 0 counts as 1, one card is TensorParallel, a zero tier is +∞, ties go to TP.
 */
public final class LatencyCostRule {
    private static final long MODELLED_SHARD_LIMIT = 1L << 30;
    private LatencyCostRule() {
    }

    public static StrategyDecision pick(TileShape tile, int cards, BandwidthModel bandwidth, LinkModel links,
            TopologyKind cabling, String decidedBy) {
        if (cards < 0) {
            throw new IllegalArgumentException("card count must be >= 0, got " + cards);
        }
        int n = Math.max(1, cards);
        double weight = TileShape.unsignedToDouble(tile.weightBytes());
        double activation = TileShape.unsignedToDouble(tile.activationBytes());
        double ddr = TileShape.unsignedToDouble(bandwidth.localDdrBytesPerSecond());
        double link = TileShape.unsignedToDouble(bandwidth.intercardBytesPerSecond());
        double host = links.hostTransferSeconds(Math.min(Long.MAX_VALUE, (long) Math.min(activation, 0x1p62)));
        double tp;
        double mp;
        if (ddr == 0 || link == 0) {
            tp = Double.POSITIVE_INFINITY;
            mp = Double.POSITIVE_INFINITY;
        } else if (n == 1) {
            tp = weight / ddr + host;
            mp = tp;
        } else {
            double shard = activation / n;
            // Schedules are built for at most 1 GiB per card; beyond that the β term grows linearly.
            long modelled = (long) Math.min(Math.ceil(shard / Float.BYTES) * Float.BYTES, MODELLED_SHARD_LIMIT);
            CollectiveEstimate gather = links.estimate(CollectiveKind.ALL_GATHER, CollectiveAlgorithm.AUTO, cabling, n,
                    modelled);
            double scale = modelled == 0 ? 0 : shard / modelled;
            // The link model knows the link's framing; rescale its β term to the bandwidth tier in use.
            double gatherSeconds = gather.latencySeconds()
                    + gather.transferSeconds() * scale * links.payloadBytesPerSecond() / link;
            tp = weight / (n * ddr) + gatherSeconds + host;
            mp = weight / ddr + links.parameters().hopLatencySeconds() + activation / n / link + host;
        }
        Strategy chosen = n == 1 || tp <= mp ? Strategy.TENSOR_PARALLEL : Strategy.MODEL_PARALLEL;
        return new StrategyDecision(chosen,
                List.of(new CandidateCost(Strategy.TENSOR_PARALLEL, tp), new CandidateCost(Strategy.MODEL_PARALLEL, mp)),
                decidedBy);
    }

}
