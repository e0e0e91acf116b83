package org.popsolutions.spanker.scheduler.plan;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.popsolutions.spanker.api.bandwidth.BandwidthModelService;
import org.popsolutions.spanker.api.link.LinkModel;
import org.popsolutions.spanker.api.model.ModelShape;
import org.popsolutions.spanker.api.plan.ModelPlanner;
import org.popsolutions.spanker.api.plan.Plan;
import org.popsolutions.spanker.api.plan.PlanOptions;
import org.popsolutions.spanker.api.strategy.PartitionStrategy;
import org.popsolutions.spanker.api.topology.Topology;

/** Plans models with the active (highest-ranked) partition strategy, the configured bandwidths and link model. */
@Component
public final class LayerPlanner implements ModelPlanner {

    @Reference(policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    volatile PartitionStrategy strategy;

    @Reference(policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    volatile BandwidthModelService bandwidth;

    @Reference(policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    volatile LinkModel links;

    public LayerPlanner() {
    }

    /** Outside a framework (tests, tools): with fixed collaborators. */
    public LayerPlanner(PartitionStrategy strategy, BandwidthModelService bandwidth, LinkModel links) {
        this.strategy = strategy;
        this.bandwidth = bandwidth;
        this.links = links;
    }

    @Override
    public Plan plan(ModelShape model, Topology topology, PlanOptions options) {
        return new PlanBuilder(model, topology, options, strategy, bandwidth.current(), links).build();
    }
}
