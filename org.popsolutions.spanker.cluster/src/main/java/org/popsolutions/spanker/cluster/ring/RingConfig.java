package org.popsolutions.spanker.cluster.ring;

import java.time.Duration;

/**
 * Sizes of one orchestrator's rings (Linqu's defaults: window 64, heap 1 MiB, 512 dependency entries, 256
 * tensors) and how long a full ring waits before the submission fails.
 */
public record RingConfig(int window, long heapBytes, int dependencyEntries, int tensorEntries,
        Duration backPressureTimeout) {
    public static final RingConfig DEFAULT = new RingConfig(64, 1 << 20, 512, 256, Duration.ofSeconds(30));

    public RingConfig {
        if (window < 2 || Integer.bitCount(window) != 1) {
            throw new IllegalArgumentException("task ring window must be a power of two of at least 2, was "
                    + window);
        }
        if (heapBytes <= 0 || dependencyEntries < 2 || tensorEntries < 1) {
            throw new IllegalArgumentException("heap, dependency pool and tensor map must be positive");
        }
    }
}
