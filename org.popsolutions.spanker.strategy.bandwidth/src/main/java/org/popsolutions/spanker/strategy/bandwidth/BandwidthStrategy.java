package org.popsolutions.spanker.strategy.bandwidth;

import org.osgi.service.component.annotations.Component;
import org.popsolutions.spanker.api.bandwidth.BandwidthModel;
import org.popsolutions.spanker.api.strategy.PartitionStrategy;
import org.popsolutions.spanker.api.strategy.StrategyDecision;
import org.popsolutions.spanker.api.strategy.TileShape;

/** The seed's bandwidth-only TP-vs-MP rule as a strategy provider, at the base ranking. */
@Component(property = {PartitionStrategy.NAME + "=" + BandwidthStrategy.NAME, "service.ranking:Integer=0"})
public final class BandwidthStrategy implements PartitionStrategy {
    static final String NAME = "bandwidth";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public StrategyDecision pick(TileShape tile, int cards, BandwidthModel bandwidth) {
        return BandwidthCostRule.pick(tile, cards, bandwidth, NAME);
    }
}
