package org.popsolutions.spanker.api.strategy;

import org.osgi.annotation.versioning.ConsumerType;
import org.popsolutions.spanker.api.bandwidth.BandwidthModel;

/**
 * Decides how a tile is split across cards. Providers register with a {@code service.ranking}; consumers
 * hold the highest-ranked one through a dynamic greedy reference, so a new provider takes over at run time.
 */
@ConsumerType
public interface PartitionStrategy {
    /** Service property naming the provider, also returned by {@link #name()}. */
    String NAME = "spanker.strategy.name";

    String name();

    /**
     * @param cards card count; 0 is treated as 1
     * @param bandwidth the model to cost with (a zero tier makes the costs that use it infinite)
     */
    StrategyDecision pick(TileShape tile, int cards, BandwidthModel bandwidth);
}
