package org.popsolutions.spanker.ggml.kernel;

/** How a dot product treats the activation vector. */
public enum DotMode {
    /**
     * As ggml's CPU backend: the activation is first converted to the weight type's companion format (Q8_0 for
     * Q4_0/Q8_0, Q8_1 for Q4_1, Q8_K for k-quants, F16/BF16 for F16/BF16 weights) and blocks are multiplied
     * with exact integer sums times the two scales.
     */
    GGML,
    /** The weights are dequantized and multiplied by the float32 activation as is. */
    FLOAT
}
