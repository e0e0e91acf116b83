package org.popsolutions.spanker.api.runtime;

import java.nio.file.Path;
import java.util.Objects;
import org.popsolutions.spanker.api.card.ActivationMode;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.plan.Plan;
import org.popsolutions.spanker.api.topology.Topology;

/**
 * What to load and how to run it.
 *
 * @param model the GGUF file
 * @param plan where each block and the head go (from a {@code ModelPlanner})
 * @param topology the cards the plan was made for
 * @param mode how matrix products treat activations
 * @param threadsPerCard host threads per (host-side) card
 * @param contextLength tokens the KV caches hold
 * @param algorithm allreduce algorithm joining tensor-parallel blocks
 */
public record ModelLoad(Path model, Plan plan, Topology topology, ActivationMode mode, int threadsPerCard,
        int contextLength, CollectiveAlgorithm algorithm) {
    public ModelLoad {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(plan, "plan");
        Objects.requireNonNull(topology, "topology");
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(algorithm, "algorithm");
        if (threadsPerCard < 1) {
            throw new IllegalArgumentException("threads per card must be >= 1, got " + threadsPerCard);
        }
        if (contextLength < 1) {
            throw new IllegalArgumentException("context length must be >= 1, got " + contextLength);
        }
    }
}
