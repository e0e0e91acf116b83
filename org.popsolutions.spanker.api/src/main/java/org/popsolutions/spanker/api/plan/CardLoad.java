package org.popsolutions.spanker.api.plan;

/** What a plan puts on one card: weights and the KV cache, against the card's capacity. */
public record CardLoad(int card, long weightBytes, long kvCacheBytes, long capacityBytes) {
    public long totalBytes() {
        return weightBytes + kvCacheBytes;
    }
}
