package org.popsolutions.spanker.api.plan;

import org.osgi.annotation.versioning.ProviderType;
import org.popsolutions.spanker.api.CardMemoryExceededException;
import org.popsolutions.spanker.api.model.ModelShape;
import org.popsolutions.spanker.api.topology.Topology;

/**
 * Searches the space of whole plans (tensor-parallel groups, pipeline stages, where the embedding and the head
 * live, the collective algorithm of each group) for the one its cost model predicts fastest on a topology, and
 * costs the usual fixed recipes by the same model. Providers register with {@code service.ranking}.
 */
@ProviderType
public interface PlanSearch {
    /** Service property naming the provider. */
    String NAME = "spanker.plansearch.name";

    String name();

    /**
     * @param promptTokens the prompt length the prefill cost is given for (and minimised, for PREFILL)
     * @throws CardMemoryExceededException when no plan in the search space fits the cards' memory
     */
    PlanComparison compare(ModelShape model, Topology topology, PlanOptions options, PlanObjective objective,
            int promptTokens);
}
