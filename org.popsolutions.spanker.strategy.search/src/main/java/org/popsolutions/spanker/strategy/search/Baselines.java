package org.popsolutions.spanker.strategy.search;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import org.popsolutions.spanker.api.plan.CardShard;
import org.popsolutions.spanker.api.plan.LayerPlacement;
import org.popsolutions.spanker.api.plan.Plan;
import org.popsolutions.spanker.api.topology.Card;
import org.popsolutions.spanker.api.topology.Topology;

/** The fixed recipes users run without a planner, as placements the same cost model can price. */
final class Baselines {
    static final String EVEN_LAYERS = "even-layers";
    static final String MEMORY_RING = "memory-ring";
    static final String TENSOR_PARALLEL = "tensor-parallel";
    static final String PER_BLOCK = "per-block";

    private Baselines() {
    }

    /** llama.cpp's default layer split: contiguous ranges of about L/p blocks, one card each, along the chain. */
    static Placement evenLayers(LayerTable table, Network network) {
        int p = network.cards();
        double[] weights = new double[p];
        java.util.Arrays.fill(weights, 1);
        return pipeline(table, network, weights);
    }

    /**
     * exo's split: contiguous layer ranges in proportion to each card's memory, around the ring (cards reporting
     * no memory count as equal).
     */
    static Placement memoryRing(LayerTable table, Network network, Topology topology) {
        int p = network.cards();
        double[] weights = new double[p];
        boolean known = topology.cards().stream().allMatch(c -> c.memoryBytes() > 0);
        for (int i = 0; i < p; i++) {
            Card card = topology.cards().get(network.card(i));
            weights[i] = known ? card.memoryBytes() : 1;
        }
        return pipeline(table, network, weights);
    }

    private static Placement pipeline(LayerTable table, Network network, double[] weights) {
        int layers = table.layers();
        double total = 0;
        for (double w : weights) {
            total += w;
        }
        List<List<CardShard>> placed = new ArrayList<>();
        double cumulative = 0;
        int start = 0;
        int lastCard = network.card(0);
        for (int i = 0; i < weights.length; i++) {
            cumulative += weights[i];
            int end = i == weights.length - 1 ? layers : (int) Math.round(layers * cumulative / total);
            int card = network.card(i);
            for (int layer = start; layer < end; layer++) {
                placed.add(List.of(table.shard(card, 0, 1)));
                lastCard = card;
            }
            start = Math.max(start, end);
        }
        return new Placement(placed, Collections.nCopies(layers, null), new int[] {network.card(0)},
                new int[] {lastCard});
    }

    /** Every block split over every card, the head's rows too. */
    static Placement tensorParallel(LayerTable table, Network network) {
        int p = network.cards();
        List<List<CardShard>> placed = new ArrayList<>();
        for (int layer = 0; layer < table.layers(); layer++) {
            List<CardShard> shards = new ArrayList<>();
            for (int i = 0; i < p; i++) {
                shards.add(table.shard(network.card(i), i, p));
            }
            placed.add(shards);
        }
        return new Placement(placed, Collections.nCopies(table.layers(), null), new int[] {network.card(0)},
                network.chain());
    }

    /** The plan the per-block rule built, read back as a placement (cards in chain order). */
    static Placement of(Plan plan, Network network) {
        List<List<CardShard>> placed = new ArrayList<>();
        for (LayerPlacement layer : plan.layers()) {
            List<CardShard> shards = new ArrayList<>(layer.shards());
            shards.sort(Comparator.comparingInt(s -> network.position(s.card())));
            placed.add(shards);
        }
        return new Placement(placed, Collections.nCopies(placed.size(), null), new int[] {plan.firstCard()},
                plan.outputCards().stream().mapToInt(Integer::intValue).toArray());
    }
}
