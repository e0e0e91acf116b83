package org.popsolutions.spanker.strategy.search;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.popsolutions.spanker.api.InvalidModelException;
import org.popsolutions.spanker.api.model.ModelShape;
import org.popsolutions.spanker.api.model.TensorShape;
import org.popsolutions.spanker.api.plan.CardShard;
import org.popsolutions.spanker.api.plan.PlanOptions;
import org.popsolutions.spanker.model.llama.LlamaShards;

/**
 * Bytes of every block's shards, precomputed per tensor-parallel degree. A group of g cards splits a block
 * Megatron-style: key/value heads (with their query heads) evenly, feed-forward rows on the ffn_down block grid;
 * the two norms are replicated on every card of the group. Each card also holds the KV cache of its heads for the
 * requested context (K and V, float32). The arithmetic is model.llama's {@link LlamaShards}, the one the executor
 * places shards by, so what the search costs is what the cards hold.
 */
final class LayerTable {
    static final List<String> ROW_SPLIT = LlamaShards.ROW_SPLIT;
    static final List<String> COLUMN_SPLIT = LlamaShards.COLUMN_SPLIT;
    static final String[] NORMS = {"attn_norm", "ffn_norm"};

    private final ModelShape model;
    private final int context;
    private final TensorShape embedding;
    private final TensorShape head;
    private final long outputNormBytes;
    private final java.util.Map<String, TensorShape> byName = new java.util.HashMap<>();
    private final java.util.Map<ShardKey, Long> weightCache = new java.util.HashMap<>();
    private final java.util.Map<Integer, List<CardShard>> evenSplits = new java.util.HashMap<>();

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

    /** Position i's shard of a block split over g cards, on {@code card}. */
    CardShard shard(int card, int position, int g) {
        CardShard s = evenSplits.computeIfAbsent(g, n -> {
            int[] positions = new int[n];
            for (int i = 0; i < n; i++) {
                positions[i] = i;
            }
            return LlamaShards.evenShards(model, positions);
        }).get(position);
        return new CardShard(card, s.kvHeadStart(), s.kvHeadEnd(), s.feedForwardStart(), s.feedForwardEnd());
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
        for (Object[] tensor : tensorBytes(layer, s)) {
            bytes += (Long) tensor[1];
        }
        return bytes;
    }

    /** Per tensor of the block: {name, bytes on this shard, rows/columns/whole}. */
    List<Object[]> tensorBytes(int layer, CardShard s) {
        List<Object[]> out = new ArrayList<>();
        for (String name : ROW_SPLIT) {
            out.add(new Object[] {blockTensor(layer, name), LlamaShards.shardBytes(model,
                    require(blockTensor(layer, name)), name, s), "rows"});
        }
        for (String name : COLUMN_SPLIT) {
            out.add(new Object[] {blockTensor(layer, name), LlamaShards.shardBytes(model,
                    require(blockTensor(layer, name)), name, s), "columns"});
        }
        for (String name : NORMS) {
            tensor(blockTensor(layer, name)).ifPresent(t -> out.add(new Object[] {t.name(), t.bytes(), "whole"}));
        }
        return out;
    }

    long kvCacheBytes(CardShard s) {
        return LlamaShards.kvCacheBytes(model.headDimension(), s, context);
    }

    /** Bytes of the head's rows [from, to) of h equal shares, and of the output norm every head card holds. */
    long headShareBytes(int share, int h) {
        return LlamaShards.headRows(head.rows(), share, h).length() * head.bytesPerRow() + outputNormBytes;
    }

    /** Bytes of the logits head card {@code share} of h computes (its rows, float32), which the host reads. */
    long logitsShareBytes(int share, int h) {
        return (long) LlamaShards.headRows(head.rows(), share, h).length() * Float.BYTES;
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
