package org.popsolutions.spanker.model.llama;

import java.util.ArrayList;
import java.util.List;
import org.popsolutions.spanker.api.model.ModelShape;
import org.popsolutions.spanker.api.model.TensorShape;
import org.popsolutions.spanker.api.plan.CardLoad;
import org.popsolutions.spanker.api.plan.CardShard;
import org.popsolutions.spanker.api.plan.LayerPlacement;
import org.popsolutions.spanker.api.plan.Plan;
import org.popsolutions.spanker.api.plan.PlanOptions;
import org.popsolutions.spanker.api.plan.TensorPlacement;
import org.popsolutions.spanker.api.strategy.Strategy;
import org.popsolutions.spanker.api.topology.TopologyKind;

/**
 * Plans written by hand rather than by a strategy (no predicted times): one card, pipelines, tensor-parallel
 * blocks over any set of cards. Byte accounting follows the planner's rules (each card its shard's rows or
 * columns, norms replicated, token_embd on the first card, the head's rows split over the output cards).
 */
public final class ManualPlans {
    public static final String STRATEGY = "manual";

    private ManualPlans() {
    }

    /** Everything on card 0 of a one-card topology. */
    public static Plan singleCard(ModelShape model, int contextLength) {
        return pipeline(model, 1, new int[model.layers()], contextLength);
    }

    /**
     * Blocks as {@code blockCards[layer]} says: one card = the whole block there (pipeline); several =
     * tensor-parallel over them with {@link #evenShards}; null or empty = every card.
     */
    public static Plan build(ModelShape model, int cards, TopologyKind cabling, int[][] blockCards, int firstCard,
            List<Integer> outputCards, int contextLength) {
        List<List<CardShard>> shards = new ArrayList<>();
        for (int l = 0; l < model.layers(); l++) {
            int[] on = blockCards[l] == null || blockCards[l].length == 0 ? allCards(cards) : blockCards[l];
            shards.add(evenShards(model, on));
        }
        return fromShards(model, cards, cabling, shards, firstCard, outputCards, contextLength);
    }

    /** Every block whole on the card {@code cardOfBlock[layer]}; the head on the last block's card. */
    public static Plan pipeline(ModelShape model, int cards, int[] cardOfBlock, int contextLength) {
        int[][] blocks = new int[model.layers()][];
        for (int l = 0; l < blocks.length; l++) {
            blocks[l] = new int[] {cardOfBlock[l]};
        }
        int first = blocks.length == 0 ? 0 : cardOfBlock[0];
        int last = blocks.length == 0 ? 0 : cardOfBlock[blocks.length - 1];
        return build(model, cards, TopologyKind.RING, blocks, first, List.of(last), contextLength);
    }

    /** Every block split over every card; the head's rows split over every card. */
    public static Plan tensorParallel(ModelShape model, int cards, int contextLength) {
        int[][] blocks = new int[model.layers()][];
        for (int l = 0; l < blocks.length; l++) {
            blocks[l] = allCards(cards);
        }
        List<Integer> all = new ArrayList<>();
        for (int c = 0; c < cards; c++) {
            all.add(c);
        }
        return build(model, cards, TopologyKind.RING, blocks, 0, all, contextLength);
    }

    static int[] allCards(int cards) {
        int[] all = new int[cards];
        for (int c = 0; c < cards; c++) {
            all[c] = c;
        }
        return all;
    }

    /**
     * Key/value heads split evenly over {@code cards} (in the given order), feed-forward rows split on the
     * ffn_down block grid, as the planner does.
     */
    public static List<CardShard> evenShards(ModelShape model, int[] cards) {
        return LlamaShards.evenShards(model, cards);
    }

    /** A plan from explicit shards per block. */
    public static Plan fromShards(ModelShape model, int cards, TopologyKind cabling, List<List<CardShard>> blockShards,
            int firstCard, List<Integer> outputCards, int contextLength) {
        return fromShards(model, cards, cabling, blockShards, 0, model.layers(), true, true, firstCard, outputCards,
                contextLength);
    }

    /**
     * One stage of a pipeline across hosts on its host's {@code cards} cards (ring): blocks [firstLayer, endLayer),
     * each tensor-parallel over every card (one card: whole), the embedding on card 0 when {@code embeds}, the head's
     * rows split over every card when {@code head}; without the head, card 0 gives the hidden state back. Its
     * block entries carry their model-wide numbers ({@code PlanExecutor.Stage} runs it).
     */
    public static Plan stage(ModelShape model, int cards, int firstLayer, int endLayer, boolean embeds, boolean head,
            int contextLength) {
        List<List<CardShard>> shards = new ArrayList<>();
        for (int l = 0; l < model.layers(); l++) {
            shards.add(l >= firstLayer && l < endLayer ? evenShards(model, allCards(cards)) : null);
        }
        List<Integer> outputs = new ArrayList<>();
        for (int c = 0; c < (head ? cards : 1); c++) {
            outputs.add(c);
        }
        return fromShards(model, cards, TopologyKind.RING, shards, firstLayer, endLayer, embeds, head, 0, outputs,
                contextLength);
    }

