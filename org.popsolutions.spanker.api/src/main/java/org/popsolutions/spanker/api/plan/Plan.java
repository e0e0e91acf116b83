package org.popsolutions.spanker.api.plan;

import java.util.List;
import org.popsolutions.spanker.api.topology.TopologyKind;

/**
 * A model laid out over the cards, with its predicted cost.
 *
 * @param strategy the partition strategy provider whose decisions built it
 * @param firstCard the card that embeds the tokens (holds {@code token_embd})
 * @param outputCards the cards that compute the logits (the output head's rows are split across them)
 * @param computeSecondsPerToken predicted weight-streaming time per decoded token, the slowest card per step
 * @param communicationSecondsPerToken predicted collective and hand-off time per token on the inter-card links
 * @param hostSecondsPerToken the host link's round trips per token: the steps and programs in, the completions, the
 *     head's input and the logits out
 * @param loadSeconds one-off time to send every card its share over the host link
 */
public record Plan(String strategy, String model, int cards, TopologyKind cabling, List<LayerPlacement> layers,
        List<TensorPlacement> tensors, List<CardLoad> cardLoads, int firstCard, List<Integer> outputCards,
        double computeSecondsPerToken, double communicationSecondsPerToken, double hostSecondsPerToken,
        double loadSeconds, List<String> notes) {
    public Plan {
        layers = List.copyOf(layers);
        tensors = List.copyOf(tensors);
        cardLoads = List.copyOf(cardLoads);
        outputCards = List.copyOf(outputCards);
        notes = List.copyOf(notes);
    }

    public double secondsPerToken() {
        return computeSecondsPerToken + communicationSecondsPerToken + hostSecondsPerToken;
    }
}
