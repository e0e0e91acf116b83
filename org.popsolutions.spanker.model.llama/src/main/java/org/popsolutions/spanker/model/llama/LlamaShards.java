package org.popsolutions.spanker.model.llama;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.ToIntFunction;
import org.popsolutions.spanker.api.InvalidConfigurationException;
import org.popsolutions.spanker.api.model.ModelShape;
import org.popsolutions.spanker.api.model.TensorShape;
import org.popsolutions.spanker.api.plan.CardShard;
import org.popsolutions.spanker.api.plan.LayerPlacement;
import org.popsolutions.spanker.api.plan.Plan;

/**
 * The sharding arithmetic of a llama plan, in one place for the planner, the manual plans and the executor: which
 * rows and columns of each tensor a card's shard holds and their bytes, KV cache bytes, the head's rows per output
 * card, the even tensor-parallel split, and whether a plan is one the model can run. A shard of key/value heads [kvStart, kvEnd) holds the query heads of those
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

    /** The block tensors cut by rows (each card holds some of their rows). */
    public static final List<String> ROW_SPLIT = List.of("attn_q", "attn_k", "attn_v", "ffn_gate", "ffn_up");
    /** The block tensors cut by columns (each card holds some of every row's columns). */
    public static final List<String> COLUMN_SPLIT = List.of("attn_output", "ffn_down");

    /**
     * The rows (row-split tensors) or columns (column-split tensors) of block tensor {@code role} (e.g.
     * {@code attn_q}) that the shard holds; null for a tensor every card of the block holds whole (the norms).
     */
    public static Range range(String role, int heads, int kvHeads, int headDimension, CardShard shard) {
        int queryWidth = heads / kvHeads * headDimension;
        return switch (role) {
            case "attn_q", "attn_output" -> new Range(shard.kvHeadStart() * queryWidth, shard.kvHeadEnd() * queryWidth);
            case "attn_k", "attn_v" -> new Range(shard.kvHeadStart() * headDimension,
                    shard.kvHeadEnd() * headDimension);
            case "ffn_gate", "ffn_up", "ffn_down" -> new Range(shard.feedForwardStart(), shard.feedForwardEnd());
            default -> null;
        };
    }

    public static Range range(ModelShape model, String role, CardShard shard) {
        return range(role, model.heads(), model.kvHeads(), model.headDimension(), shard);
    }

    /** Bytes of block tensor {@code t} (its role, e.g. {@code attn_q}) that the shard holds. */
    public static long shardBytes(ModelShape model, TensorShape t, String role, CardShard shard) {
        Range r = range(model, role, shard);
        if (r == null) {
            return t.bytes();
        }
        if (COLUMN_SPLIT.contains(role)) {
            return t.rowLength() == 0 ? 0 : t.bytes() / t.rowLength() * r.length();
        }
        return r.length() * t.bytesPerRow();
    }

    public static Range queryRows(LlamaConfig config, CardShard shard) {
        return range("attn_q", config.heads(), config.kvHeads(), config.headDimension(), shard);
    }

    public static Range keyValueRows(LlamaConfig config, CardShard shard) {
        return range("attn_k", config.heads(), config.kvHeads(), config.headDimension(), shard);
    }

    public static Range feedForwardRows(CardShard shard) {
        return new Range(shard.feedForwardStart(), shard.feedForwardEnd());
    }

    /** Rows of an output head of {@code rows} rows that output card number {@code i} of {@code outputs} computes. */
    public static Range headRows(long rows, int i, int outputs) {
        return new Range((int) (i * rows / outputs), (int) ((i + 1) * rows / outputs));
    }

    public static Range headRows(LlamaConfig config, int i, int outputs) {
        return headRows(config.vocabulary(), i, outputs);
    }

    /** Bytes of one card's float32 KV cache for one block (keys and values) holding {@code context} tokens. */
    public static long kvCacheBytes(int headDimension, CardShard shard, int context) {
        return 2L * context * (shard.kvHeadEnd() - shard.kvHeadStart()) * headDimension * Float.BYTES;
    }

    /**
     * Key/value heads split evenly over {@code cards} (in the given order), feed-forward rows split on the
     * ffn_down block grid (so the column cut of ffn_down falls on block edges), the remainder to the last card.
     */
    public static List<CardShard> evenShards(ModelShape model, int[] cards) {
        int p = cards.length;
        int grid = model.tensor("blk.0.ffn_down.weight").map(t -> Math.max(1, t.blockValues())).orElse(1);
        int units = model.feedForward() / grid;
        int remainder = model.feedForward() % grid;
        List<CardShard> shards = new ArrayList<>();
        for (int i = 0; i < p; i++) {
            int kvStart = i * model.kvHeads() / p;
            int kvEnd = (i + 1) * model.kvHeads() / p;
            int ffStart = i * units / p * grid;
            int ffEnd = i == p - 1 ? units * grid + remainder : (i + 1) * units / p * grid;
            shards.add(new CardShard(cards[i], kvStart, kvEnd, ffStart, ffEnd));
        }
        return shards;
    }

    /**
     * Checks that the plan fits the model and its cards: every block on distinct cards of the plan, whose key/value
     * heads and feed-forward rows tile the model's exactly.
     *
     * @throws InvalidConfigurationException naming what does not fit
     */
    public static void validate(Plan plan, LlamaConfig config) {
        validate(plan, config, 0, config.layers());
    }

    /**
     * As {@link #validate(Plan, LlamaConfig)} for a plan of one pipeline stage: it places exactly the blocks
     * [firstLayer, endLayer) of the model, in order (a host's share of a pipeline across hosts).
     */
    public static void validate(Plan plan, LlamaConfig config, int firstLayer, int endLayer) {
        if (firstLayer < 0 || endLayer > config.layers() || firstLayer >= endLayer) {
            throw new InvalidConfigurationException("blocks " + firstLayer + ".." + (endLayer - 1) + " are not a"
                    + " range of the model's " + config.layers() + " blocks");
        }
        if (plan.layers().size() != endLayer - firstLayer) {
            throw new InvalidConfigurationException("the plan places " + plan.layers().size() + " blocks; "
                    + (endLayer - firstLayer == config.layers() ? "the model has " + config.layers()
                            : "the stage has " + (endLayer - firstLayer) + " (blocks " + firstLayer + ".."
                                    + (endLayer - 1) + ")"));
        }
        checkCard(plan, plan.firstCard(), "first card");
        if (plan.outputCards().isEmpty()) {
            throw new InvalidConfigurationException("the plan names no output card");
        }
        plan.outputCards().forEach(c -> checkCard(plan, c, "output card"));
        for (int l = firstLayer; l < endLayer; l++) {
            LayerPlacement placement = plan.layers().get(l - firstLayer);
            if (placement.layer() != l) {
                throw new InvalidConfigurationException("plan entry " + (l - firstLayer) + " places block "
                        + placement.layer() + ", expected block " + l);
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
