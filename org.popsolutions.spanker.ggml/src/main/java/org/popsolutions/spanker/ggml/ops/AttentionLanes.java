package org.popsolutions.spanker.ggml.ops;

/**
 * Attention's two inner loops and SwiGLU, as plain loops or in vector lanes; both give the plain loops' values bit for
 * bit (each lane does one position's or one element's own arithmetic in the plain order, multiply then add, no fused
 * multiply-add). The vector ones run where the Vector API is readable and 256 bits wide (as the portable kernels),
 * else the plain.
 */
abstract class AttentionLanes {
    static final AttentionLanes BEST = select();

    /**
     * scores[at + t] = (Σ_i q[qAt + i] · keys[keysAt + i · stride + t], in i's order) · scale for t in [0, rows): the
     * keys transposed (value i of every position side by side, {@code stride} ≥ rows positions per value).
     */
    abstract void scores(float[] q, int qAt, float[] keys, int keysAt, int rows, int stride, int d, float scale,
            float[] scores, int at);

    /** out[outAt + i] += Σ_t w[wAt + t] · values[valuesAt + t · d + i], added in t's order, for i in [0, d). */
    abstract void addWeighted(float[] w, int wAt, int rows, float[] values, int valuesAt, int d, float[] out, int outAt);

    /** The largest of x[at, at + n) by {@link Math#max} (NaN if any is; −∞ for none): the same in any order. */
    abstract float max(float[] x, int at, int n);

    /** x[i] = e^(x[i] − max) by {@link Plain#exp} for i in [at, at + n), the difference in float. */
    abstract void expMinus(float[] x, int at, int n, float max);

    /** out[outAt + i] = silu(gate[gateAt + i]) · up[upAt + i] for i in [0, length), e^−g by {@link Plain#exp}. */
    abstract void swiGlu(float[] gate, int gateAt, float[] up, int upAt, float[] out, int outAt, int length);

    /**
     * exp's argument above which the result is +∞: ln 2^127.5, the last x whose 2^n is a float (e^x is within a factor
     * 1.5 of the largest float there; where silu reads it, x / (1 + e^x) is then below 1e−36 either way).
     */
    static final float EXP_HIGH = 88.37626f;
    /** exp's argument is raised to this before the reduction (below it e^x is under 2^−126, and 1 + e^x is 1). */
    static final float EXP_LOW = -87.33654f;
    static final float LOG2E = 1.44269504088896341f;
    /** x·log2e + 1.5·2^23 − 1.5·2^23 rounds x·log2e to the nearest whole number (ties to even) in float arithmetic. */
    static final float ROUNDER = 12582912f;
    /** ROUNDER's bits: the bits of ROUNDER + n are ROUNDER_BITS + n for the whole numbers n that occur. */
    static final int ROUNDER_BITS = 0x4B400000;
    /** ln 2 in two parts (Cody and Waite): n·LN2_HIGH is exact for the n that occur. */
    static final float LN2_HIGH = 0.693359375f;
    static final float LN2_LOW = -2.12194440e-4f;
    /** The minimax polynomial of e^r on [−ln2/2, ln2/2] after 1 + r (Moshier's Cephes expf coefficients). */
    static final float P0 = 1.9875691500e-4f;
    static final float P1 = 1.3981999507e-3f;
    static final float P2 = 8.3334519073e-3f;
    static final float P3 = 4.1665795894e-2f;
    static final float P4 = 1.6666665459e-1f;
    static final float P5 = 5.0000001201e-1f;

    private static AttentionLanes select() {
        if (!Boolean.getBoolean("spanker.kernels.scalar")) {
            try {
                Class<?> lanes = Class.forName("org.popsolutions.spanker.ggml.ops.VectorAttentionLanes");
                if ((Boolean) lanes.getMethod("usable").invoke(null)) {
                    return (AttentionLanes) lanes.getDeclaredConstructor().newInstance();
                }
            } catch (ReflectiveOperationException | LinkageError e) {
                // no readable incubator module: the plain loops
            }
        }
        return new Plain();
    }

    /** The plain loops. */
    static final class Plain extends AttentionLanes {
        /**
         * e^x in float within 2 ulp of the exact value (tested), by float operations only (no call, no double):
         * x = n·ln2 + r, e^x = 2^n · p(r). +∞ above {@link #EXP_HIGH}, NaN for NaN; below {@link #EXP_LOW} the value at
         * EXP_LOW (about 1.2e−38, where silu's 1 + e^x is 1 already). The vector lanes do exactly these operations in
         * this order.
         */
        static float exp(float x) {
            if (x > EXP_HIGH) {
                return Float.POSITIVE_INFINITY;
            }
            float c = Math.max(x, EXP_LOW);
            float t = c * LOG2E + ROUNDER;
            float n = t - ROUNDER;
            float r = c - n * LN2_HIGH;
            r = r - n * LN2_LOW;
            float z = r * r;
            float p = (((((P0 * r + P1) * r + P2) * r + P3) * r + P4) * r + P5) * z + r + 1f;
            // t's low mantissa bits hold n (no float-to-int conversion: Java 17's vector lanes have none on AVX2)
            return p * Float.intBitsToFloat((Float.floatToRawIntBits(t) - (ROUNDER_BITS - 127)) << 23);
        }

        @Override
        float max(float[] x, int at, int n) {
            float max = Float.NEGATIVE_INFINITY;
            for (int i = at; i < at + n; i++) {
                max = Math.max(max, x[i]);
            }
            return max;
        }

        @Override
        void expMinus(float[] x, int at, int n, float max) {
            for (int i = at; i < at + n; i++) {
                x[i] = exp(x[i] - max);
            }
        }

        @Override
        void swiGlu(float[] gate, int gateAt, float[] up, int upAt, float[] out, int outAt, int length) {
            for (int i = 0; i < length; i++) {
                float x = gate[gateAt + i];
                out[outAt + i] = x / (1.0f + exp(-x)) * up[upAt + i];
            }
        }

        @Override
        void scores(float[] q, int qAt, float[] keys, int keysAt, int rows, int stride, int d, float scale,
                float[] scores, int at) {
            for (int t = 0; t < rows; t++) {
                float s = 0;
                for (int i = 0; i < d; i++) {
                    s += q[qAt + i] * keys[keysAt + i * stride + t];
                }
                scores[at + t] = s * scale;
            }
        }

        @Override
        void addWeighted(float[] w, int wAt, int rows, float[] values, int valuesAt, int d, float[] out, int outAt) {
            addWeighted(w, wAt, rows, values, valuesAt, d, d, out, outAt);
        }

        /** {@link #addWeighted} for {@code count} elements of rows {@code stride} values apart. */
        static void addWeighted(float[] w, int wAt, int rows, float[] values, int valuesAt, int stride, int count,
                float[] out, int outAt) {
            for (int t = 0; t < rows; t++) {
                float wt = w[wAt + t];
                for (int i = 0; i < count; i++) {
                    out[outAt + i] += wt * values[valuesAt + t * stride + i];
                }
            }
        }
    }
}
