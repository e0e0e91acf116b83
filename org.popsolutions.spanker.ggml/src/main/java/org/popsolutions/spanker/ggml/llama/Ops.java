package org.popsolutions.spanker.ggml.llama;

/** The element-wise steps of the llama forward pass, in ggml's CPU operation order where it matters. */
final class Ops {
    private Ops() {
    }

    /**
     * out = x / sqrt(mean(x²) + eps) · w. As ggml: squares summed in double, the scale in float, x·scale then ·w
     * as two float roundings.
     */
    static void rmsNorm(float[] x, float[] weight, float eps, float[] out) {
        double sum = 0;
        for (float v : x) {
            sum += v * v;
        }
        float mean = (float) (sum / x.length);
        float scale = 1.0f / (float) Math.sqrt(mean + eps);
        for (int i = 0; i < x.length; i++) {
            out[i] = (x[i] * scale) * weight[i];
        }
    }

    /** cos and sin of θ_i = pos·base^(−2i/headDim) for the ropeDims/2 rotated pairs of one position. */
    static float[][] ropeAngles(int position, float base, int headDim, int ropeDims) {
        float[] cos = new float[ropeDims / 2];
        float[] sin = new float[ropeDims / 2];
        for (int i = 0; i < ropeDims / 2; i++) {
            double theta = position * Math.pow(base, -2.0 * i / headDim);
            cos[i] = (float) Math.cos(theta);
            sin[i] = (float) Math.sin(theta);
        }
        return new float[][] {cos, sin};
    }

    /** Llama RoPE: rotates the adjacent pairs (2i, 2i+1) of each head of {@code v} by θ_i. */
    static void rope(float[] v, int heads, int headDim, float[][] angles) {
        float[] cos = angles[0];
        float[] sin = angles[1];
        for (int h = 0; h < heads; h++) {
            int base = h * headDim;
            for (int i = 0; i < cos.length; i++) {
                float a = v[base + 2 * i];
                float b = v[base + 2 * i + 1];
                v[base + 2 * i] = a * cos[i] - b * sin[i];
                v[base + 2 * i + 1] = a * sin[i] + b * cos[i];
            }
        }
    }

    /** In place over [0, n): exp(x − max) / Σ, the sum in double. */
    static void softmax(float[] x, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, x[i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float e = (float) Math.exp(x[i] - max);
            x[i] = e;
            sum += e;
        }
        float inv = (float) (1.0 / sum);
        for (int i = 0; i < n; i++) {
            x[i] *= inv;
        }
    }

    /** gate[i] = silu(gate[i])·up[i], silu(x) = x / (1 + e^−x). */
    static void swiglu(float[] gate, float[] up) {
        for (int i = 0; i < gate.length; i++) {
            float g = gate[i];
            gate[i] = g / (1.0f + (float) Math.exp(-g)) * up[i];
        }
    }

    static void add(float[] into, float[] x) {
        for (int i = 0; i < into.length; i++) {
            into[i] += x[i];
        }
    }
}
