package org.popsolutions.spanker.osgi.test.replicate;

import java.util.List;
import org.osgi.service.component.annotations.Component;
import org.popsolutions.spanker.api.bandwidth.BandwidthModel;
import org.popsolutions.spanker.api.strategy.CandidateCost;
import org.popsolutions.spanker.api.strategy.PartitionStrategy;
import org.popsolutions.spanker.api.strategy.Strategy;
import org.popsolutions.spanker.api.strategy.StrategyDecision;
import org.popsolutions.spanker.api.strategy.TileShape;

/**
 * A second partition strategy provider for the hot-swap test: ranked above the bandwidth strategy, it always
 * answers {@code Replicate} (every card computes the whole tile), a strategy the bandwidth rule never picks, so
 * a consumer that sees it has provably switched providers. Not part of any product: the test installs this
 * bundle while the framework runs and uninstalls it again.
 */
@Component(property = {PartitionStrategy.NAME + "=" + ReplicateStrategy.NAME,
        "service.ranking:Integer=" + ReplicateStrategy.RANKING})
public final class ReplicateStrategy implements PartitionStrategy {
    public static final String NAME = "replicate";
    public static final int RANKING = 100;
    public static final Strategy REPLICATE = new Strategy("Replicate");

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public StrategyDecision pick(TileShape tile, int cards, BandwidthModel bandwidth) {
        // Each card streams the whole weight from its own DDR; nothing crosses the inter-card links.
        double weightBytes = unsigned(tile.m()) * unsigned(tile.k()) * unsigned(tile.bytesPerElement());
        long ddr = bandwidth.localDdrBytesPerSecond();
        double seconds = ddr == 0 ? Double.POSITIVE_INFINITY : weightBytes / unsigned(ddr);
        return new StrategyDecision(REPLICATE, List.of(new CandidateCost(REPLICATE, seconds)), NAME);
    }

    private static double unsigned(long value) {
        return value >= 0 ? value : (value >>> 1) * 2.0 + (value & 1);
    }
}
