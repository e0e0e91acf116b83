package org.popsolutions.spanker.strategy.latency;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.popsolutions.spanker.api.NoSailsException;
import org.popsolutions.spanker.api.bandwidth.BandwidthModel;
import org.popsolutions.spanker.api.link.LinkModel;
import org.popsolutions.spanker.api.strategy.PartitionStrategy;
import org.popsolutions.spanker.api.strategy.StrategyDecision;
import org.popsolutions.spanker.api.strategy.TileShape;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.api.topology.TopologyService;

/**
 * Latency-, algorithm- and host-link-aware partition strategy. Ranked above the bandwidth strategy, so
 * installing this bundle makes it the active strategy and removing it hands back to the bandwidth one.
 */
@Component(property = {PartitionStrategy.NAME + "=" + LatencyStrategy.NAME, "service.ranking:Integer=100"})
public final class LatencyStrategy implements PartitionStrategy {
    static final String NAME = "latency";

    @Reference(policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    volatile LinkModel links;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile TopologyService topology;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public StrategyDecision pick(TileShape tile, int cards, BandwidthModel bandwidth) {
        return LatencyCostRule.pick(tile, cards, bandwidth, links, cabling(), NAME);
    }

    /** The cabling of the cards present; without cards, the rev-A ring. */
    private TopologyKind cabling() {
        TopologyService service = topology;
        if (service == null) {
            return TopologyKind.RING;
        }
        try {
            return service.current().kind();
        } catch (NoSailsException e) {
            return TopologyKind.RING;
        }
    }
}
