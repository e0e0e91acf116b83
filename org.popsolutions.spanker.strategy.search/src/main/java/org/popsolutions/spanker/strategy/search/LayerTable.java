package org.popsolutions.spanker.strategy.search;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.popsolutions.spanker.api.InvalidModelException;
import org.popsolutions.spanker.api.model.ModelShape;
import org.popsolutions.spanker.api.model.TensorShape;
import org.popsolutions.spanker.api.plan.CardShard;
import org.popsolutions.spanker.api.plan.PlanOptions;

/**
 * Bytes of every block's shards, precomputed per tensor-parallel degree. A group of g cards splits a block
 * Megatron-style: key/value heads (with their query heads) evenly, feed-forward rows on the ffn_down block grid;
 * the two norms are replicated on every card of the group. Each card also holds the KV cache of its heads for the
 * requested context (K and V, float32).
 */
final class LayerTable {
    static final String[] ROW_SPLIT = {"attn_q", "attn_k", "attn_v", "ffn_gate", "ffn_up"};
    static final String[] COLUMN_SPLIT = {"attn_output", "ffn_down"};
    static final String[] NORMS = {"attn_norm", "ffn_norm"};

    private final ModelShape model;
    private final int context;
    private final TensorShape embedding;
    private final TensorShape head;
    private final long outputNormBytes;
    private final java.util.Map<String, TensorShape> byName = new java.util.HashMap<>();
    private final java.util.Map<ShardKey, Long> weightCache = new java.util.HashMap<>();

    LayerTable(ModelShape model, PlanOptions options) {
        this.model = model;
        this.context = options.contextLength();
        model.tensors().forEach(t -> byName.putIfAbsent(t.name(), t));
        this.embedding = require("token_embd.weight");
        this.head = tensor("output.weight").orElse(embedding);
        this.outputNormBytes = tensor("output_norm.weight").map(TensorShape::bytes).orElse(0L);
        for (int layer = 0; layer < model.layers(); layer++) {
            for (String name : ROW_SPLIT) {
                require(blockTensor(layer, name));
            }
            for (String name : COLUMN_SPLIT) {
                require(blockTensor(layer, name));
            }
        }
    }

    ModelShape model() {
        return model;
    }

    int layers() {
        return model.layers();
    }

    int context() {
        return context;
    }

    long hiddenBytes() {
        return (long) model.embedding() * Float.BYTES;
    }

    long logitsBytes() {
        return (long) model.vocabulary() * Float.BYTES;
    }

    TensorShape embedding() {
        return embedding;
    }

    TensorShape head() {
        return head;
    }

    boolean tiedHead() {
        return head == embedding;
    }

    long outputNormBytes() {
        return outputNormBytes;
    }

    /** Position i's shard of a block split over g cards (card numbers are filled in by the caller). */
    CardShard shard(int card, int position, int g) {
        TensorShape down = tensor(blockTensor(0, "ffn_down")).orElse(null);
        int grid = down == null ? 1 : Math.max(1, down.blockValues());
        int units = model.feedForward() / grid;
        int remainder = model.feedForward() % grid;
        int kvStart = position * model.kvHeads() / g;
        int kvEnd = (position + 1) * model.kvHeads() / g;
        int ffStart = position * units / g * grid;
        int ffEnd = position == g - 1 ? units * grid + remainder : (position + 1) * units / g * grid;
        return new CardShard(card, kvStart, kvEnd, ffStart, ffEnd);
    }

    /** Why a block cannot be split over g cards on quantization-block boundaries, if it cannot. */
    Optional<String> splitObstacle(int layer, int g) {
        if (g == 1) {
            return Optional.empty();
        }
        TensorShape output = require(blockTensor(layer, "attn_output"));
        TensorShape down = require(blockTensor(layer, "ffn_down"));
        int groupWidth = model.heads() / model.kvHeads() * model.headDimension();
        for (int i = 0; i < g; i++) {
            CardShard s = shard(i, i, g);
            if ((long) s.kvHeadStart() * groupWidth % output.blockValues() != 0) {
                return Optional.of("attn_output columns of a KV-head group do not align to " + output.type()
                        + " blocks");
            }
            if (s.feedForwardStart() % down.blockValues() != 0) {
                return Optional.of("ffn_down columns do not split on " + down.type() + " blocks");
            }
        }
        return Optional.empty();
    }

