package org.popsolutions.spanker.ggml.ops;

import java.nio.FloatBuffer;
import java.util.Arrays;
import org.popsolutions.spanker.api.card.Combine;

/**
 * Each op of {@link org.popsolutions.spanker.api.card.Op} as arithmetic over float32 ranges ({@code array, at,
 * length}), in ggml's CPU order where it matters, as the SPI's op documentation states. The caller checks operands
 * and owns the memory; nothing here allocates.
 */
public final class CardOps {
    private static final AttentionLanes LANES = AttentionLanes.BEST;

    private CardOps() {
    }

    /** RMSNorm: out = x · 1/√(mean(x²) + ε) · w, the sum of squares in double. */
    public static void rmsNorm(float[] x, int xAt, float[] w, int wAt, float[] out, int outAt, int length,
            float epsilon) {
        double sum = 0;
        for (int i = 0; i < length; i++) {
            float v = x[xAt + i];
            sum += v * v;
        }
        float mean = (float) (sum / length);
        float scale = 1.0f / (float) Math.sqrt(mean + epsilon);
        for (int i = 0; i < length; i++) {
            out[outAt + i] = (x[xAt + i] * scale) * w[wAt + i];
        }
    }

    /** cos and sin of θ_i = position·base^(−2i/headDimension) for each of {@code cos.length} pairs, in double. */
    public static void ropeAngles(int position, float base, int headDimension, float[] cos, float[] sin) {
        for (int i = 0; i < cos.length; i++) {
            double theta = position * Math.pow(base, -2.0 * i / headDimension);
            cos[i] = (float) Math.cos(theta);
            sin[i] = (float) Math.sin(theta);
        }
    }

    /**
     * {@link #ropeAngles(int, float, int, float[], float[])}, the same values, copied from this thread's last call when
     * that was for the same position, base, head dimension and pair count: a decode step's ropes (a query's and a
     * key's in every block, 44 for TinyLlama) all ask for its one position, and each pair costs a power, a cosine and a
     * sine in double.
     */
    public static void ropeAnglesOfThread(int position, float base, int headDimension, float[] cos, float[] sin) {
        LastRopeAngles last = LAST_ROPE_ANGLES.get();
        int pairs = cos.length;
        if (!last.valid || last.position != position || Float.floatToRawIntBits(last.base) != Float.floatToRawIntBits(base)
                || last.headDimension != headDimension || last.pairs != pairs) {
            last.valid = false;
            if (last.cos.length < pairs) {
                last.cos = new float[pairs];
                last.sin = new float[pairs];
            }
            ropeAngles(position, base, headDimension, cos, sin);
            System.arraycopy(cos, 0, last.cos, 0, pairs);
            System.arraycopy(sin, 0, last.sin, 0, pairs);
            last.position = position;
            last.base = base;
            last.headDimension = headDimension;
            last.pairs = pairs;
            last.valid = true;
            return;
        }
        System.arraycopy(last.cos, 0, cos, 0, pairs);
        System.arraycopy(last.sin, 0, sin, 0, pairs);
    }

    /** A thread's last angles of {@link #ropeAnglesOfThread}. */
    private static final class LastRopeAngles {
        boolean valid;
        int position;
        float base;
        int headDimension;
        int pairs;
        float[] cos = new float[0];
        float[] sin = new float[0];
    }

    private static final ThreadLocal<LastRopeAngles> LAST_ROPE_ANGLES = ThreadLocal.withInitial(LastRopeAngles::new);

    /** RoPE in place: each head's first {@code 2·cos.length} values rotated pairwise (ggml's "normal" mode). */
    public static void rope(float[] v, int at, int heads, int headDimension, float[] cos, float[] sin) {
        for (int h = 0; h < heads; h++) {
            int base = at + h * headDimension;
            for (int i = 0; i < cos.length; i++) {
                float x0 = v[base + 2 * i];
                float x1 = v[base + 2 * i + 1];
                v[base + 2 * i] = x0 * cos[i] - x1 * sin[i];
                v[base + 2 * i + 1] = x0 * sin[i] + x1 * cos[i];
            }
        }
    }

    /**
     * One query head's attention over cache rows 0..position: scores q·k scaled by 1/√d, softmax, the weighted sum of
     * the values added into {@code out} (which the caller zeroes). The caches are rows of {@code kvWidth} values; the
     * head reads its kv head's {@code d} values from {@code kvAt} in each row.
     *
     * @param scores scratch of at least position + 1 values from {@code scoresAt}
     */
    public static void attentionHead(float[] q, int qAt, FloatBuffer keys, FloatBuffer values, int kvWidth, int kvAt,
            int d, int position, float scale, float[] scores, int scoresAt, float[] out, int outAt) {
        attentionHeads(q, qAt, 1, keys, values, kvWidth, kvAt, d, position, scale, scores, scoresAt, 0, out, outAt);
    }

