package org.popsolutions.spanker.api.plan;

import java.util.List;
import org.popsolutions.spanker.api.strategy.Strategy;

/**
 * Where one transformer block runs.
 *
 * @param strategy {@link Strategy#TENSOR_PARALLEL} (Megatron: heads and feed-forward rows split, one AllReduce
 *        after attention and one after the MLP) or {@link Strategy#PIPELINE} (the whole block on one card)
 * @param shards one per card taking part, in card order
 * @param collective the collective the block needs per token, e.g. {@code 2 x allreduce 8 KiB (ring)}, or a hand-off
 * @param computeSeconds predicted time per token of the block's weight reads (the slowest card's)
 * @param communicationSeconds predicted time per token of its collectives or hand-off
 */
public record LayerPlacement(int layer, Strategy strategy, List<CardShard> shards, String collective,
        double computeSeconds, double communicationSeconds) {
    public LayerPlacement {
        shards = List.copyOf(shards);
    }

    public List<Integer> cards() {
        return shards.stream().map(CardShard::card).toList();
    }
}
