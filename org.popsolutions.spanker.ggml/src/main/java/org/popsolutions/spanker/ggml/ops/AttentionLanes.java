package org.popsolutions.spanker.ggml.ops;

/**
 * Attention's two inner loops, as plain loops or in vector lanes; both give the plain loops' values bit for bit (each
 * lane does one position's or one element's own sum in the plain order, multiply then add, no fused multiply-add).
 * The vector ones run where the Vector API is readable and 256 bits wide (as the portable kernels), else the plain.
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
