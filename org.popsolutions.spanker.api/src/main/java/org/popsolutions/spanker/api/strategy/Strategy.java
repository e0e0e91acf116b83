package org.popsolutions.spanker.api.strategy;

import java.util.Objects;

/**
 * How a piece of work is split across cards. Deliberately not an enum: new strategies (pipeline,
 * replicate, …) can be added without breaking a caller's exhaustive switch. Compare with {@code equals}.
 *
 * @param name stable display and JSON name, e.g. {@code TensorParallel}
 */
public record Strategy(String name) {
    /** Split the weights across cards; every card sees the whole activation. */
    public static final Strategy TENSOR_PARALLEL = new Strategy("TensorParallel");
    /** Keep the weights whole per card; split the activations across cards. */
    public static final Strategy MODEL_PARALLEL = new Strategy("ModelParallel");
    /** Whole layers per card, contiguous ranges; the activation is handed from card to card. */
    public static final Strategy PIPELINE = new Strategy("Pipeline");
    /** The same tensor on several cards. */
    public static final Strategy REPLICATE = new Strategy("Replicate");

    public Strategy {
        Objects.requireNonNull(name, "name");
        if (name.isBlank()) {
            throw new IllegalArgumentException("strategy name must not be blank");
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
