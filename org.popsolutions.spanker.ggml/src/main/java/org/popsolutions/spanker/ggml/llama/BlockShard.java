package org.popsolutions.spanker.ggml.llama;

import java.util.Arrays;
import org.popsolutions.spanker.api.plan.CardShard;
import org.popsolutions.spanker.ggml.gguf.GgufFile;

/**
 * One card's share of one transformer block: the query heads of its key/value heads [kvStart, kvEnd) with their
 * rows of Q, K, V and columns of the output projection, its feed-forward rows [ffStart, ffEnd) of gate/up and
 * columns of down, both norms, and a float32 KV cache for its own key/value heads. A card holding the whole
 * block computes exactly the single-card forward pass.
 */
final class BlockShard {
    final int layer;
    final CardShard shard;
    private final LlamaConfig config;
    private final float[] attnNorm;
    private final float[] ffnNorm;
    private final Matrix q;
    private final Matrix k;
    private final Matrix v;
    private final Matrix o;
    private final Matrix gate;
    private final Matrix up;
    private final Matrix down;
    private final int localHeads;
    private final int localKv;
    private final float[] keys;
    private final float[] values;

    BlockShard(GgufFile file, LlamaConfig config, int layer, CardShard shard, int contextLength, boolean onHeap) {
        this.layer = layer;
        this.shard = shard;
        this.config = config;
        String p = "blk." + layer + ".";
        int hd = config.headDimension();
        int group = config.groupSize();
        this.localKv = shard.kvHeadEnd() - shard.kvHeadStart();
        this.localHeads = localKv * group;
        int qFrom = shard.kvHeadStart() * group * hd;
        int qTo = shard.kvHeadEnd() * group * hd;
        int kvFrom = shard.kvHeadStart() * hd;
        int kvTo = shard.kvHeadEnd() * hd;
        this.attnNorm = Matrix.vector(file, p + "attn_norm.weight");
        this.ffnNorm = Matrix.vector(file, p + "ffn_norm.weight");
        this.q = Matrix.of(file, p + "attn_q.weight").rows(qFrom, qTo).onHeap(onHeap);
        this.k = Matrix.of(file, p + "attn_k.weight").rows(kvFrom, kvTo).onHeap(onHeap);
        this.v = Matrix.of(file, p + "attn_v.weight").rows(kvFrom, kvTo).onHeap(onHeap);
        this.o = Matrix.of(file, p + "attn_output.weight").columns(qFrom, qTo).onHeap(onHeap);
        this.gate = Matrix.of(file, p + "ffn_gate.weight").rows(shard.feedForwardStart(), shard.feedForwardEnd()).onHeap(onHeap);
        this.up = Matrix.of(file, p + "ffn_up.weight").rows(shard.feedForwardStart(), shard.feedForwardEnd()).onHeap(onHeap);
        this.down = Matrix.of(file, p + "ffn_down.weight").columns(shard.feedForwardStart(), shard.feedForwardEnd()).onHeap(onHeap);
        this.keys = new float[Math.multiplyExact(contextLength, localKv * hd)];
        this.values = new float[keys.length];
    }

    long weightBytes() {
        return (attnNorm.length + ffnNorm.length) * (long) Float.BYTES + q.bytes() + k.bytes() + v.bytes() + o.bytes()
                + gate.bytes() + up.bytes() + down.bytes();
    }

    long kvCacheBytes() {
        return (keys.length + (long) values.length) * Float.BYTES;
    }

    /** out = this card's part of W_o·attention(rmsnorm(x)) at {@code position}: the sum over its heads only. */
    void attention(CardRuntime card, float[] x, int position, float[] out) {
        if (localKv == 0) {
            Arrays.fill(out, 0);
            return;
        }
        int hd = config.headDimension();
        int kvWidth = localKv * hd;
        int group = config.groupSize();
        float[] xn = new float[x.length];
        Ops.rmsNorm(x, attnNorm, config.rmsEpsilon(), xn);
        float[] query = new float[localHeads * hd];
        float[] key = new float[kvWidth];
        float[] value = new float[kvWidth];
        q.times(card.matVec, xn, query, card.mode);
        k.times(card.matVec, xn, key, card.mode);
        v.times(card.matVec, xn, value, card.mode);
        float[][] angles = Ops.ropeAngles(position, config.ropeBase(), hd, config.ropeDimensions());
        Ops.rope(query, localHeads, hd, angles);
        Ops.rope(key, localKv, hd, angles);
        System.arraycopy(key, 0, keys, position * kvWidth, kvWidth);
        System.arraycopy(value, 0, values, position * kvWidth, kvWidth);

        float[] attended = new float[localHeads * hd];
        float scale = (float) (1.0 / Math.sqrt(hd));
        card.rows.forRows(localHeads, (from, to) -> {
            float[] scores = new float[position + 1];
            for (int h = from; h < to; h++) {
                int qAt = h * hd;
                int kvAt = h / group * hd;
                for (int t = 0; t <= position; t++) {
                    int kAt = t * kvWidth + kvAt;
                    float s = 0;
                    for (int d = 0; d < hd; d++) {
                        s += query[qAt + d] * keys[kAt + d];
                    }
                    scores[t] = s * scale;
                }
                Ops.softmax(scores, position + 1);
                for (int t = 0; t <= position; t++) {
                    float w = scores[t];
                    int vAt = t * kvWidth + kvAt;
                    for (int d = 0; d < hd; d++) {
                        attended[qAt + d] += w * values[vAt + d];
                    }
                }
            }
        });
        o.times(card.matVec, attended, out, card.mode);
    }

    /** out = this card's part of W_down·(silu(W_gate·xn)·(W_up·xn)), xn = rmsnorm(x): its feed-forward rows only. */
    void feedForward(CardRuntime card, float[] x, float[] out) {
        int rows = shard.feedForwardEnd() - shard.feedForwardStart();
        if (rows == 0) {
            Arrays.fill(out, 0);
            return;
        }
        float[] xn = new float[x.length];
        Ops.rmsNorm(x, ffnNorm, config.rmsEpsilon(), xn);
        float[] g = new float[rows];
        float[] u = new float[rows];
        gate.times(card.matVec, xn, g, card.mode);
        up.times(card.matVec, xn, u, card.mode);
        Ops.swiglu(g, u);
        down.times(card.matVec, g, out, card.mode);
    }
}
