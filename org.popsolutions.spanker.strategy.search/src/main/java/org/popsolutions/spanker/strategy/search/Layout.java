package org.popsolutions.spanker.strategy.search;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.Collectors;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.plan.CardShard;

/**
 * A plan in the search space: pipeline stages over contiguous layer ranges, each on the next contiguous run of
 * the chain (a tensor-parallel group of 1, 2, 4, … neighbouring cards, with its allreduce algorithm); the embedding
 * on one chain card or replicated on the first group; the head's rows over a contiguous run of the chain.
 *
 * @param embedding chain index of the embedding card, or {@link #REPLICATED}
 */
record Layout(List<Stage> stages, int embedding, int headStart, int headSize) {
    static final int REPLICATED = -1;

    /** Layers [firstLayer, endLayer) on chain indices [chainStart, chainStart + size). */
    record Stage(int firstLayer, int endLayer, int chainStart, int size, CollectiveAlgorithm algorithm) {
    }

    Layout {
        stages = List.copyOf(stages);
    }

    Placement placement(LayerTable table, Network network) {
        List<List<CardShard>> layers = new ArrayList<>();
        List<CollectiveAlgorithm> algorithms = new ArrayList<>();
        for (Stage s : stages) {
            for (int layer = s.firstLayer(); layer < s.endLayer(); layer++) {
                List<CardShard> shards = new ArrayList<>();
                for (int i = 0; i < s.size(); i++) {
                    shards.add(table.shard(network.card(s.chainStart() + i), i, s.size()));
                }
                layers.add(shards);
                algorithms.add(s.size() > 1 ? s.algorithm() : null);
            }
        }
        Stage first = stages.get(0);
        int[] embeddingCards = embedding == REPLICATED ? chainCards(network, first.chainStart(), first.size())
                : new int[] {network.card(embedding)};
        return new Placement(layers, algorithms, embeddingCards, chainCards(network, headStart, headSize));
    }

    static int[] chainCards(Network network, int start, int size) {
        int[] cards = new int[size];
        for (int i = 0; i < size; i++) {
            cards[i] = network.card(start + i);
        }
        return cards;
    }

    /** e.g. {@code blocks 0-10 TP2 (ring) on cards 0,1 | blocks 11-21 on card 2; embedding card 0; head cards 2,3}. */
    String describe(Network network) {
        String body = stages.stream().map(s -> "blocks " + s.firstLayer() + "-" + (s.endLayer() - 1)
                + (s.size() > 1 ? " TP" + s.size() + " (" + s.algorithm().label() + ") on cards " : " on card ")
                + join(chainCards(network, s.chainStart(), s.size()))).collect(Collectors.joining(" | "));
        Stage first = stages.get(0);
        String embeddingText = embedding != REPLICATED ? "embedding card " + network.card(embedding)
                : first.size() == 1 ? "embedding card " + network.card(first.chainStart())
                : "embedding replicated on the first group";
        return body + "; " + embeddingText + "; head " + (headSize > 1 ? "cards " : "card ")
                + join(chainCards(network, headStart, headSize));
    }

    static String join(int[] cards) {
        List<String> names = new ArrayList<>();
        for (int c : cards) {
            names.add(Integer.toString(c));
        }
        return String.join(",", names);
    }

    static List<Stage> reversed(List<Stage> stages) {
        List<Stage> copy = new ArrayList<>(stages);
        Collections.reverse(copy);
        return copy;
    }
}
