package org.popsolutions.spanker.model.llama;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.ToIntFunction;
import org.popsolutions.spanker.api.InvalidConfigurationException;
import org.popsolutions.spanker.api.plan.CardShard;
import org.popsolutions.spanker.api.plan.LayerPlacement;
import org.popsolutions.spanker.api.plan.Plan;

/**
 * The sharding arithmetic of a llama plan: which rows and columns of each tensor a card's shard holds, and whether
 * a plan is one the model can run. A shard of key/value heads [kvStart, kvEnd) holds the query heads of those
 * groups: rows [kvStart·group·hd, kvEnd·group·hd) of Q and the same columns of the output projection, rows
 * [kvStart·hd, kvEnd·hd) of K and V; a feed-forward shard [ffStart, ffEnd) holds those rows of gate and up and
 * those columns of down. The output head's rows are split evenly over the output cards.
 */
public final class LlamaShards {
    private LlamaShards() {
    }

    /** A half-open range [from, to). */
    public record Range(int from, int to) {
        public int length() {
            return to - from;
        }
    }

    public static Range queryRows(LlamaConfig config, CardShard shard) {
        int width = config.groupSize() * config.headDimension();
        return new Range(shard.kvHeadStart() * width, shard.kvHeadEnd() * width);
    }

    public static Range keyValueRows(LlamaConfig config, CardShard shard) {
        int hd = config.headDimension();
        return new Range(shard.kvHeadStart() * hd, shard.kvHeadEnd() * hd);
    }

    public static Range feedForwardRows(CardShard shard) {
        return new Range(shard.feedForwardStart(), shard.feedForwardEnd());
    }

    /** Rows of the output head that output card number {@code i} of {@code outputs} computes. */
    public static Range headRows(LlamaConfig config, int i, int outputs) {
        return new Range((int) ((long) i * config.vocabulary() / outputs),
                (int) ((long) (i + 1) * config.vocabulary() / outputs));
    }

    /** float32 values of one card's KV cache for one block (keys and values), for {@code context} tokens. */
    public static long kvCacheValues(LlamaConfig config, CardShard shard, int context) {
        return 2L * context * keyValueRows(config, shard).length();
    }

    /**
     * Checks that the plan fits the model and its cards: every block on distinct cards of the plan, whose key/value
     * heads and feed-forward rows tile the model's exactly.
     *
     * @throws InvalidConfigurationException naming what does not fit
     */
    public static void validate(Plan plan, LlamaConfig config) {
        if (plan.layers().size() != config.layers()) {
            throw new InvalidConfigurationException("the plan places " + plan.layers().size() + " blocks; the model has "
                    + config.layers());
        }
        checkCard(plan, plan.firstCard(), "first card");
        if (plan.outputCards().isEmpty()) {
            throw new InvalidConfigurationException("the plan names no output card");
        }
        plan.outputCards().forEach(c -> checkCard(plan, c, "output card"));
        for (int l = 0; l < config.layers(); l++) {
            LayerPlacement placement = plan.layers().get(l);
            if (placement.layer() != l) {
                throw new InvalidConfigurationException("plan entry " + l + " places block " + placement.layer());
            }
            if (placement.shards().isEmpty()) {
                throw new InvalidConfigurationException("block " + l + " has no card");
            }
            List<CardShard> shards = new ArrayList<>(placement.shards());
            for (CardShard s : shards) {
                checkCard(plan, s.card(), "block " + l + " card");
            }
            if (shards.stream().map(CardShard::card).distinct().count() != shards.size()) {
                throw new InvalidConfigurationException("block " + l + " names a card twice");
            }
            checkCover(l, "key/value heads", shards, CardShard::kvHeadStart, CardShard::kvHeadEnd, config.kvHeads());
            checkCover(l, "feed-forward rows", shards, CardShard::feedForwardStart, CardShard::feedForwardEnd,
                    config.feedForward());
        }
    }

    private static void checkCard(Plan plan, int card, String what) {
        if (card < 0 || card >= plan.cards()) {
            throw new InvalidConfigurationException("the plan's " + what + " " + card + " is not one of its "
                    + plan.cards() + " cards");
        }
    }

    private static void checkCover(int layer, String what, List<CardShard> shards, ToIntFunction<CardShard> start,
            ToIntFunction<CardShard> end, int total) {
        List<CardShard> sorted = new ArrayList<>(shards);
        sorted.sort(Comparator.comparingInt(start).thenComparingInt(end));
        int next = 0;
        for (CardShard s : sorted) {
            if (end.applyAsInt(s) == start.applyAsInt(s)) {
                continue;
            }
            if (start.applyAsInt(s) != next || end.applyAsInt(s) < start.applyAsInt(s)) {
                throw new InvalidConfigurationException("block " + layer + ": the cards' " + what + " do not tile 0.."
                        + total + " (card " + s.card() + " has " + start.applyAsInt(s) + ".." + end.applyAsInt(s)
                        + ", expected a range from " + next + ")");
            }
            next = end.applyAsInt(s);
        }
        if (next != total) {
            throw new InvalidConfigurationException("block " + layer + ": the cards' " + what + " cover 0.." + next
                    + " of 0.." + total);
        }
    }
}
