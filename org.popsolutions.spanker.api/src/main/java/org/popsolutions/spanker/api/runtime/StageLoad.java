package org.popsolutions.spanker.api.runtime;

import java.util.Objects;

/**
 * What to load as one stage of a pipeline: the model and a plan that places exactly the stage's blocks (and the
 * embedding or head when the stage holds them), on the cards of one named provider.
 *
 * @param model the file, the stage's plan, its cards' topology and how to run it
 * @param stage which blocks the plan holds
 * @param cardProvider the {@link org.popsolutions.spanker.api.card.CardProvider#name() name} of the provider whose
 *        cards run the stage ({@code mock}, {@code sails}, ...), or {@code null} for the highest-ranked one
 */
public record StageLoad(ModelLoad model, PipelineStage stage, String cardProvider) {
    public StageLoad {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(stage, "stage");
    }
}
