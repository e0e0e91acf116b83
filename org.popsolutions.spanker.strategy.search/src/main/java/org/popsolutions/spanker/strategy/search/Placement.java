package org.popsolutions.spanker.strategy.search;

import java.util.List;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.plan.CardShard;

/**
 * Where everything of a plan runs, in the form the cost model reads: each block's shards (cards in chain
 * order) and the algorithm of its allreduce (null: the cheapest for the size), the cards holding the embedding,
 * and the cards sharing the head's rows.
 */
record Placement(List<List<CardShard>> layers, List<CollectiveAlgorithm> algorithms, int[] embeddingCards,
        int[] headCards) {
    Placement {
        layers = List.copyOf(layers);
        algorithms = java.util.Collections.unmodifiableList(new java.util.ArrayList<>(algorithms));
    }

    int[] cards(int layer) {
        return layers.get(layer).stream().mapToInt(CardShard::card).toArray();
    }

    /** Consecutive blocks on the same cards as one stage, e.g. {@code blocks 0-10 on card 0 | blocks 11-21 TP2 on cards 1,2}. */
    String describe() {
        StringBuilder out = new StringBuilder();
        int start = 0;
        for (int layer = 1; layer <= layers.size(); layer++) {
            if (layer == layers.size() || !java.util.Arrays.equals(cards(layer), cards(start))) {
                int[] group = cards(start);
                out.append(out.length() == 0 ? "" : " | ").append("blocks ").append(start).append('-').append(layer - 1)
                        .append(group.length > 1 ? " TP" + group.length + " on cards " : " on card ")
                        .append(Layout.join(group));
                start = layer;
            }
        }
        return out + "; embedding " + (embeddingCards.length > 1 ? "cards " : "card ") + Layout.join(embeddingCards)
                + "; head " + (headCards.length > 1 ? "cards " : "card ") + Layout.join(headCards);
    }
}