    /** Weight bytes of one shard of a block: its rows of the column-parallel and columns of the row-parallel matmuls, and the norms. */
    long weightBytes(int layer, CardShard s) {
        return weightCache.computeIfAbsent(new ShardKey(layer, s.kvHeadStart(), s.kvHeadEnd(), s.feedForwardStart(),
                s.feedForwardEnd()), key -> computeWeightBytes(layer, s));
    }

    private record ShardKey(int layer, int kvStart, int kvEnd, int ffStart, int ffEnd) {
    }

    private long computeWeightBytes(int layer, CardShard s) {
        long bytes = 0;
        for (String name : ROW_SPLIT) {
            bytes += rows(name, s) * require(blockTensor(layer, name)).bytesPerRow();
        }
        for (String name : COLUMN_SPLIT) {
            TensorShape t = require(blockTensor(layer, name));
            bytes += t.rowLength() == 0 ? 0 : t.bytes() / t.rowLength() * columns(name, s);
        }
        for (String name : NORMS) {
            bytes += tensor(blockTensor(layer, name)).map(TensorShape::bytes).orElse(0L);
        }
        return bytes;
    }

    /** Per tensor of the block: {name, bytes on this shard, rows/columns/whole}. */
    List<Object[]> tensorBytes(int layer, CardShard s) {
        List<Object[]> out = new ArrayList<>();
        for (String name : ROW_SPLIT) {
            out.add(new Object[] {blockTensor(layer, name), rows(name, s) * require(blockTensor(layer, name)).bytesPerRow(),
                "rows"});
        }
        for (String name : COLUMN_SPLIT) {
            TensorShape t = require(blockTensor(layer, name));
            out.add(new Object[] {blockTensor(layer, name),
                t.rowLength() == 0 ? 0L : t.bytes() / t.rowLength() * columns(name, s), "columns"});
        }
        for (String name : NORMS) {
            tensor(blockTensor(layer, name)).ifPresent(t -> out.add(new Object[] {t.name(), t.bytes(), "whole"}));
        }
        return out;
    }

    long kvCacheBytes(CardShard s) {
        return 2L * context * (s.kvHeadEnd() - s.kvHeadStart()) * model.headDimension() * Float.BYTES;
    }

    /** Bytes of the head's rows [from, to) of h equal shares, and of the output norm every head card holds. */
    long headShareBytes(int share, int h) {
        long rows = (long) (share + 1) * head.rows() / h - (long) share * head.rows() / h;
        return rows * head.bytesPerRow() + outputNormBytes;
    }

    private long rows(String name, CardShard s) {
        int groupHeads = model.heads() / model.kvHeads();
        int headDim = model.headDimension();
        return switch (name) {
            case "attn_q" -> (long) (s.kvHeadEnd() - s.kvHeadStart()) * groupHeads * headDim;
            case "attn_k", "attn_v" -> (long) (s.kvHeadEnd() - s.kvHeadStart()) * headDim;
            case "ffn_gate", "ffn_up" -> s.feedForwardEnd() - s.feedForwardStart();
            default -> throw new IllegalArgumentException(name);
        };
    }

    private long columns(String name, CardShard s) {
        return switch (name) {
            case "attn_output" -> (long) (s.kvHeadEnd() - s.kvHeadStart()) * (model.heads() / model.kvHeads())
                    * model.headDimension();
            case "ffn_down" -> s.feedForwardEnd() - s.feedForwardStart();
            default -> throw new IllegalArgumentException(name);
        };
    }

    private Optional<TensorShape> tensor(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    static String blockTensor(int layer, String name) {
        return "blk." + layer + "." + name + ".weight";
    }

    private TensorShape require(String name) {
        return tensor(name).orElseThrow(() -> new InvalidModelException(
                "model " + model.name() + " has no tensor " + name + "; a llama-family model needs it"));
    }
}
