package org.popsolutions.spanker.api.plan;

import org.osgi.annotation.versioning.ProviderType;
import org.popsolutions.spanker.api.CardMemoryExceededException;
import org.popsolutions.spanker.api.model.ModelShape;
import org.popsolutions.spanker.api.topology.Topology;

/** Lays a model out over a topology following the active partition strategy's decisions. */
@ProviderType
public interface ModelPlanner {
    /**
     * @throws CardMemoryExceededException when some card would hold more than its memory
     */
    Plan plan(ModelShape model, Topology topology, PlanOptions options);
}
