package org.popsolutions.spanker.api.plan;

/**
 * @param cardMemoryBytes capacity of each card (rev-A: 4 GB DDR3L)
 * @param contextLength tokens the KV cache must hold
 */
public record PlanOptions(long cardMemoryBytes, int contextLength) {
    public static final long REV_A_CARD_MEMORY = 4_294_967_296L;

    public PlanOptions {
        if (cardMemoryBytes <= 0) {
            throw new IllegalArgumentException("card memory must be > 0 bytes, got " + cardMemoryBytes);
        }
        if (contextLength < 1) {
            throw new IllegalArgumentException("context length must be >= 1, got " + contextLength);
        }
    }
}