    /**
     * {@link #attentionHead} for {@code heads} consecutive query heads that share one kv head (grouped-query
     * attention): head j's query at {@code qAt + j·d}, its output at {@code outAt + j·d}, its scores at
     * {@code scoresAt + j·scoresStride}. Each head's results are {@link #attentionHead}'s plain loops' bit for bit.
     */
    public static void attentionHeads(float[] q, int qAt, int heads, FloatBuffer keys, FloatBuffer values, int kvWidth,
            int kvAt, int d, int position, float scale, float[] scores, int scoresAt, int scoresStride, float[] out,
            int outAt) {
        // The kv head's rows are copied once for all its query heads from the (off-heap) cache into a per-thread
        // array: the keys transposed (value i of every position side by side), the values as rows. A score is then a
        // sum over i in i's order of q[i]·k[t][i] for many positions t at once, one per vector lane, each the plain
        // loop's term by term (multiply, then add: no fused multiply-add); the values are added per element in
        // position order, elements in lanes (AttentionLanes).
        float[] rows = kvHeadRows(keys, values, kvWidth, kvAt, d, position + 1);
        attentionHeadsOnRows(q, qAt, heads, rows, position + 1, d, position, scale, scores, scoresAt, scoresStride, out,
                outAt);
    }

    /**
     * Copies cache rows [0, rows) of one kv head (its {@code d} values from {@code kvAt} in each row of {@code kvWidth})
     * into this thread's scratch for {@link #attentionHeadsOnRows}: the keys transposed (value i of every position side
     * by side), then the values as rows. Returns the scratch, valid until the thread's next copy.
     */
    public static float[] kvHeadRows(FloatBuffer keys, FloatBuffer values, int kvWidth, int kvAt, int d, int rows) {
        float[] scratch = attentionRows(kvHeadRowsLength(d, rows));
        copyKvHeadRows(keys, values, kvWidth, kvAt, d, scratch, rows, 0, rows);
        return scratch;
    }

    /** The floats a copy of {@code rows} cache rows of one kv head of {@code d} values takes ({@link #copyKvHeadRows}). */
    public static int kvHeadRowsLength(int d, int rows) {
        return 2 * d * rows + d;
    }

    /**
     * Copies cache rows [from, to) of one kv head into {@code copy}, which holds {@code rows} of them in
     * {@link #kvHeadRows}'s layout (at least {@link #kvHeadRowsLength} floats): a copy kept from token to token is
     * brought up to date by copying only the rows written since, and {@link #attentionHeadsOnRows} reads it with
     * {@code copied = rows}.
     */
    public static void copyKvHeadRows(FloatBuffer keys, FloatBuffer values, int kvWidth, int kvAt, int d, float[] copy,
            int rows, int from, int to) {
        int valuesAt = d * rows;
        int rowAt = 2 * d * rows;
        for (int t = from; t < to; t++) {
            keys.get(t * kvWidth + kvAt, copy, rowAt, d);
            for (int i = 0; i < d; i++) {
                copy[i * rows + t] = copy[rowAt + i];
            }
            values.get(t * kvWidth + kvAt, copy, valuesAt + t * d, d);
        }
    }

    /**
     * {@link #attentionHeads} over rows {@link #kvHeadRows} copied ({@code copied} of them, at least position + 1):
     * heads attending up to an earlier position than the last copied one (a prompt pass's tokens, each at its own
     * position) read the one copy. The same values bit for bit as {@link #attentionHeads} at that position.
     */
    public static void attentionHeadsOnRows(float[] q, int qAt, int heads, float[] kvRows, int copied, int d,
            int position, float scale, float[] scores, int scoresAt, int scoresStride, float[] out, int outAt) {
        if (position >= copied) {
            throw new IllegalArgumentException("position " + position + " is past the " + copied + " rows copied");
        }
        int rows = position + 1;
        int valuesAt = d * copied;
        for (int j = 0; j < heads; j++) {
            int sj = scoresAt + j * scoresStride;
            LANES.scores(q, qAt + j * d, kvRows, 0, rows, copied, d, scale, scores, sj);
            softmax(scores, sj, rows);
            LANES.addWeighted(scores, sj, rows, kvRows, valuesAt, d, out, outAt + j * d);
        }
    }

    private static final ThreadLocal<float[]> ATTENTION_ROWS = new ThreadLocal<>();

