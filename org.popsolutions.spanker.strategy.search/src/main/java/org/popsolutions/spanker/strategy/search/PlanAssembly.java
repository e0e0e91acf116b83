package org.popsolutions.spanker.strategy.search;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.popsolutions.spanker.api.plan.CardLoad;
import org.popsolutions.spanker.api.plan.CardShard;
import org.popsolutions.spanker.api.plan.LayerPlacement;
import org.popsolutions.spanker.api.plan.Plan;
import org.popsolutions.spanker.api.plan.TensorPlacement;
import org.popsolutions.spanker.api.strategy.Strategy;
import org.popsolutions.spanker.api.topology.Topology;

/** Writes a placement out as the platform's {@link Plan}, with the decode costs the model predicts for it. */
final class PlanAssembly {
    private PlanAssembly() {
    }

    static Plan plan(String strategy, Placement placement, Evaluator.Evaluation evaluation, Evaluator evaluator,
            Topology topology, List<String> notes) {
        LayerTable table = evaluator.table();
        long hidden = table.hiddenBytes();
        List<LayerPlacement> layers = new ArrayList<>();
        List<TensorPlacement> tensors = new ArrayList<>();
        int[] embedding = placement.embeddingCards();
        tensors.add(whole(table.embedding().name(), -1, embedding, table.embedding().bytes()));
        for (int layer = 0; layer < placement.layers().size(); layer++) {
            List<CardShard> shards = placement.layers().get(layer);
            boolean split = shards.size() > 1;
            String collective = split ? "2 x allreduce " + hidden + " B (" + evaluation.used()[layer].label()
                    + ") on cards " + Layout.join(placement.cards(layer)) : "none";
            layers.add(new LayerPlacement(layer, split || topology.cardCount() == 1 ? Strategy.TENSOR_PARALLEL
                    : Strategy.PIPELINE, shards, collective, evaluation.layerCompute()[layer],
                    evaluation.layerCommunication()[layer]));
            List<Object[]> first = table.tensorBytes(layer, shards.get(0));
            for (int t = 0; t < first.size(); t++) {
                List<Integer> cards = new ArrayList<>();
                List<Long> bytes = new ArrayList<>();
                for (CardShard s : shards) {
                    cards.add(s.card());
                    bytes.add((Long) table.tensorBytes(layer, s).get(t)[1]);
                }
                String how = (String) first.get(t)[2];
                Strategy strategyOf = !split ? Strategy.PIPELINE
                        : how.equals("whole") ? Strategy.REPLICATE : Strategy.TENSOR_PARALLEL;
                tensors.add(new TensorPlacement((String) first.get(t)[0], layer, strategyOf, split ? how : "whole",
                        cards, bytes));
            }
        }
        int[] head = placement.headCards();
        table.model().tensor("output_norm.weight").ifPresent(n -> tensors.add(whole(n.name(), -1, head, n.bytes())));
        List<Long> headBytes = new ArrayList<>();
        for (int i = 0; i < head.length; i++) {
            headBytes.add(table.headShareBytes(i, head.length) - table.outputNormBytes());
        }
        tensors.add(new TensorPlacement(table.head().name() + (table.tiedHead() ? " (as output)" : ""), -1,
                head.length > 1 ? Strategy.TENSOR_PARALLEL : Strategy.PIPELINE, head.length > 1 ? "rows" : "whole",
                Arrays.stream(head).boxed().toList(), headBytes));
        List<CardLoad> loads = new ArrayList<>();
        long total = 0;
        for (int card = 0; card < topology.cardCount(); card++) {
            loads.add(new CardLoad(card, evaluation.weightBytes()[card], evaluation.kvBytes()[card],
                    evaluator.capacity()));
            total += evaluation.weightBytes()[card];
        }
        Terms decode = evaluation.decode();
        return new Plan(strategy, table.model().name(), topology.cardCount(), topology.kind(), layers, tensors, loads,
                embedding[0], Arrays.stream(head).boxed().toList(), decode.compute(), decode.link() + decode.latency(),
                decode.host(), evaluator.network().hostSeconds(total), notes);
    }

    private static TensorPlacement whole(String name, int layer, int[] cards, long bytes) {
        return new TensorPlacement(name, layer, cards.length > 1 ? Strategy.REPLICATE : Strategy.PIPELINE, "whole",
                Arrays.stream(cards).boxed().toList(), Arrays.stream(cards).mapToObj(c -> bytes).toList());
    }
}
