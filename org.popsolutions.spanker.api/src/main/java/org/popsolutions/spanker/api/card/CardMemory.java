package org.popsolutions.spanker.api.card;

/**
 * A card's DDR as its allocator sees it.
 *
 * @param capacityBytes the configured capacity: the one that counts for every allocation
 * @param usedBytes bytes held by live buffers and by what the card keeps for them (a mock card's weights repacked
 *        for its kernels)
 * @param buffers live buffers
 */
public record CardMemory(long capacityBytes, long usedBytes, int buffers) {
    public long freeBytes() {
        return capacityBytes - usedBytes;
    }
}
