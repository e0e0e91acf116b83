package org.popsolutions.spanker.api.card;

/** How a matrix product treats the float32 activations (the same two modes as ggml's CPU backend and the host). */
public enum ActivationMode {
    /**
     * As ggml's CPU backend: the activation is first quantized to the weight type's companion format (Q8_0 for
     * Q4_0/Q8_0, Q8_1 for Q4_1, Q8_K for k-quants, F16/BF16 for F16/BF16 weights), blocks multiplied with exact
     * integer sums times the scales. Wire code 0.
     */
    GGML,
    /** The weights are dequantized and multiplied by the float32 activation as is. Wire code 1. */
    FLOAT
}