    private static Plan fromShards(ModelShape model, int cards, TopologyKind cabling,
            List<List<CardShard>> blockShards, int firstLayer, int endLayer, boolean embeds, boolean withHead,
            int firstCard, List<Integer> outputCards, int contextLength) {
        long[] weights = new long[cards];
        long[] kv = new long[cards];
        List<TensorPlacement> tensors = new ArrayList<>();
        List<LayerPlacement> layers = new ArrayList<>();
        TensorShape embedding = model.tensor("token_embd.weight").orElseThrow();
        if (embeds) {
            tensors.add(new TensorPlacement(embedding.name(), -1, Strategy.REPLICATE, "whole", List.of(firstCard),
                    List.of(embedding.bytes())));
            weights[firstCard] += embedding.bytes();
        }
        int hd = model.headDimension();
        for (int l = firstLayer; l < endLayer; l++) {
            List<CardShard> shards = blockShards.get(l);
            boolean split = shards.size() > 1;
            Strategy strategy = split || cards == 1 ? Strategy.TENSOR_PARALLEL : Strategy.PIPELINE;
            for (TensorShape t : model.layerTensors(l)) {
                List<Integer> on = new ArrayList<>();
                List<Long> bytes = new ArrayList<>();
                String name = t.name().substring(t.name().indexOf('.', 4) + 1).replace(".weight", "");
                String how = "whole";
                for (CardShard s : shards) {
                    long b = LlamaShards.shardBytes(model, t, name, s);
                    if (split) {
                        how = LlamaShards.ROW_SPLIT.contains(name) ? "rows"
                                : LlamaShards.COLUMN_SPLIT.contains(name) ? "columns" : "whole";
                    }
                    on.add(s.card());
                    bytes.add(b);
                    weights[s.card()] += b;
                }
                tensors.add(new TensorPlacement(t.name(), l, split && how.equals("whole") ? Strategy.REPLICATE
                        : strategy, how, on, bytes));
            }
            for (CardShard s : shards) {
                kv[s.card()] += LlamaShards.kvCacheBytes(hd, s, contextLength);
            }
            layers.add(new LayerPlacement(l, strategy, shards, split ? "2 x allreduce " + model.embedding() * 4 + " B"
                    : "hand-off", 0, 0));
        }
        if (!withHead) {
            return plan(model, cards, cabling, weights, kv, tensors, layers, firstCard, outputCards);
        }
        model.tensor("output_norm.weight").ifPresent(n -> {
            for (int c : outputCards) {
                weights[c] += n.bytes();
            }
            tensors.add(new TensorPlacement(n.name(), -1, Strategy.REPLICATE, "whole", outputCards,
                    outputCards.stream().map(c -> n.bytes()).toList()));
        });
        TensorShape head = model.tensor("output.weight").orElse(embedding);
        List<Long> headBytes = new ArrayList<>();
        for (int i = 0; i < outputCards.size(); i++) {
            long rows = LlamaShards.headRows(head.rows(), i, outputCards.size()).length();
            headBytes.add(rows * head.bytesPerRow());
            weights[outputCards.get(i)] += rows * head.bytesPerRow();
        }
        tensors.add(new TensorPlacement(head.name(), -1, outputCards.size() > 1 ? Strategy.TENSOR_PARALLEL
                : Strategy.PIPELINE, outputCards.size() > 1 ? "rows" : "whole", outputCards, headBytes));
        return plan(model, cards, cabling, weights, kv, tensors, layers, firstCard, outputCards);
    }

    private static Plan plan(ModelShape model, int cards, TopologyKind cabling, long[] weights, long[] kv,
            List<TensorPlacement> tensors, List<LayerPlacement> layers, int firstCard, List<Integer> outputCards) {
        List<CardLoad> loads = new ArrayList<>();
        for (int c = 0; c < cards; c++) {
            loads.add(new CardLoad(c, weights[c], kv[c], PlanOptions.REV_A_CARD_MEMORY));
        }
        return new Plan(STRATEGY, model.name(), cards, cabling, layers, tensors, loads, firstCard, outputCards, 0, 0, 0,
                0, List.of("written by hand"));
    }
}
