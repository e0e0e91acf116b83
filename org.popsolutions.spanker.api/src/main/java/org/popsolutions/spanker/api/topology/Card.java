package org.popsolutions.spanker.api.topology;

import java.util.Objects;

/**
 * One accelerator card.
 *
 * @param index position in the topology, 0-based; collectives order their results by it
 * @param name human-readable name, e.g. {@code mock0} or {@code /dev/spanker1}
 * @param provider the device provider that owns the card, e.g. {@code mock}
 * @param memoryBytes card-local DDR capacity
 */
public record Card(int index, String name, String provider, long memoryBytes) {
    public Card {
        if (index < 0) {
            throw new IllegalArgumentException("card index must be >= 0, got " + index);
        }
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(provider, "provider");
        if (memoryBytes < 0) {
            throw new IllegalArgumentException("card memory must be >= 0 bytes, got " + memoryBytes);
        }
    }
}