    /** The per-thread scratch, grown to a power of two: a decode step reuses it as the context grows. */
    private static float[] attentionRows(int length) {
        float[] rows = ATTENTION_ROWS.get();
        if (rows == null || rows.length < length) {
            rows = new float[Math.max(1024, Integer.highestOneBit(length - 1) << 1)];
            ATTENTION_ROWS.set(rows);
        }
        return rows;
    }

    /**
     * In place over [at, at + n): exp(x − max) / Σ, the sum in double, e^x by the float polynomial SwiGLU uses (within
     * 2 ulp; the same value in vector lanes and plain loops). Not {@code Math.exp}: one call per score, which cannot
     * go into vector lanes, was a third of a decode step's attention (32 heads × ~150 positions a block).
     */
    public static void softmax(float[] x, int at, int n) {
        float max = LANES.max(x, at, n);
        LANES.expMinus(x, at, n, max);
        double sum = 0;
        for (int i = at; i < at + n; i++) {
            sum += x[i];
        }
        float inv = (float) (1.0 / sum);
        for (int i = at; i < at + n; i++) {
            x[i] *= inv;
        }
    }

    /**
     * SwiGLU: out = silu(gate) · up, silu(x) = x / (1 + e^−x), e^−x in float operations (within 2 ulp; the same value in
     * vector lanes and plain loops, so every split of a prompt pass's values gives the token-by-token bits).
     */
    public static void swiGlu(float[] gate, int gateAt, float[] up, int upAt, float[] out, int outAt, int length) {
        LANES.swiGlu(gate, gateAt, up, upAt, out, outAt, length);
    }

    /** out = a + b. */
    public static void add(float[] a, int aAt, float[] b, int bAt, float[] out, int outAt, int length) {
        for (int i = 0; i < length; i++) {
            out[outAt + i] = a[aAt + i] + b[bAt + i];
        }
    }

    /** v = v / divisor (AVG's last step). */
    public static void divide(float[] v, int at, int length, float divisor) {
        for (int i = at; i < at + length; i++) {
            v[i] = v[i] / divisor;
        }
    }

    /**
     * Origin tags before a tagged MAX/MIN: every value tagged with its card; on cards other than 0 a NaN becomes the
     * combine's neutral value (−∞ for MAX, +∞ for MIN) tagged 255, so only card 0's NaN wins (SPEC §4) and a hidden NaN
     * loses every tie, a real ±∞ from any card keeping its own bits.
     */
    public static void tagOrigins(Combine combine, float[] values, int at, byte[] tags, int tagAt, int length,
            int card) {
        Arrays.fill(tags, tagAt, tagAt + length, (byte) card);
        if (card == 0) {
            return;
        }
        float neutral = combine == Combine.MAX ? Float.NEGATIVE_INFINITY : Float.POSITIVE_INFINITY;
        for (int i = 0; i < length; i++) {
            if (Float.isNaN(values[at + i])) {
                values[at + i] = neutral;
                tags[tagAt + i] = (byte) 0xFF;
            }
        }
    }

    /**
     * acc ⊕= in over {@code length} values, as {@link Combine} documents (tags null when untagged). Tagged MAX/MIN
     * keep SPEC §4's fold in any order: a NaN in the accumulator stays, a NaN coming in wins, a tie goes to the lower
     * origin tag; so the winner does not depend on which side holds which value.
     */
    public static void combine(Combine op, float[] acc, int accAt, byte[] accTags, int accTagAt, float[] in, int inAt,
            byte[] inTags, int inTagAt, int length) {
        switch (op) {
            case COPY -> {
                System.arraycopy(in, inAt, acc, accAt, length);
                if (accTags != null) {
                    System.arraycopy(inTags, inTagAt, accTags, accTagAt, length);
                }
            }
            case SUM -> {
                for (int i = 0; i < length; i++) {
                    acc[accAt + i] = acc[accAt + i] + in[inAt + i];
                }
            }
            case MAX, MIN -> {
                boolean max = op == Combine.MAX;
                if (accTags == null) {
                    for (int i = 0; i < length; i++) {
                        float a = acc[accAt + i];
                        float v = in[inAt + i];
                        if (max ? v > a : v < a) {
                            acc[accAt + i] = v;
                        }
                    }
                    return;
                }
                for (int i = 0; i < length; i++) {
                    float a = acc[accAt + i];
                    float v = in[inAt + i];
                    if (!Float.isNaN(a) && (Float.isNaN(v) || (max ? v > a : v < a)
                            || v == a && (inTags[inTagAt + i] & 0xFF) < (accTags[accTagAt + i] & 0xFF))) {
                        acc[accAt + i] = v;
                        accTags[accTagAt + i] = inTags[inTagAt + i];
                    }
                }
            }
        }
    }
}
