package org.popsolutions.spanker.api.topology;

import java.util.Objects;

/**
 * One accelerator card.
 *
 * @param index position in the topology, 0-based; collectives order their results by it
 * @param name human-readable name, e.g. {@code mock0} or {@code /dev/spanker1}
 * @param provider the device provider that owns the card, e.g. {@code mock}
 * @param memoryBytes card-local DDR capacity
 * @param timeDilation how many times slower than the hardware the card runs every modelled time (an emulated card
 *        dilated so that its host's CPU keeps up with the modelled pace; 1 for real hardware and the mock): times
 *        measured on it are divided by it to read as the hardware's
 */
public record Card(int index, String name, String provider, long memoryBytes, double timeDilation) {
    /** An undilated card. */
    public Card(int index, String name, String provider, long memoryBytes) {
        this(index, name, provider, memoryBytes, 1);
    }

    public Card {
        if (!(timeDilation >= 1)) {
            throw new IllegalArgumentException("card time dilation must be >= 1, got " + timeDilation);
        }
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
